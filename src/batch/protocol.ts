/** Messages between the stacking pool (pool.ts) and its workers (worker.ts). */
import type { ErrorData } from '../worker-thread.js';
import type { DecodeJob, DecodeStats } from './jobs.js';
import type { ChannelLayout } from './layout.js';

/** workerData: the layout and the shared slab arenas, one per input file. */
export interface StackWorkerInit {
  layout: ChannelLayout;
  arenas: SharedArrayBuffer[];
  slabFloats: number[];
}

export type ToStackWorker =
  | { type: 'decode'; id: number; job: DecodeJob }
  | { type: 'close' };

export type FromStackWorker =
  | { type: 'ready' }
  | { type: 'open-error'; error: ErrorData }
  | { type: 'done'; id: number; stats: DecodeStats }
  | { type: 'error'; id: number; error: ErrorData };
