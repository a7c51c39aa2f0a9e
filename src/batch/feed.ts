/**
 * The batch stage's scheduler: turns a list of tiles into assembled batches, in order.
 *
 * For each batch, the input blocks it needs are decoded and normalised once into slabs (shared
 * memory), then one job assembles its tiles into a batch buffer with row copies. Up to
 * `queueDepth` batches are assembled ahead of the consumer (the model), and blocks are decoded
 * `lookahead` batches ahead of that, so the stacking threads always have work. A slab is freed
 * once every batch up to the last one that needs it has been assembled. Slabs are allocated in
 * batch order and, when none is free, the allocation waits for one: the batches before always
 * free theirs, so this never deadlocks.
 */
import { planBlocks, slabFloats, type BlockPlan, type TileList } from './blocks.js';
import { assembleTile, type SlabMap } from './assemble.js';
import { tileFloats, type ChannelLayout } from './layout.js';
import { addStats, emptyStats, type BandStats } from './normalise.js';
import { openStackExecutor, type StackExecutor } from './pool.js';

export interface FeedOptions {
  layout: ChannelLayout;
  tiles: TileList;
  batchSize: number;
  /** Batches assembled ahead of the consumer (each costs a batch buffer). */
  queueDepth: number;
  /** Stacking threads; 0 runs the jobs on the calling thread. */
  workers: number;
  /** Called as each batch's assembly starts and ends (tests, profiling). */
  trace?: (event: 'read-start' | 'read-end', batch: number) => void;
  /** The block plan, when already made with planBlocks(layout, tiles, batchSize, feedWindow(queueDepth)). */
  blocks?: BlockPlan;
}

/** Batches decoded ahead of the assemblies. */
const LOOKAHEAD = 1;

/** The `window` planBlocks needs for a feed with this queue depth. */
export function feedWindow(queueDepth: number): number {
  return queueDepth + LOOKAHEAD + 1;
}

export interface Batch {
  index: number;
  /** Index of the batch's first tile in the tile list. */
  start: number;
  count: number;
  /** The batch buffer: `count` tiles of T·C·tile² floats, then unused room. Give it back with `release`. */
  buffer: Float32Array;
}

interface Slot {
  slab: number;
  ready: Promise<void>;
}

/** Slab allocation of one file's arena. */
class Slabs {
  private readonly free: number[];
  private readonly waiters: { resolve: (slab: number) => void; reject: (e: Error) => void }[] = [];
  constructor(count: number) {
    this.free = Array.from({ length: count }, (_, i) => count - 1 - i);
  }
  take(): number | Promise<number> {
    const s = this.free.pop();
    return s !== undefined ? s : new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }
  give(slab: number): void {
    const w = this.waiters.shift();
    if (w) w.resolve(slab);
    else this.free.push(slab);
  }
  /** Fail every waiting allocation (the run stopped). */
  cancel(e: Error): void {
    for (const w of this.waiters.splice(0)) w.reject(e);
  }
}

export class BatchFeed {
  readonly batches: number;
  readonly plan: BlockPlan;
  /** Bytes of the slab arenas and of the batch buffers. */
  readonly memory: { slabs: number; buffers: number };
  /** Decode jobs run so far. */
  decoded = 0;
  /** Per file, per band: statistics of the normalised values of the blocks decoded (each block counted once). */
  readonly stats: BandStats[][];

  private executor!: StackExecutor;
  private readonly arenas: SharedArrayBuffer[];
  /** The arenas as floats: tiles are assembled on this thread, which owns the batch buffers. */
  private readonly views: Float32Array[];
  private readonly slabFloats: number[];
  private readonly slabs: Slabs[];
  /** Per file: the slab of each life of a block being decoded or held. */
  private readonly held: Map<number, Slot>[];
  private readonly free: Float32Array[] = [];
  private readonly bufferWaiters: ((b: Float32Array) => void)[] = [];
  private readonly started = new Map<number, Promise<Batch>>();
  private readonly completed: boolean[] = [];
  private completedUpTo = -1;
  /** Per batch: its blocks are all dispatched (in batch order: each waits for the one before). */
  private readonly prepared = new Map<number, Promise<void>>();
  private preparedUpTo = -1;
  private prepareChain: Promise<void> = Promise.resolve();
  private nextStart = 0;
  private nextYield = 0;
  private failure: unknown = null;

  private constructor(private readonly o: FeedOptions) {
    const { layout, tiles, batchSize, queueDepth } = o;
    this.batches = Math.ceil(tiles.x.length / batchSize);
    this.plan = o.blocks ?? planBlocks(layout, tiles, batchSize, feedWindow(queueDepth));
    this.slabFloats = layout.files.map(slabFloats);
    this.arenas = layout.files.map((_, f) => new SharedArrayBuffer(Math.max(1, this.plan.slabs[f]!) * this.slabFloats[f]! * 4));
    this.slabs = layout.files.map((_, f) => new Slabs(this.plan.slabs[f]!));
    this.held = layout.files.map(() => new Map());
    this.views = this.arenas.map((a) => new Float32Array(a));
    this.stats = layout.files.map((f) => Array.from({ length: f.bands }, emptyStats));
    const floats = batchSize * tileFloats(layout);
    const buffers = Math.min(queueDepth + 1, Math.max(this.batches, 1) + 1);
    for (let i = 0; i < buffers; i++) this.free.push(new Float32Array(floats));
    this.memory = { slabs: this.arenas.reduce((a, s) => a + s.byteLength, 0), buffers: buffers * floats * 4 };
  }

  static async open(o: FeedOptions): Promise<BatchFeed> {
    const feed = new BatchFeed(o);
    feed.executor = await openStackExecutor(o.layout, feed.arenas, feed.slabFloats, o.workers);
    return feed;
  }

