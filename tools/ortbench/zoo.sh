#!/usr/bin/env bash
# Regenerates the zoo table of docs/performance.md: every model in
# ../shared/models/zoo plus seed-cnn (float and int8, random weights) in
# qbench, ONNX Runtime (float and its fastest int8 form) and the TFLite
# interpreter compiled to WebAssembly (at batch 64 on a batch-64 copy of the
# file that qbench writes), at 1 and 2 threads and batch 1 and 64; medians
# of alternating rounds. Writes the machine and the
# commit, then the table, to $OUT (default /tmp/ortbench-zoo.md) and the
# full log to $OUT.log.
#
#   bash tools/ortbench/zoo.sh                 # SECONDS_PER_ROUND=1 ROUNDS=3 by default
#   SECONDS_PER_ROUND=0.5 ROUNDS=3 bash tools/ortbench/zoo.sh
#
# Without AVX-512 on both sides (qbench told by GODEBUG, ORT by a patched
# copy of its library, see noavx512/main.go):
#   (cd tools/ortbench && go run ./noavx512 --in $ORT_LIB_ORIG --out /tmp/ort-noavx512/libonnxruntime.so.1)
#   GODEBUG=cpu.avx512f=off,cpu.avx512bw=off ORT_LIB=/tmp/ort-noavx512/libonnxruntime.so.1 bash tools/ortbench/zoo.sh
# As on an AVX2-only CPU (no AVX-512, no AVX-VNNI; AMD Zen 2/3, Intel Haswell-Skylake client):
#   (cd tools/ortbench && go run ./noavx512 --no-avxvnni --in $ORT_LIB_ORIG --out /tmp/ort-avx2only/libonnxruntime.so.1)
#   GODEBUG=cpu.avx512f=off,cpu.avx512bw=off,cpu.avxvnni=off ORT_LIB=/tmp/ort-avx2only/libonnxruntime.so.1 bash tools/ortbench/zoo.sh
#
# Needs node/npm (.ci/install-ort.sh and .ci/install-oracle.sh install ONNX
# Runtime and the TFLite WASM oracle) and cgo.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
out="${OUT:-/tmp/ortbench-zoo.md}"
secs="${SECONDS_PER_ROUND:-1}"
rounds="${ROUNDS:-3}"
zoo="${ZOO:-$root/../shared/models/zoo}"
ortdir="${QBENCH_ORT:-$HOME/.cache/qbench/onnxruntime}"
lib="${ORT_LIB:-$ortdir/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1}"
[ -f "$lib" ] || bash .ci/install-ort.sh
[ -f "$lib" ] || { echo "zoo.sh: no $lib (run .ci/install-ort.sh)"; exit 1; }
bin=$(mktemp -d)/ortbench
(cd tools/ortbench && go build -tags ortbench -o "$bin" .)
{
  echo "Commit \`$(git rev-parse --short HEAD)\`$(git diff --quiet HEAD -- . || echo ' (with uncommitted changes)'), $(date -u '+%Y-%m-%d %H:%M UTC')."
  echo "Machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) vCPUs;" \
    "load average at the start $(cut -d' ' -f1-3 /proc/loadavg)."
  # The settings that change what is measured go into the command line too.
  env=""
  if [ -n "${GODEBUG:-}" ]; then env="GODEBUG=$GODEBUG "; fi
  if [ -n "${ORT_LIB:-}" ]; then env="${env}ORT_LIB=$ORT_LIB "; fi
  if [ -n "${ZOO:-}" ]; then env="${env}ZOO=$ZOO ($(ls "$zoo" | tr '\n' ' ' | sed 's/ $//')) "; fi
  echo "Command: \`${env}SECONDS_PER_ROUND=$secs ROUNDS=$rounds bash tools/ortbench/zoo.sh\` ($rounds alternating rounds of ${secs} s per runtime; images/s, medians)."
  echo
} > "$out"
"$bin" --lib "$lib" --zoo "$zoo" --synthetic --configs 1x1,2x1,1x64,2x64 \
  --seconds "$secs" --rounds "$rounds" --markdown "$out.table" | tee "$out.log"
{
  cat "$out.table"
  echo
  echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
} >> "$out"
rm -f "$out.table" "$bin"
echo "zoo.sh: wrote $out"
