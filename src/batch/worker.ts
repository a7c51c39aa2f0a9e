/**
 * A stacking thread of the pool (pool.ts): decodes blocks into the shared slab arenas and
 * assembles batches into buffers it is handed (transferred, not copied) and hands back.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { errorToData } from '../worker-thread.js';
import { StackJobs } from './jobs.js';
import type { FromStackWorker, StackWorkerInit, ToStackWorker } from './protocol.js';

const port = parentPort;
if (port === null) throw new Error('batch/worker.ts must run in a worker thread');
const init = workerData as StackWorkerInit;
const jobs = new StackJobs(init.layout, init.arenas.map((a) => new Float32Array(a)), init.slabFloats);
const post = (m: FromStackWorker, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);

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
    if (m.type === 'decode') {
      post({ type: 'done', id: m.id, stats: await jobs.decode(m.job) });
    } else {
      const batch = new Float32Array(m.buffer);
      jobs.assemble(batch, m.job);
      post({ type: 'done', id: m.id, buffer: m.buffer }, [m.buffer]);
    }
  } catch (e) {
    post({ type: 'error', id: m.id, error: errorToData(e), ...(m.type === 'assemble' ? { buffer: m.buffer } : {}) }, m.type === 'assemble' ? [m.buffer] : []);
  }
});
