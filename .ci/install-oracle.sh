#!/usr/bin/env bash
# Installs the TFLite oracle (the real TFLite interpreter, WASM build, run by
# Node) that cross-check tests use: copies tflite_run.js from
# ../shared/tools/tflite-oracle into $QBENCH_TFLITE_ORACLE (default
# $HOME/.cache/qbench/tflite-oracle) and runs npm install there once.
# Idempotent: re-running with node_modules present only refreshes the script.
# Exits 0 with a message when ../shared or node/npm is absent, so CI on a
# plain clone still passes (the tests then skip).
set -euo pipefail
cd "$(dirname "$0")/.."

src="../shared/tools/tflite-oracle/tflite_run.js"
dest="${QBENCH_TFLITE_ORACLE:-$HOME/.cache/qbench/tflite-oracle}"

if [ ! -f "$src" ]; then
  echo "install-oracle: $src not found; skipping (oracle tests will skip)"
  exit 0
fi
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "install-oracle: node/npm not on PATH; skipping (oracle tests will skip)"
  exit 0
fi

mkdir -p "$dest"
cp "$src" "$dest/tflite_run.js"
if [ -d "$dest/node_modules/@tensorflow/tfjs-tflite" ]; then
  echo "install-oracle: already installed in $dest"
  exit 0
fi
echo "install-oracle: installing the TFLite WASM interpreter into $dest"
(
  cd "$dest"
  [ -f package.json ] || npm init -y >/dev/null
  npm install --no-audit --no-fund @tensorflow/tfjs-tflite@0.0.1-alpha.10 \
    @tensorflow/tfjs-core@4.9.0 @tensorflow/tfjs-backend-cpu@4.9.0
)
echo "install-oracle: done"
