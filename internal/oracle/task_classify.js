// Classify one image with the TFLite Task Library's ImageClassifier (the WASM
// build in @tensorflow/tfjs-tflite) under plain Node, to check that a model's
// TFLite Model Metadata (normalization, packed label file) is what the Task
// Library reads.
//
//   node task_classify.js MODEL.tflite IMAGE.rgba WIDTH HEIGHT MAXRESULTS
//
// IMAGE.rgba: WIDTH*HEIGHT*4 bytes, RGBA. Prints one JSON line: the classes
// with className and probability, best first. Run with the oracle directory's
// node_modules on NODE_PATH; it takes the package's web-worker path like
// tflite_run.js does (see that script for why each shim exists).
'use strict';
const fs = require('fs');
const path = require('path');
const vm = require('vm');

const [modelPath, imagePath, w, h, maxResults] = process.argv.slice(2);
const WASM_DIR = path.join(path.dirname(require.resolve('@tensorflow/tfjs-tflite/package.json')), 'wasm');
const ORIGIN = 'http://tflite.local';
const DIR = ORIGIN + '/wasm/';
const local = (url) => path.join(WASM_DIR, String(url).replace(DIR, '').replace(/[?#].*$/, ''));
globalThis.self = globalThis;
globalThis.location = { href: DIR + 'worker.js', origin: ORIGIN };
globalThis.importScripts = (...urls) => {
  for (const u of urls) vm.runInThisContext(fs.readFileSync(local(u), 'utf8'), { filename: local(u) });
};
const realFetch = globalThis.fetch;
globalThis.fetch = async (url, init) => String(url).startsWith(DIR)
  ? new Response(fs.readFileSync(local(url)), { headers: { 'Content-Type': 'application/wasm' } })
  : realFetch(url, init);
globalThis.MessageChannel = class {
  constructor() { this.port1 = { postMessage() { throw new Error('single-threaded'); } }; this.port2 = {}; }
};
// The classifier reads ImageData's fields; Node has no DOM, so a plain class stands in.
globalThis.ImageData = class ImageData {
  constructor(data, width, height) { this.data = data; this.width = width; this.height = height; }
};

require('@tensorflow/tfjs-backend-cpu');
const tflite = require('@tensorflow/tfjs-tflite');

(async () => {
  tflite.setWasmPath(DIR);
  const m = fs.readFileSync(modelPath);
  const model = m.buffer.slice(m.byteOffset, m.byteOffset + m.byteLength);
  const clf = await tflite.ImageClassifier.create(model, { maxResults: +maxResults, numThreads: 1 });
  const px = fs.readFileSync(imagePath);
  const img = new ImageData(new Uint8ClampedArray(px.buffer, px.byteOffset, px.byteLength), +w, +h);
  console.log(JSON.stringify(clf.classify(img)));
})().catch((e) => {
  console.error('FAILED:', e && e.stack ? e.stack : e);
  process.exit(1);
});
