/**
 * Computing chunks: their tiles go through the batch stage and the model in one stream (a batch
 * may hold the end of one chunk and the start of the next, so the model never waits at a chunk
 * boundary), and each tile's prediction is blended into its chunk's accumulator in plan order.
 * A chunk's block rows go to `write` as they become final; `chunkDone` follows its last row.
 *
 *   tiles of chunk A, B, … ──> batch stage (workers) ──> model (worker thread) ──> blend into A, B, … ──> write
 */
import type { BlockPlan, TileList } from '../batch/blocks.js';
import { BatchFeed } from '../batch/feed.js';
import type { ChannelLayout } from '../batch/layout.js';
import { emptyStats, type BandStats } from '../batch/normalise.js';
import { BlendAccumulator, type OutputRows } from '../blend/accumulator.js';
import { TileMasks } from '../blend/masks.js';
import { AbortedError } from '../errors.js';
import { failpoint } from '../failpoints.js';
import type { InferenceBackend, RunResult } from '../infer/backend.js';
import type { Plan, PlanChunk } from '../plan/plan.js';
import type { Progress, ResolvedPredictOptions } from './options.js';

/** The tiles of the chunks, in the order they run, each with its chunk's position in that order. */
export function workList(plan: Plan, order: readonly PlanChunk[]): TileList {
  const n = order.reduce((a, c) => a + c.tiles.length, 0);
  const x = new Int32Array(n);
  const y = new Int32Array(n);
  const chunk = new Int32Array(n);
  let i = 0;
  order.forEach((c, seq) => {
    for (const k of c.tiles) {
      x[i] = plan.tiles[k]!.x;
      y[i] = plan.tiles[k]!.y;
      chunk[i++] = seq;
    }
  });
  return { x, y, chunk };
}

export interface ChunkRun {
  o: ResolvedPredictOptions;
  plan: Plan;
  layout: ChannelLayout;
  backend: InferenceBackend;
  /** Model input dims of one tile ([T, C, H, W] or [T·C, H, W]). */
  sampleDims: number[];
  outBands: number;
  batchSize: number;
  workers: number;
  /** The chunks to compute, in order; `tiles` and `blocks` are their work list and its block plan. */
  order: readonly PlanChunk[];
  tiles: TileList;
  blocks: BlockPlan;
  /** A finished block row of a chunk (its pixels only). The data may be reused after it resolves. */
  write(chunk: PlanChunk, rows: OutputRows): Promise<void>;
  /** Every block row of the chunk was written. */
  chunkDone(chunk: PlanChunk): Promise<void>;
  warn(message: string): void;
  onProgress?: (p: Progress) => void;
  trace?: (event: 'read-start' | 'read-end' | 'infer-start' | 'infer-end', batch: number) => void;
  signal?: AbortSignal;
  /** performance.now() at the start of the run, for progress. */
  t0: number;
}

export interface ChunkStats {
  /** Tile computations (a tile on a chunk border counts once per chunk). */
  computed: number;
  batches: number;
  /** Seconds, see PredictSummary.time. */
  time: { read: number; infer: number; blend: number; write: number };
  nonFinite: number;
  decoded: number;
  /** Per file, per band: statistics of the normalised input (each block counted once). */
  stats: BandStats[][];
}