  /** The next batch in order, assembled; null after the last. Give its buffer back with `release`. */
  async next(): Promise<Batch | null> {
    if (this.nextYield >= this.batches) return null;
    this.pump();
    const b = this.nextYield++;
    const batch = await this.started.get(b)!;
    this.started.delete(b);
    this.pump();
    return batch;
  }

  /** Give a batch buffer back (the memory of a Batch.buffer, possibly a new view of it). */
  release(buffer: Float32Array): void {
    const whole = new Float32Array(buffer.buffer, 0, this.o.batchSize * tileFloats(this.o.layout));
    const w = this.bufferWaiters.shift();
    if (w) w(whole);
    else this.free.push(whole);
    this.pump();
  }

  /** Start assemblies while there are buffers and room in the queue. */
  private pump(): void {
    while (this.failure === null && this.nextStart < this.batches && this.nextStart < this.nextYield + this.o.queueDepth && this.free.length > 0) {
      const b = this.nextStart++;
      const p = this.assemble(b, this.free.pop()!);
      p.catch((e: unknown) => {
        this.failure ??= e;
      });
      this.started.set(b, p);
    }
    // the first batch in line may wait for a buffer the consumer still holds
    if (this.nextStart === this.nextYield && this.nextStart < this.batches && !this.started.has(this.nextStart)) {
      const b = this.nextStart++;
      const p = new Promise<Float32Array>((resolve) => this.bufferWaiters.push(resolve)).then((buf) => this.assemble(b, buf));
      p.catch((e: unknown) => {
        this.failure ??= e;
      });
      this.started.set(b, p);
    }
  }

  private async assemble(b: number, buffer: Float32Array): Promise<Batch> {
    for (let d = b; d <= Math.min(b + LOOKAHEAD, this.batches - 1); d++) this.prepare(d);
    await this.prepared.get(b);
    this.prepared.delete(b);
    const blocks = this.plan.batches[b]!;
    await Promise.all(blocks.flatMap((fb, f) => fb.lives.map((life) => this.held[f]!.get(life)!.ready)));
    const maps: SlabMap[] = blocks.map((fb, f) => {
      const [bx0, by0, across, down] = fb.box;
      const slabs = new Int32Array(across * down).fill(-1);
      const file = this.o.layout.files[f]!;
      for (const life of fb.lives) {
        const [bx, by] = blockXY(file, this.plan.key[f]![life]!);
        slabs[(by - by0) * across + (bx - bx0)] = this.held[f]!.get(life)!.slab;
      }
      return { box: fb.box, slabs };
    });
    const start = b * this.o.batchSize;
    const count = Math.min(this.o.batchSize, this.o.tiles.x.length - start);
    const { layout, tiles } = this.o;
    this.o.trace?.('read-start', b);
    for (let i = 0; i < count; i++) assembleTile(buffer, i, tiles.x[start + i]!, tiles.y[start + i]!, layout, this.views, this.slabFloats, maps);
    this.o.trace?.('read-end', b);
    this.complete(b);
    return { index: b, start, count, buffer };
  }

  /** Dispatch the decodes of batch d's blocks not held yet (in batch order, once). */
  private prepare(d: number): void {
    if (d <= this.preparedUpTo) return;
    this.preparedUpTo = d;
    this.prepareChain = this.prepareChain.then(async () => {
      const blocks = this.plan.batches[d]!;
      for (let f = 0; f < blocks.length; f++) {
        const file = this.o.layout.files[f]!;
        for (const life of blocks[f]!.lives) {
          if (this.held[f]!.has(life)) continue;
          const taken = this.slabs[f]!.take();
          const slab = typeof taken === 'number' ? taken : await taken;
          const [bx, by] = blockXY(file, this.plan.key[f]![life]!);
          const bands = file.planar === 2 ? Array.from({ length: file.bands }, (_, i) => i) : [-1];
          const stats = this.plan.firstLife[f]![life]!;
          const ready = Promise.all(bands.map((band) => this.executor.decode({ file: f, bx, by, band, slab, stats }).then((s) => {
            this.decoded++;
            for (const { band: b, stats: st } of s) addStats(this.stats[f]![b]!, st);
          }))).then(() => undefined);
          ready.catch(() => undefined);
          this.held[f]!.set(life, { slab, ready });
        }
      }
    });
    this.prepared.set(d, this.prepareChain);
  }

  /** Batch b is assembled: free the slabs of blocks no batch up to the first unassembled one needs. */
  private complete(b: number): void {
    this.completed[b] = true;
    while (this.completed[this.completedUpTo + 1]) {
      const c = ++this.completedUpTo;
      this.plan.batches[c]!.forEach((fb, f) => {
        for (const life of fb.lives) {
          if (this.plan.last[f]![life] !== c) continue;
          const slot = this.held[f]!.get(life)!;
          this.held[f]!.delete(life);
          this.slabs[f]!.give(slot.slab);
        }
      });
    }
  }

  /** Wait for the work in flight (a failure may leave some) and stop the stacking threads. */
  async close(): Promise<void> {
    for (const s of this.slabs) s.cancel(new Error('the batch feed is closed'));
    await Promise.allSettled([...this.started.values(), this.prepareChain]);
    await Promise.allSettled([...this.held.flatMap((h) => [...h.values()].map((s) => s.ready))]);
    await this.executor?.close();
  }
}

/** Block column and row of block key `k` (row-major over the file's blocks). */
function blockXY(file: { blocksAcross: number }, k: number): [number, number] {
  const bx = k % file.blocksAcross;
  return [bx, (k - bx) / file.blocksAcross];
}
