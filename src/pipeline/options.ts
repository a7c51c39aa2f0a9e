/**
 * The options of `predict`: their types, defaults and the one place they are checked.
 * `resolvePredictOptions` runs before any file is opened, so a bad value is a usage error
 * (exit 2) that names the flag and its real limit, for the CLI and the library alike.
 */
import type { WeightWindow } from '../blend/window.js';
import { parseWeightWindow, weightWindow, DEFAULT_WEIGHT_WINDOW } from '../blend/window.js';
import { UsageError } from '../errors.js';
import type { InferenceBackend } from '../infer/backend.js';
import type { Layout } from '../infer/contract.js';
import type { Norm } from '../infer/norm.js';
import { LIMITS, checkChoice, checkGrid, checkInteger, maxThreads, stripUndefined } from '../options.js';
import { resolve } from 'node:path';
import type { PlanChunk } from '../plan/plan.js';
import type { Compression } from '../write/options.js';
import { parseShard, type Shard } from './shards.js';
import { availableParallelism } from 'node:os';

/** Progress after each batch. */
export interface Progress {
  done: number;
  total: number;
  seconds: number;
}

export interface PredictOptions {
  /** The ONNX model (`--model`). */
  model: string;
  /** One GeoTIFF per time step, in time order (`--dynamic`). */
  dynamic: string[];
  /** GeoTIFFs whose bands are appended to every time step (`--static`). Default none. */
  static?: string[];
  /** GeoJSON region: a file path, or a parsed GeoJSON object (`--region`). */
  region: string | object;
  /**
   * Definitions `EPSG:N=<proj4 string>` for codes the EPSG registry lacks, or to override one
   * (`--crs-def`, repeatable). Registered process-wide before the inputs are opened.
   */
  crsDefs?: string[];
  /** CRS of the region's coordinates when not EPSG:4326, e.g. "EPSG:32633" (`--region-crs`). */
  regionCrs?: string | null;
  /** Output GeoTIFF of the probabilities (`--out`); optional when `classes` is given. */
  out?: string;
  /**
   * Class map (`--classes`): the argmax of the probabilities as uint8 with a colour table and the
   * class names (`bandNames`) as GDAL category names; 255 outside the region. Ties go to the
   * lowest class.
   */
  classes?: string;
  /** The winning probability as uint8 percent 0..100, 255 = nodata (`--confidence`). */
  confidence?: string;
  /** Class colours (`--colors`): `#rrggbb,...` or a JSON file of them, one per class. Default: a qualitative palette. */
  colors?: string;
  /** Write every output as a Cloud Optimized GeoTIFF (`--cog`): overviews average, nearest for the class map. */
  cog?: boolean;
  /** A self-contained HTML run report (`--report`). */
  report?: string;
  /** Tile size in pixels (`--tile`). Default 128. */
  tile?: number;
  /** Stride between tiles (`--stride`), 0 < stride <= tile. Default tile / 2. */
  stride?: number;
  /** Tiles per forward pass (`--batch-size`). Default 16. */
  batchSize?: number;
  /** Blending window (`--blend`). Default pyramid. */
  blend?: WeightWindow | string;
  /** Per-channel normalisation, or a JSON file with it (`--norm`). Default: the model's `tilecast.norm` metadata, else none. */
  norm?: Norm | string | null;
  /** Tensor layout the model takes (`--layout`). Default NTCHW. */
  layout?: Layout;
  /** Value of invalid input pixels after normalisation (`--fill`). Default 0. */
  fill?: number;
  /** Output nodata, outside the region (`--output-nodata`). Default NaN. */
  outputNodata?: number;
  /** Output band descriptions, one per model output band (`--band-names`). */
  bandNames?: string[];
  /** Where the model runs (`--device`). Default cpu. */
  device?: 'cpu' | 'cuda';
  /** onnxruntime intra-op threads, 0 = its default (`--threads`). */
  threads?: number;
  /** Output block size (`--block-size`). Default 256. */
  blockSize?: number;
  /** Output compression (`--compress`). Default deflate. */
  compression?: Compression;
  /**
   * Batches read ahead while the model runs (`--queue-depth`). Default 1: the next batch is read
   * while the current one runs, which is all the overlap there is to have; more costs a batch
   * buffer each (N·T·C·H·W·4 bytes, 113 MB for 16 tiles of 6 x 18 x 128 x 128).
   */
  queueDepth?: number;
  /** Run the model in a worker thread so reading overlaps it. Default true. */
  worker?: boolean;
  /**
   * Threads that decode, normalise and stack the input (`--workers`); 0 does it on the main
   * thread. Default: one per core; 0 for a run of at most SMALL_RUN tiles (starting threads
   * costs more than they save there) and for a CPU model on at most two cores (they would only
   * take cores from the model).
   */
  workers?: number;
  /**
   * Chunk side in pixels (`--chunk`), a multiple of the block size: the window is computed chunk
   * by chunk, which bounds memory by the chunk and is the unit of resume and sharding. Default
   * about 2048 (DEFAULT_CHUNK rounded to the block size). The output does not depend on it.
   */
  chunk?: number;
  /**
   * Continue a run of the same output that did not finish (`--resume`), from its last complete
   * chunk; and keep this run's partial output when it is interrupted, to resume it later. The
   * inputs, model and options must be those of the interrupted run.
   */
  resume?: boolean;
  /**
   * Compute only shard `I` of `N` (`--shard I/N`, or `auto`/`auto/N` to read I and N from the
   * job engine's array index): a balanced share of the chunks, written to a part file beside
   * `out` (NAME.part-I-of-N.tif); `merge` joins the parts.
   */
  shard?: string | { index: number; count: number };
  /**
   * Reorder the chunks before they run (tests of order independence, custom schedules). It must
   * return the same chunks. Default: row-major.
   */
  chunkOrder?: (chunks: readonly PlanChunk[]) => PlanChunk[];
  /** The command line that started the run, for the provenance record (the CLI sets it). */
  commandLine?: string;
  /** Plan and check everything, read no pixel, write nothing (`--dry-run`). */
  dryRun?: boolean;
  /** Called after each batch is blended. */
  onProgress?: (p: Progress) => void;
  /** Receives warnings (CUDA fallback, fixed batch size, non-finite predictions). */
  warn?: (message: string) => void;
  signal?: AbortSignal;
  /** Use this backend instead of opening `model` (tests, custom runtimes). */
  backend?: InferenceBackend;
  /** Called as each batch's reading and inference start and end (tests, profiling). */
  trace?: (event: 'read-start' | 'read-end' | 'infer-start' | 'infer-end', batch: number) => void;
}

