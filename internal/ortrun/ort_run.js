// Runs an ONNX model with ONNX Runtime (npm onnxruntime-node, CPU) for
// qbench's export tests.
//
//   node ort_run.js ORT_PACKAGE_DIR JOB.json
//
// JOB.json: {"model": PATH, "threads": N, "inputs": [{"name", "type",
// "dims", "file"}], "outDir": DIR}. Each input file holds raw
// little-endian values of its type. Output i's raw bytes go to
// DIR/i.bin; stdout gets one JSON line [{"name", "type", "dims"}] in the
// session's output order.
'use strict';
const fs = require('fs');
const path = require('path');

const [pkg, jobPath] = process.argv.slice(2);
const ort = require(path.resolve(pkg));
const job = JSON.parse(fs.readFileSync(jobPath, 'utf8'));
const TYPED = {
  float32: Float32Array, int8: Int8Array, uint8: Uint8Array, int16: Int16Array,
  int32: Int32Array, int64: BigInt64Array, bool: Uint8Array,
};

(async () => {
  const opts = { intraOpNumThreads: job.threads || 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' };
  const s = await ort.InferenceSession.create(job.model, opts);
  const feeds = {};
  for (const inp of job.inputs) {
    const T = TYPED[inp.type];
    if (!T) throw new Error(`input ${inp.name}: type ${inp.type} not handled`);
    const b = fs.readFileSync(inp.file);
    const copy = new Uint8Array(b.byteLength);
    copy.set(b);
    feeds[inp.name] = new ort.Tensor(inp.type, new T(copy.buffer), inp.dims);
  }
  const res = await s.run(feeds);
  const info = [];
  s.outputNames.forEach((name, i) => {
    const t = res[name];
    const d = t.data;
    fs.writeFileSync(path.join(job.outDir, `${i}.bin`), Buffer.from(d.buffer, d.byteOffset, d.byteLength));
    info.push({ name, type: t.type, dims: t.dims.map(Number) });
  });
  console.log(JSON.stringify(info));
})().catch((e) => {
  console.error('FAILED:', e && e.message ? e.message : e);
  process.exit(1);
});
