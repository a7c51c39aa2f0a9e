/**
 * predict: region + inputs + model → one blended, georeferenced GeoTIFF.
 *
 *   plan ──> read/stack (batch b+1..b+depth) ──> infer (batch b, worker thread) ──> blend ──> write
 *
 * Reading and stacking of the next batches overlap the model's forward pass (the model runs in a
 * worker thread; decoding runs on libuv's thread pool); blending adds tiles in plan order and
 * hands finished block rows to the streaming writer. Results are the same for every batch size
 * and queue depth: tiles are blended one at a time in plan order.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { planBlocks, slabFloats, type TileList } from '../batch/blocks.js';
import { BatchFeed, feedWindow } from '../batch/feed.js';
import { channelLayout, tileFloats } from '../batch/layout.js';
import { BlendAccumulator } from '../blend/accumulator.js';
import { TileMasks } from '../blend/masks.js';
import { AbortedError, OutputError, RegionError, UsageError } from '../errors.js';
import type { InferenceBackend, RunResult } from '../infer/backend.js';
import { checkModelContract } from '../infer/contract.js';
import { readNorm, type Norm } from '../infer/norm.js';
import { openOnnx } from '../infer/onnx.js';
import { openWorkerBackend } from '../infer/worker-backend.js';
import { estimateMemory, makePlan, type MemoryEstimate } from '../plan/plan.js';
import { parseRegion, regionToPixels, regionWarnings } from '../plan/region.js';
import { BlockCache } from '../raster/block-cache.js';
import { parseCrs, registerCrsDefinition } from '../raster/crs.js';
import { areaKeys } from '../write/georef.js';
import { createGeoTiffWriter, type GeoTiffWriter } from '../write/writer.js';
import { availableMemory } from '../options.js';
import { resolveOutputTarget, type RunInput } from '../write/target.js';
import { closeInputs, openInputs } from './inputs.js';
import { resolvePredictOptions, stackingThreads, type PredictOptions, type ResolvedPredictOptions } from './options.js';

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
  /** Non-finite model outputs inside the region (reported, and written as they are). */
  nonFinite: number;
  memory: MemoryEstimate;
  warnings: string[];
}

async function loadNorm(norm: PredictOptions['norm'], props: Record<string, string>, model: string, C: number): Promise<Norm | null> {
  if (norm === null || norm === undefined) return readNorm(props, model, C);
  let value: unknown = norm;
  const file = typeof norm === 'string' ? norm : '--norm';
  if (typeof norm === 'string') {
    try {
      value = JSON.parse(await readFile(norm, 'utf8'));
    } catch (err) {
      throw new UsageError(`--norm ${norm}: cannot read it as JSON (${(err as Error).message}); expected {"mean": [${C} numbers], "std": [${C} numbers]}`);
    }
  }
  const { mean, std } = value as { mean?: unknown; std?: unknown };
  const ok = (a: unknown): a is number[] => Array.isArray(a) && a.every((x) => typeof x === 'number' && Number.isFinite(x));
  if (!ok(mean) || !ok(std)) throw new UsageError(`${file}: needs numeric arrays "mean" and "std" (--norm)`);
  if (mean.length !== C || std.length !== C) {
    throw new UsageError(`${file}: "mean" has ${mean.length} and "std" ${std.length} entries, expected ${C}: one per channel of a time step (dynamic bands, then static bands) (--norm)`);
  }
  if (std.some((s) => s <= 0)) throw new UsageError(`${file}: every "std" must be > 0 (--norm)`);
  return { mean, std };
}

