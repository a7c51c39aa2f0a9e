/**
 * Where blocks are decoded and normalised: a pool of worker threads (`--workers N`) writing into
 * shared slab arenas, or the calling thread itself (`workers: 0`). Each worker holds at most two
 * jobs, so the queue stays on this side and a slow job does not hold up others. (Tiles are
 * assembled from the slabs on the calling thread, which owns the batch buffers: onnxruntime takes
 * no shared memory, and row copies are bound by memory, not by a core.)
 */
import type { Worker } from 'node:worker_threads';
import { errorFromData, spawnWorker } from '../worker-thread.js';
import { StackJobs, type DecodeJob, type DecodeStats } from './jobs.js';
import type { ChannelLayout } from './layout.js';
import type { FromStackWorker, StackWorkerInit, ToStackWorker } from './protocol.js';

export interface StackExecutor {
  /** Threads the jobs run on (0: the calling thread). */
  readonly workers: number;
  decode(job: DecodeJob): Promise<DecodeStats>;
  close(): Promise<void>;
}

/** Open the executor: `workers` threads, or the calling thread when 0. */
export async function openStackExecutor(layout: ChannelLayout, arenas: SharedArrayBuffer[], slabFloats: number[], workers: number): Promise<StackExecutor> {
  if (workers === 0) {
    const jobs = new StackJobs(layout, arenas.map((a) => new Float32Array(a)), slabFloats);
    await jobs.open();
    return {
      workers: 0,
      decode: (job) => jobs.decode(job),
      close: () => jobs.close(),
    };
  }
  const pool = new Pool({ layout, arenas, slabFloats }, workers);
  await pool.started;
  return pool;
}

interface Pending {
  message: ToStackWorker;
  resolve: (m: FromStackWorker & { type: 'done' }) => void;
  reject: (e: Error) => void;
}

const IN_FLIGHT = 2;

class Pool implements StackExecutor {
  readonly workers: number;
  readonly started: Promise<void>;
  private readonly threads: Worker[] = [];
  private readonly load: number[] = [];
  private readonly waiting = new Map<number, { pending: Pending; thread: number }>();
  private readonly queue: Pending[] = [];
  private nextId = 1;
  private failure: Error | null = null;

  constructor(init: StackWorkerInit, workers: number) {
    this.workers = workers;
    const starts: Promise<void>[] = [];
    for (let i = 0; i < workers; i++) {
      const w = spawnWorker(import.meta.url, 'worker', init);
      this.threads.push(w);
      this.load.push(0);
      starts.push(new Promise<void>((resolve, reject) => {
        const first = (m: FromStackWorker) => {
          w.off('message', first);
          if (m.type === 'ready') resolve();
          else if (m.type === 'open-error') reject(errorFromData(m.error));
        };
        w.on('message', first);
        w.once('error', reject);
        // a worker that ends before it is ready (and without an 'error') must not leave the start pending
        w.once('exit', (code) => reject(new Error(`stacking worker exited with code ${code} while starting`)));
      }));
      w.on('message', (m: FromStackWorker) => this.onMessage(i, m));
      w.on('error', (e: Error) => this.fail(new Error(`stacking worker failed: ${e.message}`)));
      w.on('exit', (code) => {
        if (code !== 0 && this.failure === null) this.fail(new Error(`stacking worker exited with code ${code}`));
      });
    }
    this.started = Promise.all(starts).then(
      () => undefined,
      async (e: unknown) => {
        await this.close();
        throw e;
      },
    );
  }

  decode(job: DecodeJob): Promise<DecodeStats> {
    return this.submit({ type: 'decode', id: this.nextId++, job }).then((m) => m.stats ?? []);
  }

  private submit(message: ToStackWorker): Promise<FromStackWorker & { type: 'done' }> {
    if (this.failure !== null) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.queue.push({ message, resolve, reject });
      this.dispatch();
    });
  }

  private dispatch(): void {
    for (;;) {
      const queue = this.queue;
      if (queue.length === 0) return;
      let best = 0;
      for (let i = 1; i < this.threads.length; i++) if (this.load[i]! < this.load[best]!) best = i;
      if (this.load[best]! >= IN_FLIGHT) return;
      const pending = queue.shift()!;
      this.load[best]!++;
      this.waiting.set((pending.message as { id: number }).id, { pending, thread: best });
      this.threads[best]!.postMessage(pending.message);
    }
  }

  private onMessage(thread: number, m: FromStackWorker): void {
    if (m.type !== 'done' && m.type !== 'error') return;
    const w = this.waiting.get(m.id);
    if (w === undefined) return;
    this.waiting.delete(m.id);
    this.load[thread]!--;
    if (m.type === 'done') w.pending.resolve(m);
    else w.pending.reject(errorFromData(m.error));
    this.dispatch();
  }

  private fail(e: Error): void {
    if (this.failure !== null) return;
    this.failure = e;
    for (const w of this.waiting.values()) w.pending.reject(e);
    for (const p of this.queue) p.reject(e);
    this.waiting.clear();
    this.queue.length = 0;
  }

  async close(): Promise<void> {
    this.fail(new Error('the stacking pool is closed'));
    await Promise.all(this.threads.map((w) => new Promise<void>((resolve) => {
      if (w.threadId === -1) return resolve();
      w.once('exit', () => resolve());
      w.postMessage({ type: 'close' } satisfies ToStackWorker);
    })));
  }
}
