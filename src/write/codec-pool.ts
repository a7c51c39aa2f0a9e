/**
 * A small pool of worker threads for the codecs that have no asynchronous native API (zstd's
 * WebAssembly build, LZW in JavaScript), so that compression runs off the main thread and on
 * several cores at once. The pool is created on first use and shared; idle workers do not keep
 * the process alive.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { CodecRequest, CodecResponse, WorkerCodec } from './codec-protocol.js';

interface Slot {
  worker: Worker;
  busy: number;
}

interface Pending {
  resolve: (out: Uint8Array) => void;
  reject: (e: Error) => void;
  slot: Slot;
}

/**
 * Start a worker: `codec-worker.js` beside this file when running compiled JS, `codec-worker.ts`
 * under tsx (tests), with tsx's loader registered inside the worker.
 */
function spawn(): Worker {
  const here = import.meta.url;
  const fromSource = here.endsWith('.ts');
  const file = JSON.stringify(new URL(fromSource ? './codec-worker.ts' : './codec-worker.js', here).href);
  const code = fromSource
    ? `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((m) => { m.register(); return import(${file}); });`
    : `import(${file});`;
  return new Worker(code, { eval: true });
}

export class CodecPool {
  private readonly slots: Slot[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  constructor(private readonly size: number) {}

  /** Compress one block in the least busy worker. `data` is copied, never detached. */
  encode(codec: WorkerCodec, level: number, data: Uint8Array): Promise<Uint8Array> {
    const slot = this.pick();
    const id = this.nextId++;
    const copy = data.slice();
    const request: CodecRequest = { id, codec, level, data: copy };
    return new Promise<Uint8Array>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, slot });
      if (slot.busy++ === 0) slot.worker.ref();
      slot.worker.postMessage(request, [copy.buffer]);
    });
  }

  private pick(): Slot {
    if (this.slots.length < this.size && this.slots.every((s) => s.busy > 0)) return this.add();
    let best = this.slots[0]!;
    for (const s of this.slots) if (s.busy < best.busy) best = s;
    return best;
  }

  private add(): Slot {
    const slot: Slot = { worker: spawn(), busy: 0 };
    slot.worker.unref();
    slot.worker.on('message', (m: CodecResponse) => {
      const p = this.pending.get(m.id);
      if (p === undefined) return;
      this.pending.delete(m.id);
      if (--slot.busy === 0) slot.worker.unref();
      if ('error' in m) p.reject(new Error(m.error));
      else p.resolve(m.out);
    });
    const fail = (e: Error): void => {
      const i = this.slots.indexOf(slot);
      if (i >= 0) this.slots.splice(i, 1);
      for (const [id, p] of this.pending) {
        if (p.slot !== slot) continue;
        this.pending.delete(id);
        p.reject(e);
      }
    };
    slot.worker.on('error', fail);
    slot.worker.on('exit', (code) => fail(new Error(`codec worker exited with code ${code}`)));
    this.slots.push(slot);
    return slot;
  }
}

let shared: CodecPool | null = null;

/** The process-wide pool: as many workers as cores, at most 4. */
export function codecPool(): CodecPool {
  shared ??= new CodecPool(Math.max(1, Math.min(4, availableParallelism())));
  return shared;
}
