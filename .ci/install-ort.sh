#!/usr/bin/env bash
# Installs ONNX Runtime for the ONNX export tests: the npm package
# onnxruntime-node@1.30.0 (its CPU build, libonnxruntime.so.1 and the Node
# binding; ONNXRUNTIME_NODE_INSTALL=skip skips the optional GPU download)
# into $QBENCH_ORT (default $HOME/.cache/qbench/onnxruntime). Idempotent.
# Exits 0 with a message when node/npm is absent, so CI on a machine
# without them still passes (the tests then skip). tools/ortbench can use
# the same libonnxruntime.so.1 (node_modules/onnxruntime-node/bin/napi-v6/linux/x64/).
set -euo pipefail

dest="${QBENCH_ORT:-$HOME/.cache/qbench/onnxruntime}"
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "install-ort: node/npm not on PATH; skipping (ONNX Runtime tests will skip)"
  exit 0
fi
if [ -f "$dest/node_modules/onnxruntime-node/package.json" ]; then
  echo "install-ort: already installed in $dest"
  exit 0
fi
echo "install-ort: installing onnxruntime-node@1.30.0 into $dest"
mkdir -p "$dest"
(
  cd "$dest"
  [ -f package.json ] || npm init -y >/dev/null
  ONNXRUNTIME_NODE_INSTALL=skip npm install --no-audit --no-fund onnxruntime-node@1.30.0
)
echo "install-ort: done"
