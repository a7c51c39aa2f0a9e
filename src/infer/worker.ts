/**
 * Worker-thread entry: owns one onnxruntime session and runs batches sent by
 * worker-backend.ts, so the main thread keeps reading while `session.run`
 * blocks this thread. Buffers travel by transfer, never by copy.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { OnnxBackend, OnnxOptions } from './onnx.js';
import { openOnnx } from './onnx.js';
import type { FromWorker, ToWorker, WorkerInit } from './worker-protocol.js';
import { transferList } from './worker-protocol.js';

const port = parentPort;
if (port === null) throw new Error('worker.ts must run in a worker thread');

const post = (message: FromWorker, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);

const init = workerData as WorkerInit;
const options: OnnxOptions = {
  device: init.device,
  threads: init.threads,
  warn: (message) => post({ type: 'warn', message }),
};

let backend: OnnxBackend | null = null;
/** The first run error: the main thread closes us on it, so later runs fail fast instead of computing. */
let failed: string | null = null;
try {
  backend = await openOnnx(init.path, options);
  post({ type: 'ready', info: backend.info });
} catch (e) {
  post({ type: 'open-error', message: e instanceof Error ? e.message : String(e) });
}

port.on('message', async (message: ToWorker) => {
  if (message.type === 'close') {
    // Queued runs finish first (or fail fast after an error); then the thread ends on its own.
    const closing = backend;
    backend = null;
    await closing?.close();
    port.close();
    return;
  }
  if (backend === null || failed !== null) {
    post({ type: 'run-error', id: message.id, message: failed ?? 'model is not loaded' });
    return;
  }
  try {
    const r = await backend.run(message.input, message.dims, message.output);
    if (failed !== null) throw new Error(failed);
    post({ type: 'result', id: message.id, input: r.input, output: r.output, dims: r.dims }, transferList(r.input, r.output));
  } catch (e) {
    failed ??= e instanceof Error ? e.message : String(e);
    post({ type: 'run-error', id: message.id, message: failed });
  }
});
