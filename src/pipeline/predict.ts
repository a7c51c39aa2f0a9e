/**
 * predict: region + inputs + model → one blended, georeferenced GeoTIFF.
 *
 *   setup (inputs, plan, model) ──> journal ──> chunks (stack, infer, blend) ──> write ──> rename
 *
 * The window is computed chunk by chunk (pipeline/chunks.ts); each complete chunk is made
 * durable and recorded in the journal, so a killed run resumes where it stopped (--resume); a
 * shard computes its share of the chunks into a part file. The output is the same for every
 * batch size, worker count, queue depth, chunk size, order of chunks and split into shards:
 * every pixel receives the same terms in the same order, and the file's bytes are laid out
 * canonically.
 */
import { stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { planBlocks, slabFloats } from '../batch/blocks.js';
import { feedWindow } from '../batch/feed.js';
import { tileFloats } from '../batch/layout.js';
import { OutputError, UsageError } from '../errors.js';
import { failpoint } from '../failpoints.js';
import { availableMemory } from '../options.js';
import { estimateMemory, type MemoryEstimate, type PlanChunk } from '../plan/plan.js';
import { registerCrsDefinition } from '../raster/crs.js';
import { resolveOutputTarget, type RunInput } from '../write/target.js';
import { computeChunks, workList, type ChunkStats } from './chunks.js';
import { Journal } from './journal.js';
import { classStyle, outputSpecs, RunOutputs } from './outputs.js';
import { resolvePredictOptions, stackingThreads, type PredictOptions, type ResolvedPredictOptions } from './options.js';
import { provenance, runRecord } from './provenance.js';
import { runReport } from './report.js';
import { inputStatistics, type InputStatistic } from './sanity.js';
import { setUp, tearDown } from './setup.js';
import { partPath, shardChunks, type Shard } from './shards.js';

export { DEFAULT_PREDICT, resolvePredictOptions, type PredictOptions, type Progress } from './options.js';

export interface PredictSummary {
  out: string;
  dryRun: boolean;
  window: { x: number; y: number; width: number; height: number };
  /** Tiles on the grid, kept by the plan (touching the region), computed by this run, and skipped (outside the region). */
  tiles: { total: number; planned: number; computed: number; skipped: number };
  batchSize: number;
  batches: number;
  outBands: number;
  seconds: number;
  tilesPerSecond: number;
  /**
   * Seconds: `read` the model waited for its next batch to be read (the read stall), `infer` the
   * main thread waited for the model, `blend` and `write` the main thread spent blending and
   * handing block rows to the writer. The model runs while a batch is blended and written.
   */
  time: { read: number; infer: number; blend: number; write: number };
  /** Input blocks decoded (band blocks for band-interleaved files), and the fewest that could be. */
  blocksDecoded: number;
  blocksMinimum: number;
  /** Stacking threads used (0: the main thread). */
  workers: number;
  /**
   * The chunk grid; chunks selected (by --shard), computed by this run and resumed (complete
   * before it); tile computations over every chunk and how many more that is than tiles (%).
   */
  chunks: {
    size: number; across: number; down: number; total: number; selected: number; computed: number; resumed: number;
    shard: Shard | null; tileComputations: number; borderPercent: number;
  };
  /** Non-finite model outputs inside the region (reported, and written as they are). */
  nonFinite: number;
  /**
   * Statistics of the normalised model input per input band (of the blocks this run decoded),
   * with a warning where a channel is absurd.
   */
  inputs: InputStatistic[];
  memory: MemoryEstimate;
  warnings: string[];
}

/** Run a prediction. Resolves with the summary once the output file is complete. */
export async function predict(options: PredictOptions): Promise<PredictSummary> {
  const t0 = performance.now();
  const started = new Date();
  const o = resolvePredictOptions(options);
  const warnings: string[] = [];
  const warn = (m: string) => {
    warnings.push(m);
    options.warn?.(m);
  };
  // no output may be a file the run reads: checked before anything is read
  const specs = outputSpecs(o, runInputs(o));
  // a shard reports on its own part
  const report = o.report !== undefined && o.shard ? partPath(o.report, o.shard) : o.report;
  if (report !== undefined) resolveOutputTarget(report, runInputs(o), '--report');
  const out = specs[0]!.path;
  for (const d of o.crsDefs ?? []) registerCrsDefinition(d, '--crs-def');

  const { inputs, crs, plan, backend, contract, norm, layout, modelFile, regionText } = await setUp(o, warn);
  let outputs: RunOutputs | undefined;
  let journal: Journal | undefined;
  try {
    const ref = inputs.all[0]!;
    const K = contract.outBands;
    const N = contract.batchSize;
    const style = o.classes !== undefined ? classStyle(o, K) : null; // class count and colours are checked before any tile is read
    const selected = o.shard ? shardChunks(plan.chunks.list, o.shard) : plan.chunks.list;
    const chunks = o.chunkOrder ? o.chunkOrder(selected) : selected;
    if (chunks !== selected) {
      const given = new Set(selected);
      if (chunks.length !== selected.length || new Set(chunks).size !== chunks.length || chunks.some((c) => !given.has(c))) {
        throw new UsageError('chunkOrder must return the chunks it is given, each once');
      }
    }
    const workers = stackingThreads(o.workers, plan.tiles.length, o.device);
    const estimate = (order: readonly PlanChunk[]) => {
      const tiles = workList(plan, order);
      const blocks = planBlocks(layout, tiles, N, feedWindow(o.queueDepth));
      const memory = estimateMemory(plan, {
        tileFloats: tileFloats(layout), outBands: K, batchSize: N, queueDepth: o.queueDepth, blockSize: o.blockSize,
        slabBytes: layout.files.reduce((a, f, i) => a + blocks.slabs[i]! * slabFloats(f) * 4, 0),
      });
      return { tiles, blocks, memory };
    };
    let work = estimate(chunks);
    checkMemory(work.memory, o, N, N * contract.inputDims.slice(1).reduce((a, d) => a * d, 1), plan.chunks.size);
    const summary = (stats: ChunkStats, computedChunks: number, resumed: number, dryRun: boolean): PredictSummary => {
      const seconds = (performance.now() - t0) / 1000;
      return {
        out, dryRun, window: plan.window,
        tiles: { total: plan.counts.total, planned: plan.tiles.length, computed: stats.computed, skipped: plan.counts.skipped },
        chunks: {
          size: plan.chunks.size, across: plan.chunks.across, down: plan.chunks.down, total: plan.chunks.list.length,
          selected: chunks.length, computed: computedChunks, resumed, shard: o.shard,
          tileComputations: plan.chunks.computations,
          borderPercent: plan.tiles.length > 0 ? (100 * (plan.chunks.computations - plan.tiles.length)) / plan.tiles.length : 0,
        },
        batchSize: N, batches: stats.batches, outBands: K, seconds, tilesPerSecond: stats.computed / Math.max(seconds, 1e-9), time: stats.time,
        blocksDecoded: stats.decoded, blocksMinimum: work.blocks.decodes.reduce((a, d) => a + d, 0), workers,
        nonFinite: stats.nonFinite, inputs: stats.computed > 0 ? inputStatistics(layout, stats.stats, norm !== null) : [], memory: work.memory, warnings,
      };
    };
    const idle: ChunkStats = { computed: 0, batches: 0, time: { read: 0, infer: 0, blend: 0, write: 0 }, nonFinite: 0, decoded: 0, stats: [] };
    if (o.dryRun) {
      for (const s of specs) await checkOutputFolder(s.path, s.flag);
      return summary(idle, 0, 0, true);
    }

    const prov = await provenance(o, plan, norm, K, inputs.all, modelFile, regionText);
    const metadata = { ...prov.metadata, ...(o.shard ? { TILECAST_SHARD: `${o.shard.index}/${o.shard.count}` } : {}) };
    const facts = {
      ...prov.facts, shard: o.shard ? `${o.shard.index}/${o.shard.count}` : 'none', outputs: specs.map((s) => s.key).join(','),
      cog: String(o.cog ?? false), colors: o.colors ?? 'default',
    };
    journal = await Journal.open(Object.fromEntries(specs.map((s) => [s.key, s.target])), out, facts, plan.chunks.list.length, o.resume, warn);
    const theJournal = journal;
    const order = chunks.filter((c) => !theJournal.done.has(c.index));
    if (order.length < chunks.length) work = estimate(order);

    outputs = await RunOutputs.create(o, specs, plan, crs, ref, K, style, metadata, journal);
    const theOutputs = outputs;
    const stats = await computeChunks({
      o, plan, layout, backend, sampleDims: contract.inputDims.slice(1), outBands: K, batchSize: N, workers,
      order, tiles: work.tiles, blocks: work.blocks, warn, t0,
      ...(o.onProgress ? { onProgress: o.onProgress } : {}), ...(o.trace ? { trace: o.trace } : {}), ...(o.signal ? { signal: o.signal } : {}),
      write: (c, rows) => theOutputs.write(c, rows),
      chunkDone: async (c) => {
        const checkpoints = await theOutputs.checkpoint();
        failpoint('synced');
        await theJournal.complete(c.index, checkpoints);
      },
    });
    const inputStats = inputStatistics(layout, stats.stats, norm !== null);
    for (const s of inputStats) if (s.warning) warn(s.warning);
    const t = performance.now();
    const record = runRecord(o, started, workers);
    await outputs.close(record);
    stats.time.write += (performance.now() - t) / 1000;
    await journal.close(false);
    const result = summary(stats, order.length, chunks.length - order.length, false);
    if (report !== undefined) {
      const path = (key: string) => specs.find((s) => s.key === key)?.path;
      await runReport({
        path: report, plan, crs, input: o.dynamic[0]!, statistics: inputStats, title: `tilecast predict: ${out}`,
        classes: path('classes') && style ? { path: path('classes')!, style } : null,
        probabilities: path('out') ? { path: path('out')!, bandName: o.bandNames?.[0] ?? 'band 1' } : null,
        timing: {
          phases: Object.entries(stats.time).map(([name, seconds]) => ({ name: name === 'read' ? 'waiting for input' : name === 'infer' ? 'waiting for the model' : name, seconds })),
          totalSeconds: result.seconds, tiles: stats.computed,
        },
        provenance: { ...metadata, ...record },
      });
    }
    return result;
  } catch (err) {
    await outputs?.abort();
    const keep = o.resume && (outputs?.resumable ?? true);
    await journal?.close(keep);
    if (keep && journal !== undefined) {
      warn(`stopped: the complete chunks are kept in ${Object.values(journal.files.partials).join(' ')}; run the same command with --resume to finish`);
    }
    throw err;
  } finally {
    await tearDown(o, { inputs, backend, modelFile });
  }
}

/**
 * Refuse a run whose estimated peak memory exceeds what this machine (or its cgroup) has
 * available, naming the option that costs the most.
 */
function checkMemory(memory: MemoryEstimate, o: ResolvedPredictOptions, N: number, batchValues: number, chunk: number): void {
  if (batchValues > 2 ** 32) {
    throw new UsageError(`a batch of ${N} tiles of ${o.tile} x ${o.tile} holds ${batchValues} values, more than one buffer can hold (2^32): lower --batch-size or --tile`);
  }
  const available = availableMemory();
  if (memory.total <= available) return;
  const mb = (n: number) => `${Math.ceil(n / 2 ** 20)} MB`;
  const p = memory.parts;
  const perBatch = p.batchBuffers + p.outputTensors + p.model;
  const levers: [number, string][] = [
    [perBatch, `--batch-size ${N} (each tile costs ${mb(perBatch / N)}) or --queue-depth ${o.queueDepth}`],
    [p.slabs, `--chunk ${chunk} (the decoded input blocks of a chunk's tile row take ${mb(p.slabs)})`],
    [p.accumulator + p.outputBlocks, `--chunk ${chunk} or --block-size ${o.blockSize}`],
  ];
  levers.sort((a, b) => b[0] - a[0]);
  throw new UsageError(
    `the run needs about ${mb(memory.total)} of memory but ${mb(available)} are available: lower ${levers[0]![1]}; --dry-run shows the estimate`,
  );
}

/** Every file the run reads, with its flag: the output may be none of them. */
function runInputs(o: ResolvedPredictOptions): RunInput[] {
  return [
    ...o.dynamic.map((path) => ({ path, flag: '--dynamic' })),
    ...o.static.map((path) => ({ path, flag: '--static' })),
    { path: o.model, flag: '--model' },
    ...(typeof o.region === 'string' ? [{ path: o.region, flag: '--region' }] : []),
    ...(typeof o.norm === 'string' ? [{ path: o.norm, flag: '--norm' }] : []),
  ];
}

/** What the writer would find at create time, checked without creating anything (--dry-run). */
async function checkOutputFolder(out: string, flag: string): Promise<void> {
  const folder = dirname(resolve(out));
  const st = await stat(folder).catch(() => null);
  if (!st?.isDirectory()) throw new OutputError(`${flag} ${out}: the folder ${folder} does not exist; create it first`, { file: out });
}