export async function computeChunks(r: ChunkRun): Promise<ChunkStats> {
  const { o, plan, order, tiles, batchSize: N, outBands: K } = r;
  const trace = r.trace ?? (() => {});
  const time = { read: 0, infer: 0, blend: 0, write: 0 };
  const masks = new TileMasks(plan.region, plan.window, o.tile);
  const outPerTile = K * o.tile * o.tile;
  const total = tiles.x.length;
  let nonFinite = 0;

  // the chunk being blended: its accumulator and how many of its tiles are in
  let seq = -1;
  let acc = null as BlendAccumulator | null;
  let inChunk = 0;
  const flush = async (all: boolean): Promise<void> => {
    const t = performance.now();
    const rows = [...acc!.drain()];
    for (const row of rows) {
      failpoint('write');
      await r.write(order[seq]!, row);
    }
    time.write += (performance.now() - t) / 1000;
    if (all && !acc!.done) throw new Error(`chunk ${order[seq]!.index}: block rows left after its last tile`);
  };
  /** Finish every chunk whose tiles are all blended (empty chunks included) and open the next. */
  const advance = async (): Promise<void> => {
    while (seq < order.length && (seq < 0 || inChunk === order[seq]!.tiles.length)) {
      if (seq >= 0) {
        await flush(true);
        nonFinite += acc!.nonFinite;
        await r.chunkDone(order[seq]!);
      }
      seq++;
      inChunk = 0;
      acc = null;
      if (seq < order.length) {
        const c = order[seq]!;
        let x0 = Infinity;
        let x1 = -Infinity;
        for (const k of c.tiles) {
          x0 = Math.min(x0, plan.tiles[k]!.x);
          x1 = Math.max(x1, plan.tiles[k]!.x + o.tile);
        }
        if (c.tiles.length > 0) masks.columns(x0, x1 - x0);
        acc = new BlendAccumulator({
          window: { x: c.x, y: c.y, width: c.width, height: c.height }, tiles: c.tiles.map((k) => plan.tiles[k]!), tile: o.tile,
          bands: K, weights: o.weights, blockRows: o.blockSize, rows: c.rows, nodata: o.outputNodata,
        });
      }
    }
  };

  await advance();
  if (total === 0) return { computed: 0, batches: 0, time, nonFinite, decoded: 0, stats: r.layout.files.map((f) => Array.from({ length: f.bands }, emptyStats)) };
  const feed = await BatchFeed.open({ layout: r.layout, tiles, batchSize: N, queueDepth: o.queueDepth, workers: r.workers, blocks: r.blocks, trace });
  const batches = feed.batches;
  const outputs: Float32Array[] = [new Float32Array(N * outPerTile), new Float32Array(N * outPerTile)];
  // start the model on batch b as soon as it is assembled; the time it waits is the read stall
  const startRun = async (b: number): Promise<RunResult> => {
    const t = performance.now();
    const batch = (await feed.next())!;
    time.read += (performance.now() - t) / 1000;
    if (r.signal?.aborted) throw new AbortedError('prediction aborted');
    trace('infer-start', b);
    failpoint('infer');
    const result = await r.backend.run(batch.buffer, [batch.count, ...r.sampleDims], outputs.pop()!);
    trace('infer-end', b);
    return result;
  };
  let running: Promise<RunResult> | null = null;
  try {
    running = startRun(0);
    for (let b = 0; b < batches; b++) {
      let t = performance.now();
      const result: RunResult = await running!;
      time.infer += (performance.now() - t) / 1000;
      feed.release(result.input);
      // the model goes on with the next batch while this one is blended and written
      running = b + 1 < batches ? startRun(b + 1) : null;
      running?.catch(() => {}); // awaited next round; failures surface there
      const n = Math.min(N, total - b * N);
      const before = nonFinite + acc!.nonFinite;
      for (let i = 0; i < n; i++) {
        t = performance.now();
        const k = b * N + i;
        acc!.add(inChunk++, result.output.subarray(i * outPerTile, (i + 1) * outPerTile), masks.of(tiles.x[k]!, tiles.y[k]!));
        failpoint('blend');
        time.blend += (performance.now() - t) / 1000;
        await flush(false);
        await advance();
      }
      const now = nonFinite + (acc?.nonFinite ?? 0);
      if (now > before) {
        r.warn(`the model returned ${now - before} NaN/Inf value(s) inside the region in batch ${b + 1} (tiles ${b * N + 1}..${b * N + n}); they are written as NaN`);
      }
      // the same memory comes back (a worker backend moved it to its thread and back)
      const back = result.output;
      outputs.push(back.buffer.byteLength - back.byteOffset >= N * outPerTile * 4 ? new Float32Array(back.buffer, back.byteOffset, N * outPerTile) : new Float32Array(N * outPerTile));
      r.onProgress?.({ done: Math.min(total, (b + 1) * N), total, seconds: (performance.now() - r.t0) / 1000 });
    }
  } finally {
    // a failure may leave a batch in the model: let it settle before the files and the model are closed
    if (running) await Promise.allSettled([running]);
    await feed.close();
  }
  return { computed: total, batches, time, nonFinite, decoded: feed.decoded, stats: feed.stats };
}
