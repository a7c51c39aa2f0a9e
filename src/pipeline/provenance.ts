/**
 * What a run records about itself. Two kinds:
 *
 * - facts: what determines the output's pixels (inputs by name and size, the model and region by
 *   SHA-256, normalisation, tiling, blending, the plan). They go into the GeoTIFF's metadata,
 *   and their hash (TILECAST_PLAN) identifies the plan: a resumed run, or the parts of a sharded
 *   run, must share it. They do not depend on batch size, workers, chunk order or time, so the
 *   file's bytes do not either.
 * - the run record: the command line (or library options), start and end time, batch size and
 *   threads. It goes into the PAM sidecar (`OUT.aux.xml`), which GDAL and QGIS show with the
 *   file's own metadata and `tilecast info` prints.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { realpath } from 'node:fs/promises';
import { basename } from 'node:path';
import { formatWeightWindow } from '../blend/window.js';
import type { Norm } from '../infer/norm.js';
import type { Plan } from '../plan/plan.js';
import { isUrl } from '../raster/byte-source.js';
import type { RasterSource } from '../raster/source.js';
import { VERSION } from '../version.js';
import type { ResolvedPredictOptions } from './options.js';

/** SHA-256 of a file, streamed. */
export function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (d) => h.update(d))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export interface Provenance {
  /** GDAL metadata items of the output (stable: they describe its pixels). */
  metadata: Record<string, string>;
  /** What a resumed run must find unchanged: the metadata plus where the inputs are and when they were written. */
  facts: Record<string, string>;
}

/**
 * The provenance of a run's outputs.
 * @param sources the inputs as opened (dynamic, then static): their sizes and versions
 * @param modelFile the model as onnxruntime reads it (a local copy of a model given by URL)
 * @param regionText the region's GeoJSON text, null when it was given as an object
 */
export async function provenance(
  o: ResolvedPredictOptions, plan: Plan, norm: Norm | null, outBands: number,
  sources: readonly RasterSource[], modelFile: string, regionText: string | null,
): Promise<Provenance> {
  const region = sha256(regionText ?? JSON.stringify(o.region));
  const name = (f: string) => basename(isUrl(f) ? new URL(f).pathname : f);
  const list = (files: readonly string[], first: number) => JSON.stringify(files.map((f, i) => ({ file: name(f), bytes: sources[first + i]!.fileSize })));
  const metadata: Record<string, string> = {
    TILECAST_VERSION: VERSION,
    TILECAST_MODEL: name(o.model),
    TILECAST_MODEL_SHA256: await sha256File(modelFile),
    TILECAST_DYNAMIC: list(o.dynamic, 0),
    TILECAST_STATIC: list(o.static, o.dynamic.length),
    TILECAST_REGION: typeof o.region === 'string' ? name(o.region) : '(GeoJSON object)',
    TILECAST_REGION_SHA256: region,
    TILECAST_REGION_CRS: o.regionCrs ?? 'EPSG:4326',
    TILECAST_NORM: norm ? JSON.stringify(norm) : 'none',
    TILECAST_TILE: String(o.tile),
    TILECAST_STRIDE: String(o.stride),
    TILECAST_BLEND: formatWeightWindow(o.blend),
    TILECAST_FILL: String(o.fill),
    TILECAST_LAYOUT: o.layout,
    TILECAST_OUTPUT_BANDS: String(outBands),
    TILECAST_WINDOW: `${plan.window.x},${plan.window.y},${plan.window.width},${plan.window.height}`,
  };
  // where each input is and which version of it: a resumed run must find the same
  const files = [...o.dynamic, ...o.static];
  const where = await Promise.all(files.map(async (f, i) => `${isUrl(f) ? f : await realpath(f)}:${sources[i]!.fileSize}:${sources[i]!.fileVersion}`));
  const pixels: Record<string, string> = {
    ...metadata,
    output: `${o.compression} block ${o.blockSize} nodata ${o.outputNodata} bands ${(o.bandNames ?? []).join(',')}`,
    crsDefs: (o.crsDefs ?? []).join(' '),
  };
  // the plan: what determines the pixels, not where the inputs are read from
  metadata.TILECAST_PLAN = sha256(JSON.stringify(pixels)).slice(0, 32);
  // a resumed run must also find the same input files, unchanged, and the same chunk grid (the
  // chunks do not change the pixels, but a partial output is laid out by them)
  return { metadata, facts: { ...pixels, TILECAST_PLAN: metadata.TILECAST_PLAN, inputs: where.join(' '), chunk: String(plan.chunks.size) } };
}

/** The run record: how and when this run was made. */
export function runRecord(o: ResolvedPredictOptions, started: Date, workers: number): Record<string, string> {
  const library = Object.fromEntries(Object.entries(o).filter(([k, v]) => typeof v !== 'function' && typeof v !== 'object' || Array.isArray(v) || k === 'norm' || k === 'blend').filter(([k]) => !['backend', 'signal', 'weights'].includes(k)));
  return {
    TILECAST_COMMAND: o.commandLine ?? `predict(${JSON.stringify(library)})`,
    TILECAST_STARTED: started.toISOString(),
    TILECAST_FINISHED: new Date().toISOString(),
    TILECAST_BATCH_SIZE: String(o.batchSize),
    TILECAST_WORKERS: String(workers),
    TILECAST_DEVICE: o.device,
  };
}
