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
import { realpath, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { formatWeightWindow } from '../blend/window.js';
import type { Norm } from '../infer/norm.js';
import type { Plan } from '../plan/plan.js';
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

/** The provenance of a run's outputs. */
export async function provenance(o: ResolvedPredictOptions, plan: Plan, norm: Norm | null, outBands: number): Promise<Provenance> {
  const files = [...o.dynamic, ...o.static];
  const stats = await Promise.all(files.map((f) => stat(f)));
  const region = typeof o.region === 'string' ? await sha256File(o.region) : sha256(JSON.stringify(o.region));
  const metadata: Record<string, string> = {
    TILECAST_VERSION: VERSION,
    TILECAST_MODEL: basename(o.model),
    TILECAST_MODEL_SHA256: await sha256File(o.model),
    TILECAST_DYNAMIC: JSON.stringify(o.dynamic.map((f, i) => ({ file: basename(f), bytes: stats[i]!.size }))),
    TILECAST_STATIC: JSON.stringify(o.static.map((f, i) => ({ file: basename(f), bytes: stats[o.dynamic.length + i]!.size }))),
    TILECAST_REGION: typeof o.region === 'string' ? basename(o.region) : '(GeoJSON object)',
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
  const where = await Promise.all(files.map(async (f, i) => `${await realpath(f)}:${stats[i]!.size}:${Math.round(stats[i]!.mtimeMs)}`));
  const facts: Record<string, string> = {
    ...metadata,
    inputs: where.join(' '),
    output: `${o.compression} block ${o.blockSize} nodata ${o.outputNodata} bands ${(o.bandNames ?? []).join(',')}`,
    crsDefs: (o.crsDefs ?? []).join(' '),
  };
  metadata.TILECAST_PLAN = sha256(JSON.stringify(facts)).slice(0, 32);
  // the chunk grid does not change the pixels, but a partial output is laid out by it
  return { metadata, facts: { ...facts, chunk: String(plan.chunks.size) } };
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
