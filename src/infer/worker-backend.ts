/**
 * The onnxruntime backend inside a worker thread. The main thread stays free
 * to read and blend while a batch runs; input and output buffers are
 * transferred both ways (no copies) and handed back for reuse.
 *
 * Any inference error is fatal: the failing run and every other pending run
 * reject with ModelError, and the worker has exited before they do.
 * An idle worker does not keep the process alive; `close()` ends it.
 */
import type { Worker } from 'node:worker_threads';
import { ModelError } from '../errors.js';
import type { InferenceBackend, ModelInfo, RunResult } from './backend.js';
import { DEFAULT_ONNX_OPTIONS, type OnnxOptions } from './onnx.js';
import { spawnWorker } from '../worker-thread.js';
import type { FromWorker, ToWorker, WorkerInit } from './worker-protocol.js';
import { transferList } from './worker-protocol.js';

interface Pending {
  resolve: (r: RunResult) => void;
  reject: (e: Error) => void;
}

export class WorkerBackend implements InferenceBackend {
  readonly info: ModelInfo;
  private readonly worker: Worker;
  private readonly exited: Promise<void>;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private state: 'open' | 'closing' | 'dead' = 'open';
  /** Why the backend stopped (failure or close); later runs reject with it. */
  private failure: ModelError | null = null;
  private closing: Promise<void> | null = null;

  /** Use `openWorkerBackend`. */
  constructor(worker: Worker, exited: Promise<void>, info: ModelInfo) {
    this.worker = worker;
    this.exited = exited;
    this.info = info;
    worker.on('message', (m: FromWorker) => this.onMessage(m));
    worker.on('error', (e: Error) => void this.fail(new ModelError(`inference worker failed: ${e.message}`, { file: info.path, cause: e })));
    worker.on('exit', (code) => {
      if (this.state === 'open') void this.fail(new ModelError(`inference worker exited unexpectedly (code ${code})`, { file: info.path }));
    });
    worker.unref();
  }

  /** The worker's thread id; -1 once the thread has exited. */
  get threadId(): number {
    return this.worker.threadId;
  }

  private onMessage(m: FromWorker): void {
    // After a failure every pending run rejects (in fail()), even one whose result is already on its way.
    if (this.state === 'dead') return;
    if (m.type === 'result') {
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (this.pending.size === 0) this.worker.unref();
      p?.resolve({ input: m.input, output: m.output, dims: m.dims });
    } else if (m.type === 'run-error') {
      void this.fail(new ModelError(m.message, { file: this.info.path }));
    }
  }

  /**
   * Stop the worker, then reject every pending run with `error`. The worker is
   * asked to close rather than terminated: terminating a thread while
   * onnxruntime is inside `run` aborts the whole process.
   */
  private async fail(error: ModelError): Promise<void> {
    if (this.state === 'dead') return;
    const wasClosing = this.state === 'closing';
    this.state = 'dead';
    this.failure = error;
    if (!wasClosing) {
      this.worker.ref();
      this.worker.postMessage({ type: 'close' } satisfies ToWorker);
    }
    await this.exited;
    this.rejectAll(error);
  }

  private rejectAll(error: ModelError): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.reject(error);
  }

  run(input: Float32Array, dims: readonly number[], output?: Float32Array): Promise<RunResult> {
    if (this.state !== 'open') {
      const why = this.failure?.message ?? `model ${this.info.path}: backend is closed`;
      return Promise.reject(new ModelError(why, { file: this.info.path, cause: this.failure ?? undefined }));
    }
    const id = this.nextId++;
    const message: ToWorker = { type: 'run', id, input, dims: [...dims], ...(output === undefined ? {} : { output }) };
    return new Promise<RunResult>((resolve, reject) => {
      // Transfer first: a buffer that cannot be sent throws here, before anything is pending.
      this.worker.postMessage(message, transferList(input, output));
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve, reject });
    });
  }

  /** Let queued runs finish, release the session and end the worker. Idempotent. */
  close(): Promise<void> {
    if (this.closing !== null) return this.closing;
    this.closing = (async () => {
      if (this.state === 'open') {
        this.state = 'closing';
        this.worker.ref();
        this.worker.postMessage({ type: 'close' } satisfies ToWorker);
      }
      await this.exited;
      if (this.state === 'closing') {
        this.state = 'dead';
        this.failure = new ModelError(`model ${this.info.path}: backend is closed`, { file: this.info.path });
        this.rejectAll(this.failure);
      }
    })();
    return this.closing;
  }
}

/** Open an ONNX model in a worker thread. Same options and errors as `openOnnx`. */
export async function openWorkerBackend(path: string, options: OnnxOptions = {}): Promise<WorkerBackend> {
  const o = { ...DEFAULT_ONNX_OPTIONS, ...options };
  const worker = spawnWorker(import.meta.url, 'worker', { path, device: o.device, threads: o.threads } satisfies WorkerInit);
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  const info = await new Promise<ModelInfo>((resolve, reject) => {
    const onMessage = (m: FromWorker): void => {
      if (m.type === 'warn') o.warn(m.message);
      else if (m.type === 'ready') done(() => resolve(m.info));
      else if (m.type === 'open-error') done(() => reject(new ModelError(m.message, { file: path })));
    };
    const onError = (e: Error): void => done(() => reject(new ModelError(`inference worker failed to start: ${e.message}`, { file: path, cause: e })));
    const onExit = (code: number): void => done(() => reject(new ModelError(`inference worker exited while loading ${path} (code ${code})`, { file: path })));
    const done = (settle: () => void): void => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
      settle();
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  }).catch(async (e: unknown) => {
    await worker.terminate();
    throw e;
  });
  const backend = new WorkerBackend(worker, exited, info);
  worker.on('message', (m: FromWorker) => {
    if (m.type === 'warn') o.warn(m.message);
  });
  return backend;
}
