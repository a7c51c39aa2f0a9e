/** A thread of the pool (pool.ts): decodes and normalises blocks into the shared slab arenas. */
import { parentPort, workerData } from 'node:worker_threads';
import { errorToData } from '../worker-thread.js';
import { StackJobs } from './jobs.js';
import type { FromStackWorker, StackWorkerInit, ToStackWorker } from './protocol.js';

const port = parentPort;
if (port === null) throw new Error('batch/worker.ts must run in a worker thread');
const init = workerData as StackWorkerInit;
const jobs = new StackJobs(init.layout, init.arenas.map((a) => new Float32Array(a)), init.slabFloats);
const post = (m: FromStackWorker): void => port.postMessage(m);

try {
  await jobs.open();
  post({ type: 'ready' });
} catch (e) {
  post({ type: 'open-error', error: errorToData(e) });
}

port.on('message', async (m: ToStackWorker) => {
  if (m.type === 'close') {
    await jobs.close();
    port.close();
    return;
  }
  try {
    post({ type: 'done', id: m.id, stats: await jobs.decode(m.job) });
  } catch (e) {
    post({ type: 'error', id: m.id, error: errorToData(e) });
  }
});