/** Runs of at most this many tiles stack on the main thread unless `workers` says otherwise. */
export const SMALL_RUN = 256;

/**
 * Stacking threads for a run of `tiles` tiles: `workers` when given, else one per core; none for a
 * small run, nor for a model on the CPU of a machine with at most two cores, where the threads only
 * take cores from the model (measured on 2 cores, the bench's tiny model at batch 16: 83 tiles/s on
 * the main thread, 68 with 1, 2 or 4 threads).
 */
export function stackingThreads(workers: number | undefined, tiles: number, device: 'cpu' | 'cuda', cores = availableParallelism()): number {
  if (workers !== undefined) return workers;
  return tiles <= SMALL_RUN || (device === 'cpu' && cores <= 2) ? 0 : cores;
}

export const DEFAULT_PREDICT = {
  tile: 128,
  batchSize: 16,
  layout: 'NTCHW' as Layout,
  fill: 0,
  outputNodata: Number.NaN,
  blockSize: 256,
  compression: 'deflate' as Compression,
  queueDepth: 1,
};

const COMPRESSIONS: readonly Compression[] = ['deflate', 'zstd', 'lzw', 'none'];

/** PredictOptions with every default filled in and every value checked. */
export interface ResolvedPredictOptions extends Omit<PredictOptions, 'blend' | 'shard'> {
  shard: Shard | null;
  resume: boolean;
  tile: number;
  stride: number;
  batchSize: number;
  layout: Layout;
  fill: number;
  outputNodata: number;
  blockSize: number;
  compression: Compression;
  queueDepth: number;
  device: 'cpu' | 'cuda';
  threads: number;
  static: string[];
  blend: WeightWindow;
  /** The T × T weight window of `blend`. */
  weights: Float64Array;
}

