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
# CPU=VARIANT measures both sides as on another x86 CPU: qbench's Go CPU
# detection is told by GODEBUG (set for the ortbench process only), ONNX
# Runtime by a patched copy of its library (see noavx512/main.go), built into
# ~/.cache/qbench/ort-* when missing or older than ORT's own:
#   CPU=avx512       this CPU as it is (the default; AVX-512 with VNNI and VBMI)
#   CPU=cascadelake  Intel Cascade Lake: AVX-512 with VNNI, no VBMI, no AVX-VNNI (ORT unpatched:
#                    MLAS has no VBMI kernel and its AVX-512 choices override its AVX-VNNI ones)
#   CPU=skylake      Intel Skylake-SP/X: AVX-512F/BW, no AVX512-VNNI, no AVX-VNNI, no VBMI
#                    (ORT: ~/.cache/qbench/ort-skx, noavx512 --no-avx512vnni)
#   CPU=avxvnni      AVX2 + AVX-VNNI, no AVX-512 (Intel Alder Lake and later client cores;
#                    ORT: ~/.cache/qbench/ort-noavx512)
#   CPU=avx2         AVX2 only (AMD Zen 2/3, Intel Haswell-Skylake client;
#                    ORT: ~/.cache/qbench/ort-avx2only, noavx512 --no-avxvnni)
#   CPU=skylake ZOO=<dir of symlinks> SECONDS_PER_ROUND=0.5 ROUNDS=3 bash tools/ortbench/zoo.sh
# The variant is named in $OUT's header. Without CPU, GODEBUG and ORT_LIB
# from the environment are used as given (and named in the header), as
# before; with CPU, ORT_LIB and a cpu.* GODEBUG setting are refused.
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
orig="$ortdir/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1"
lib="${ORT_LIB:-$orig}"
# CPU variant: qbench's GODEBUG, the ORT copy (cache folder, noavx512 flags)
# and a description for the header.
cpu="${CPU:-}"
qgodebug="${GODEBUG:-}"
variant=""
if [ -n "$cpu" ]; then
  cache="" patchflags="" cpugodebug=""
  case "$cpu" in
    avx512) variant="AVX-512 with VNNI and VBMI (this CPU as it is)" ;;
    cascadelake)
      # No AVX-VNNI either (a client-core feature); ORT's AVX-512 kernel
      # choices override its AVX-VNNI ones, so its library needs no patch.
      cpugodebug="cpu.avx512vbmi=off,cpu.avxvnni=off"
      variant="Intel Cascade Lake: AVX-512 with VNNI, no VBMI, no AVX-VNNI (ORT unpatched: MLAS has no VBMI kernel)" ;;
    skylake)
      cpugodebug="cpu.avx512vbmi=off,cpu.avx512vnni=off,cpu.avxvnni=off" cache=ort-skx patchflags="--no-avx512vnni"
      variant="Intel Skylake-SP/X: AVX-512F/BW, no AVX512-VNNI, no AVX-VNNI, no VBMI" ;;
    avxvnni)
      cpugodebug="cpu.avx512f=off,cpu.avx512bw=off" cache=ort-noavx512
      variant="AVX2 + AVX-VNNI, no AVX-512 (Intel Alder Lake and later client cores)" ;;
    avx2)
      cpugodebug="cpu.avx512f=off,cpu.avx512bw=off,cpu.avxvnni=off" cache=ort-avx2only patchflags="--no-avxvnni"
      variant="AVX2 only, no AVX-512, no AVX-VNNI (AMD Zen 2/3, Intel Haswell-Skylake client)" ;;
    *) echo "zoo.sh: CPU=$cpu: want avx512, cascadelake, skylake, avxvnni or avx2"; exit 2 ;;
  esac
  if [ -n "${ORT_LIB:-}" ]; then
    echo "zoo.sh: CPU=$cpu picks ORT's library itself; unset ORT_LIB"; exit 2
  fi
  case ",$qgodebug," in
    *,cpu.*) echo "zoo.sh: CPU=$cpu sets qbench's cpu.* GODEBUG itself; remove them from GODEBUG=$qgodebug"; exit 2 ;;
  esac
  if [ -n "$cpugodebug" ]; then qgodebug="${qgodebug:+$qgodebug,}$cpugodebug"; fi
fi
if [ -z "${ORT_LIB:-}" ] && [ ! -f "$orig" ]; then bash .ci/install-ort.sh; fi
if [ -n "$cpu" ] && [ -n "$cache" ]; then
  lib="$HOME/.cache/qbench/$cache/libonnxruntime.so.1"
  if [ ! -f "$lib" ] || [ "$orig" -nt "$lib" ]; then
    # noavx512 refuses a library whose CPU tests it does not recognise.
    (cd tools/ortbench && go run ./noavx512 $patchflags --in "$orig" --out "$lib")
  fi
  variant="$variant; ORT from $lib (noavx512${patchflags:+ $patchflags})"
fi
[ -f "$lib" ] || { echo "zoo.sh: no $lib (run .ci/install-ort.sh)"; exit 1; }
if [ -n "$cpu" ]; then
  variant="$variant; qbench with GODEBUG=${qgodebug:-(none)}"
fi
bin=$(mktemp -d)/ortbench
(cd tools/ortbench && go build -tags ortbench -o "$bin" .)
{
  echo "Commit \`$(git rev-parse --short HEAD)\`$(git diff --quiet HEAD -- . || echo ' (with uncommitted changes)'), $(date -u '+%Y-%m-%d %H:%M UTC')."
  echo "Machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) vCPUs;" \
    "load average at the start $(cut -d' ' -f1-3 /proc/loadavg)."
  if [ -n "$cpu" ]; then echo "CPU variant \`$cpu\`: $variant."; fi
  # The settings that change what is measured go into the command line too.
  env=""
  if [ -n "$cpu" ]; then env="CPU=$cpu "; fi
  if [ -n "${GODEBUG:-}" ]; then env="${env}GODEBUG=$GODEBUG "; fi
  if [ -n "${ORT_LIB:-}" ]; then env="${env}ORT_LIB=$ORT_LIB "; fi
  if [ -n "${ZOO:-}" ]; then env="${env}ZOO=$ZOO ($(ls "$zoo" | tr '\n' ' ' | sed 's/ $//')) "; fi
  echo "Command: \`${env}SECONDS_PER_ROUND=$secs ROUNDS=$rounds bash tools/ortbench/zoo.sh\` ($rounds alternating rounds of ${secs} s per runtime; images/s, medians)."
  echo
} > "$out"
GODEBUG="$qgodebug" "$bin" --lib "$lib" --zoo "$zoo" --synthetic --configs 1x1,2x1,1x64,2x64 \
  --seconds "$secs" --rounds "$rounds" --markdown "$out.table" | tee "$out.log"
{
  cat "$out.table"
  echo
  echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
} >> "$out"
rm -f "$out.table" "$bin"
echo "zoo.sh: wrote $out"
