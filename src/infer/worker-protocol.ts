/**
 * Messages between worker-backend.ts (main thread) and worker.ts (the worker).
 */
import type { Device, ModelInfo } from './backend.js';

/** workerData: what to open. */
export interface WorkerInit {
  path: string;
  device: Device;
  threads: number;
}

export type ToWorker =
  | { type: 'run'; id: number; input: Float32Array; dims: number[]; output?: Float32Array }
  | { type: 'close' };

export type FromWorker =
  | { type: 'ready'; info: ModelInfo }
  | { type: 'open-error'; message: string }
  | { type: 'warn'; message: string }
  | { type: 'result'; id: number; input: Float32Array; output: Float32Array; dims: number[] }
  | { type: 'run-error'; id: number; message: string };

/** The distinct transferable buffers behind some arrays (shared memory is shared, not transferred). */
export function transferList(...arrays: (Float32Array | undefined)[]): ArrayBuffer[] {
  const list: ArrayBuffer[] = [];
  for (const a of arrays) {
    if (a === undefined) continue;
    const buf = a.buffer;
    if (buf instanceof ArrayBuffer && !list.includes(buf)) list.push(buf);
  }
  return list;
}