/** Fill in the defaults and check every option; throws UsageError naming the flag, its limit and the value. */
export function resolvePredictOptions(options: PredictOptions): ResolvedPredictOptions {
  const o = { ...DEFAULT_PREDICT, ...stripUndefined(options) } as PredictOptions & typeof DEFAULT_PREDICT;
  if ((typeof o.out !== 'string' || o.out === '') && (typeof o.classes !== 'string' || o.classes === '')) {
    throw new UsageError('--out or --classes is required: the probabilities and/or the class map to write');
  }
  for (const [flag, v] of [['--out', o.out], ['--classes', o.classes], ['--confidence', o.confidence], ['--report', o.report]] as const) {
    if (v !== undefined && (typeof v !== 'string' || v === '')) throw new UsageError(`${flag} must be a file path`);
  }
  const paths = [o.out, o.classes, o.confidence, o.report].filter((p): p is string => p !== undefined).map((p) => resolve(p));
  if (new Set(paths).size !== paths.length) throw new UsageError('--out, --classes, --confidence and --report must be different files');
  if (typeof o.model !== 'string' || o.model === '') throw new UsageError('--model is required: the ONNX model file');
  if (!Array.isArray(o.dynamic) || o.dynamic.length === 0) throw new UsageError('no dynamic inputs: give one GeoTIFF per time step with --dynamic t0.tif t1.tif ...');
  const { tile, stride, blockSize } = checkGrid({ tile: o.tile, stride: o.stride, blockSize: o.blockSize, chunk: o.chunk });
  const batchSize = checkInteger(o.batchSize, '--batch-size', LIMITS.batchSize.min, LIMITS.batchSize.max, 'tiles per forward pass');
  const queueDepth = checkInteger(o.queueDepth, '--queue-depth', LIMITS.queueDepth.min, LIMITS.queueDepth.max, 'batches read ahead; each costs a batch buffer');
  const threads = checkInteger(o.threads ?? 0, '--threads', 0, maxThreads(), `0 = onnxruntime decides; at most 4 per core of this machine`);
  const workers = o.workers === undefined ? undefined : checkInteger(o.workers, '--workers', 0, maxThreads(), '0 = the main thread; at most 4 per core of this machine');
  if (typeof o.fill !== 'number') throw new UsageError(`--fill must be a number, got ${String(o.fill)}`);
  if (typeof o.outputNodata !== 'number') throw new UsageError(`--output-nodata must be a number or nan, got ${String(o.outputNodata)}`);
  const layout = checkChoice(o.layout, '--layout', ['NTCHW', 'NCHW'] as const);
  const compression = checkChoice(o.compression, '--compress', COMPRESSIONS);
  const device = checkChoice(o.device ?? 'cpu', '--device', ['cpu', 'cuda'] as const);
  const blend = typeof o.blend === 'string' ? parseWeightWindow(o.blend, '--blend') : (o.blend ?? DEFAULT_WEIGHT_WINDOW);
  const weights = weightWindow(blend, tile, '--blend');
  if (o.crsDefs !== undefined && !(Array.isArray(o.crsDefs) && o.crsDefs.every((d) => typeof d === 'string'))) {
    throw new UsageError("--crs-def must be given as 'EPSG:N=<proj4 string>', once per code");
  }
  if (o.bandNames !== undefined && !(Array.isArray(o.bandNames) && o.bandNames.every((n) => typeof n === 'string' && n !== ''))) {
    throw new UsageError('--band-names must be a comma-separated list of names, one per model output band');
  }
  const shard = o.shard === undefined ? null : parseShard(o.shard);
  if (shard !== null && o.cog) {
    throw new UsageError(`--cog with --shard: a part is not the finished file; give --cog to the merge instead (tilecast merge PARTS... --out OUT --cog)`);
  }
  return {
    ...o, tile, stride, batchSize, queueDepth, blockSize, threads, workers, layout, compression, device, blend, weights, shard,
    resume: o.resume ?? false, static: o.static ?? [],
  };
}