/** Run a prediction. Resolves with the summary once the output file is complete. */
export async function predict(options: PredictOptions): Promise<PredictSummary> {
  const t0 = performance.now();
  const o = resolvePredictOptions(options);
  const { stride, weights, blend } = o;
  const warnings: string[] = [];
  const warn = (m: string) => {
    warnings.push(m);
    options.warn?.(m);
  };
  // the output may not be any file the run reads: checked before anything is read
  resolveOutputTarget(o.out, runInputs(o));
  for (const d of o.crsDefs ?? []) registerCrsDefinition(d, '--crs-def');

  const inputs = await openInputs(o.dynamic, o.static, new BlockCache({ budgetMB: 0 }));
  let backend: InferenceBackend | undefined;
  let writer: GeoTiffWriter | undefined;
  let feed: BatchFeed | undefined;
  try {
    const ref = inputs.all[0]!;
    const crs = ref.crs!;
    // plan
    const regionFile = typeof o.region === 'string' ? o.region : '--region';
    let regionJson: unknown = o.region;
    if (typeof o.region === 'string') {
      try {
        regionJson = await readFile(o.region, 'utf8');
      } catch (err) {
        throw new RegionError(`${o.region}: cannot read the region file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); check --region`, { file: o.region, cause: err });
      }
    }
    const region = parseRegion(regionJson, regionFile);
    regionWarnings(region).forEach(warn);
    const pixels = regionToPixels(region, {
      rasterCrs: crs,
      geoTransform: ref.geoTransform!,
      rasterSize: { width: ref.width, height: ref.height },
      regionCrs: o.regionCrs ? parseCrs(o.regionCrs, '--region-crs') : null,
      rasterFile: ref.path,
    });
    const plan = makePlan({ width: ref.width, height: ref.height, geoTransform: ref.geoTransform!, region: pixels, tile: o.tile, stride, blockSize: o.blockSize, regionFile });

    // model contract, before any tile is read
    const T = inputs.dynamic.length;
    const dynamicBands = inputs.dynamic[0]!.bandCount;
    const staticBands = inputs.statics.reduce((a, s) => a + s.bandCount, 0);
    const C = dynamicBands + staticBands;
    const onnxOptions = { device: o.device, threads: o.threads, warn };
    backend = o.backend ?? (o.worker === false ? await openOnnx(o.model, onnxOptions) : await openWorkerBackend(o.model, onnxOptions));
    const contract = await checkModelContract(backend, {
      layout: o.layout, T, C, tile: o.tile, batchSize: o.batchSize, dynamicBands, staticBands,
      ...(o.bandNames ? { outBands: o.bandNames.length } : {}),
    });
    contract.warnings.forEach(warn);
    const K = contract.outBands;
    const N = contract.batchSize;
    const norm = await loadNorm(o.norm, backend.info.props, o.model, C);
    const layout = channelLayout(inputs.dynamic, inputs.statics, o.tile, norm, o.fill);
    const tiles: TileList = { x: Int32Array.from(plan.tiles, (t) => t.x), y: Int32Array.from(plan.tiles, (t) => t.y) };
    const blocks = planBlocks(layout, tiles, N, feedWindow(o.queueDepth));
    const memory = estimateMemory(plan, {
      tileFloats: tileFloats(layout), outBands: K, batchSize: N, queueDepth: o.queueDepth,
      slabBytes: layout.files.reduce((a, f, i) => a + blocks.slabs[i]! * slabFloats(f) * 4, 0),
      blockSize: o.blockSize,
    });
    checkMemory(memory, o, N, N * contract.inputDims.slice(1).reduce((a, d) => a * d, 1));
    const minimumDecodes = blocks.decodes.reduce((a, d) => a + d, 0);
    const workers = stackingThreads(o.workers, plan.tiles.length);

    const summary = (computed: number, batches: number, time: PredictSummary['time'], nonFinite: number, decoded: number, dryRun: boolean): PredictSummary => {
      const seconds = (performance.now() - t0) / 1000;
      return {
        out: o.out, dryRun, window: plan.window,
        tiles: { total: plan.counts.total, planned: plan.tiles.length, computed, skipped: plan.counts.skipped },
        batchSize: N, batches, outBands: K, seconds, tilesPerSecond: computed / Math.max(seconds, 1e-9), time,
        blocksDecoded: decoded, blocksMinimum: minimumDecodes, workers, nonFinite, memory, warnings,
      };
    };
    if (o.dryRun) {
      await checkOutputFolder(o.out);
      return summary(0, 0, { read: 0, infer: 0, blend: 0, write: 0 }, 0, 0, true);
    }

    writer = await createGeoTiffWriter(o.out, {
      width: plan.window.width, height: plan.window.height, bandCount: K, dataType: 'float32',
      geoTransform: plan.outputGeoTransform, crs, nodata: o.outputNodata,
      // a CRS without an EPSG code goes to the output as the input's own GeoKeys
      ...(crs.epsg === null && ref.rawGeoKeys ? { geoKeys: areaKeys(ref.rawGeoKeys) } : {}),
      bandDescriptions: o.bandNames ?? [], blockSize: o.blockSize, compression: o.compression,
      metadata: { TILECAST_MODEL: basename(o.model), TILECAST_TILE: String(o.tile), TILECAST_STRIDE: String(stride), TILECAST_BLEND: blend.kind },
      ...(o.signal ? { signal: o.signal } : {}),
    });
    const trace = o.trace ?? (() => {});
    feed = await BatchFeed.open({ layout, tiles, batchSize: N, queueDepth: o.queueDepth, workers, blocks, trace });
    const acc = new BlendAccumulator({ window: plan.window, tiles: plan.tiles, tile: o.tile, bands: K, weights, blockRows: o.blockSize, nodata: o.outputNodata });
    const masks = new TileMasks(plan.region, plan.window, o.tile);
    const time = { read: 0, infer: 0, blend: 0, write: 0 };
    const batches = feed.batches;
    const sampleDims = contract.inputDims.slice(1);
    const outPerTile = K * o.tile * o.tile;
    // two output buffers: one in the model, one being blended
    const outputs: Float32Array[] = [new Float32Array(N * outPerTile), new Float32Array(N * outPerTile)];
    const theFeed = feed;

    // start the model on batch b as soon as it is assembled; the time it waits is the read stall
    const startRun = async (b: number): Promise<RunResult> => {
      const t = performance.now();
      const batch = (await theFeed.next())!;
      time.read += (performance.now() - t) / 1000;
      if (o.signal?.aborted) throw new AbortedError('prediction aborted');
      trace('infer-start', b);
      const result = await backend!.run(batch.buffer, [batch.count, ...sampleDims], outputs.pop()!);
      trace('infer-end', b);
      return result;
    };
    let nonFiniteReported = 0;
    let running: Promise<RunResult> | null = null;
    try {
      if (batches > 0) running = startRun(0);
      for (let b = 0; b < batches; b++) {
        let t = performance.now();
        const result: RunResult = await running!;
        time.infer += (performance.now() - t) / 1000;
        theFeed.release(result.input);
        // the model goes on with the next batch while this one is blended and written
        running = b + 1 < batches ? startRun(b + 1) : null;
        running?.catch(() => {}); // awaited next round; failures surface there
        const n = Math.min(N, plan.tiles.length - b * N);

        // tile by tile in plan order; a block row is written as soon as no later tile touches it
        for (let i = 0; i < n; i++) {
          t = performance.now();
          const tile = plan.tiles[b * N + i]!;
          acc.add(b * N + i, result.output.subarray(i * outPerTile, (i + 1) * outPerTile), masks.of(tile.x, tile.y));
          const finished = [...acc.drain()];
          time.blend += (performance.now() - t) / 1000;
          t = performance.now();
          for (const rows of finished) await writer.writeBlockRow(rows.index, rows.data);
          time.write += (performance.now() - t) / 1000;
        }
        if (acc.nonFinite > nonFiniteReported) {
          warn(`the model returned ${acc.nonFinite - nonFiniteReported} NaN/Inf value(s) inside the region in batch ${b + 1} (tiles ${b * N + 1}..${b * N + n}); they are written as NaN`);
          nonFiniteReported = acc.nonFinite;
        }
        // the same memory comes back (a worker backend moved it to its thread and back)
        const back = result.output;
        outputs.push(back.buffer.byteLength - back.byteOffset >= N * outPerTile * 4 ? new Float32Array(back.buffer, back.byteOffset, N * outPerTile) : new Float32Array(N * outPerTile));
        o.onProgress?.({ done: Math.min(plan.tiles.length, (b + 1) * N), total: plan.tiles.length, seconds: (performance.now() - t0) / 1000 });
      }
      const t = performance.now();
      for (const rows of acc.drain()) await writer.writeBlockRow(rows.index, rows.data);
      await writer.close();
      time.write += (performance.now() - t) / 1000;
    } finally {
      // a failure may leave a batch in the model: let it settle before the files and the model are closed
      if (running) await Promise.allSettled([running]);
    }
    return summary(plan.tiles.length, batches, time, acc.nonFinite, theFeed.decoded, false);
  } catch (err) {
    await writer?.abort();
    throw err;
  } finally {
    await feed?.close();
    if (!o.backend) await backend?.close();
    await closeInputs(inputs);
  }
}

/**
 * Refuse a run whose estimated peak memory exceeds what this machine (or its cgroup) has
 * available, naming the option that costs the most.
 */
function checkMemory(memory: MemoryEstimate, o: ResolvedPredictOptions, N: number, batchValues: number): void {
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
    [p.slabs, `the region's width (the decoded input blocks of a tile row take ${mb(p.slabs)})`],
    [p.accumulator + p.outputBlocks, `--block-size ${o.blockSize} or the region's width`],
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
async function checkOutputFolder(out: string): Promise<void> {
  const folder = dirname(resolve(out));
  const st = await stat(folder).catch(() => null);
  if (!st?.isDirectory()) throw new OutputError(`--out ${out}: the folder ${folder} does not exist; create it first`, { file: out });
}


