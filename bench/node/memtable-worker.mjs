// A benchmark writer thread: joins the threaded engine and fills part of a shared memtable
// when told to.
import { parentPort, workerData } from 'node:worker_threads';

const wasm = await import('../../target/bench-pkg/threaded/ppdb.js');
wasm.initSync({ module: workerData.module, memory: workerData.memory });
parentPort.on('message', ({ id, start, end }) => {
  wasm.benchMemtableFill(id, start, end);
  parentPort.postMessage('done');
});
parentPort.postMessage('ready');
