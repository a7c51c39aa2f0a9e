/**
 * Everything a run needs before it reads a pixel: the inputs' headers (one pixel grid), the region
 * in pixels, the plan, the model checked against the inputs, and the normalisation.
 */
import { randomBytes } from 'node:crypto';
import { readFile, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { channelLayout, type ChannelLayout } from '../batch/layout.js';
import { ModelError, RegionError, UsageError } from '../errors.js';
import type { InferenceBackend } from '../infer/backend.js';
import { checkModelContract, type ModelContract } from '../infer/contract.js';
import { readNorm, type Norm } from '../infer/norm.js';
import { openOnnx } from '../infer/onnx.js';
import { openWorkerBackend } from '../infer/worker-backend.js';
import { makePlan, type Plan } from '../plan/plan.js';
import { parseRegion, regionToPixels, regionWarnings } from '../plan/region.js';
import { BlockCache } from '../raster/block-cache.js';
import { isUrl, readBytes, readText } from '../raster/byte-source.js';
import { parseCrs } from '../raster/crs.js';
import type { Crs } from '../raster/types.js';
import { createTempFile, forgetTempFile } from '../write/temp-files.js';
import { closeInputs, openInputs, type Inputs } from './inputs.js';
import type { PredictOptions, ResolvedPredictOptions } from './options.js';

export interface RunSetup {
  inputs: Inputs;
  /** The model file onnxruntime reads: `--model`, or a temporary copy of a model given by URL. */
  modelFile: string;
  /** The region's GeoJSON text (null when it was given as an object). */
  regionText: string | null;
  crs: Crs;
  plan: Plan;
  backend: InferenceBackend;
  contract: ModelContract;
  norm: Norm | null;
  layout: ChannelLayout;
}

/** Open and check everything; on failure, what was opened is closed again. */
export async function setUp(o: ResolvedPredictOptions, warn: (m: string) => void): Promise<RunSetup> {
  const inputs = await openInputs(o.dynamic, o.static, new BlockCache({ budgetMB: 0 }));
  let backend: InferenceBackend | undefined;
  let modelFile: string | undefined;
  try {
    const ref = inputs.all[0]!;
    const crs = ref.crs!;
    const regionFile = typeof o.region === 'string' ? o.region : '--region';
    let regionText: string | null = null;
    if (typeof o.region === 'string') {
      try {
        regionText = await readText(o.region, o.signal ? { signal: o.signal } : {});
      } catch (err) {
        throw new RegionError(`${(err as Error).message} (--region)`, { file: o.region, cause: err });
      }
    }
    const region = parseRegion(regionText ?? o.region, regionFile);
    regionWarnings(region).forEach(warn);
    const pixels = regionToPixels(region, {
      rasterCrs: crs,
      geoTransform: ref.geoTransform!,
      rasterSize: { width: ref.width, height: ref.height },
      regionCrs: o.regionCrs ? parseCrs(o.regionCrs, '--region-crs') : null,
      rasterFile: ref.path,
    });
    const plan = makePlan({
      width: ref.width, height: ref.height, geoTransform: ref.geoTransform!, region: pixels, tile: o.tile, stride: o.stride,
      blockSize: o.blockSize, regionFile, ...(o.chunk !== undefined ? { chunkSize: o.chunk } : {}),
    });

    // the model against the inputs, before any tile is read
    const T = inputs.dynamic.length;
    const dynamicBands = inputs.dynamic[0]!.bandCount;
    const staticBands = inputs.statics.reduce((a, s) => a + s.bandCount, 0);
    const C = dynamicBands + staticBands;
    const onnxOptions = { device: o.device, threads: o.threads, warn };
    modelFile = o.backend ? o.model : await localModel(o.model, o.signal);
    backend = o.backend ?? (o.worker === false ? await openOnnx(modelFile, onnxOptions) : await openWorkerBackend(modelFile, onnxOptions));
    const contract = await checkModelContract(backend, {
      layout: o.layout, T, C, tile: o.tile, batchSize: o.batchSize, dynamicBands, staticBands,
      ...(o.bandNames ? { outBands: o.bandNames.length } : {}),
    });
    contract.warnings.forEach(warn);
    const norm = await loadNorm(o.norm, backend.info.props, o.model, C);
    const layout = channelLayout(inputs.dynamic, inputs.statics, o.tile, norm, o.fill);
    return { inputs, crs, plan, backend, contract, norm, layout, modelFile, regionText };
  } catch (err) {
    await tearDown(o, { inputs, backend, modelFile });
    throw err;
  }
}

/**
 * Close what setUp opened (the backend unless the caller gave it, the inputs) and delete a model
 * copied from a URL; each step runs even when one before it fails.
 */
export async function tearDown(o: ResolvedPredictOptions, run: { inputs: Inputs; backend: InferenceBackend | undefined; modelFile: string | undefined }): Promise<void> {
  try {
    if (!o.backend) await run.backend?.close();
  } finally {
    try {
      await closeInputs(run.inputs);
    } finally {
      if (run.modelFile !== undefined && run.modelFile !== o.model) await removeTempFile(run.modelFile);
    }
  }
}

async function removeTempFile(path: string): Promise<void> {
  await unlink(path).catch(() => undefined);
  forgetTempFile(path);
}

/** The model as a local file: the path given, or a copy of a model given by URL in the temporary folder. */
async function localModel(model: string, signal?: AbortSignal): Promise<string> {
  if (!isUrl(model)) return model;
  let bytes: Uint8Array;
  try {
    bytes = await readBytes(model, signal ? { signal } : {});
  } catch (err) {
    throw new ModelError(`${(err as Error).message} (--model)`, { file: model, cause: err });
  }
  const path = join(tmpdir(), `.tilecast-model-${process.pid}-${randomBytes(4).toString('hex')}.onnx`);
  try {
    createTempFile(path);
    await writeFile(path, bytes, { flag: 'r+' });
  } catch (err) {
    await removeTempFile(path);
    throw new ModelError(`${model}: cannot keep a copy in ${tmpdir()}: ${(err as Error).message} (--model)`, { file: model, cause: err });
  }
  return path;
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
