/**
 * Join the part files of a sharded run (`predict --shard I/N`) into one GeoTIFF (or COG).
 *
 * Every part is a GeoTIFF of the whole output window in which only its shard's chunks are
 * written (the other blocks are sparse), tagged with its shard (TILECAST_SHARD = I/N) and its plan
 * (TILECAST_PLAN, the hash of what determines the pixels). The parts must share the plan and
 * cover every shard 0..N-1 exactly once. Their blocks are copied as they are stored (no decoding
 * or re-encoding) in the canonical layout, so the merged file has the same bytes as a
 * single-process run of the same plan.
 */
import { InputError, UsageError } from '../errors.js';
import { RasterSource } from '../raster/source.js';
import { classStyleOf } from './pam.js';
import { resolveOutputTarget } from './target.js';
import { createGeoTiffWriter } from './writer.js';
import type { Compression, OverviewResampling } from './options.js';

export interface MergeOptions {
  /** Write a Cloud Optimized GeoTIFF (overviews: average, nearest for a class map). Default false. */
  cog?: boolean;
  /** Overview resampling of a COG; default average, nearest for a file with a colour table. */
  overviewResampling?: OverviewResampling;
  /** The command line, for the run record in the PAM sidecar (with the start and end time). */
  command?: string;
  signal?: AbortSignal;
}

export interface MergeSummary {
  output: string;
  parts: number;
  blocks: number;
  seconds: number;
}

interface Part {
  path: string;
  src: RasterSource;
  shard: [number, number];
  plan: string;
}

const COMPRESSIONS: Record<number, Compression> = { 1: 'none', 5: 'lzw', 8: 'deflate', 50000: 'zstd' };

export async function merge(paths: readonly string[], output: string, options: MergeOptions = {}): Promise<MergeSummary> {
  const t0 = performance.now();
  const started = new Date();
  if (paths.length === 0) throw new UsageError('merge: no part files given; usage: tilecast merge PARTS... --out OUT');
  resolveOutputTarget(output, paths.map((path) => ({ path, flag: 'PARTS' })));
  const parts: Part[] = [];
  try {
    for (const path of paths) parts.push(await openPart(path));
    const first = parts[0]!;
    const [, count] = first.shard;
    for (const p of parts) {
      if (p.plan !== first.plan) {
        throw new UsageError(`merge: ${p.path} is a part of another run than ${first.path} (plan ${p.plan} vs ${first.plan}): give the parts of one run`);
      }
      if (p.shard[1] !== count) throw new UsageError(`merge: ${p.path} is shard ${p.shard.join('/')} but ${first.path} is one of ${count}: give the parts of one run`);
      if (p.src.width !== first.src.width || p.src.height !== first.src.height || p.src.bandCount !== first.src.bandCount || p.src.dataType !== first.src.dataType) {
        throw new UsageError(`merge: ${p.path} is ${p.src.width} x ${p.src.height} x ${p.src.bandCount} ${p.src.dataType}, ${first.path} ${first.src.width} x ${first.src.height} x ${first.src.bandCount} ${first.src.dataType}: give the parts of one run`);
      }
    }
    const seen = new Map<number, string>();
    for (const p of parts) {
      const other = seen.get(p.shard[0]);
      if (other !== undefined) throw new UsageError(`merge: ${p.path} and ${other} are both shard ${p.shard[0]}/${count}: give each shard once`);
      seen.set(p.shard[0], p.path);
    }
    const missing = Array.from({ length: count }, (_, i) => i).filter((i) => !seen.has(i));
    if (missing.length > 0) {
      throw new UsageError(`merge: shard(s) ${missing.join(', ')} of ${count} are missing (given: ${[...seen.keys()].sort((a, b) => a - b).join(', ')}); run them (predict ... --shard I/${count}) and merge all ${count} parts`);
    }
    const src = first.src;
    const compression = COMPRESSIONS[src.compressionCode];
    if (compression === undefined || !src.tiled || src.planar !== 2 || src.blockWidth !== src.blockHeight) {
      throw new InputError(`merge: ${first.path} is not a part file tilecast wrote (tiled, band-separate, ${Object.values(COMPRESSIONS).join('/')})`, { file: first.path });
    }
    const style = await classStyleOf(src);
    const metadata = { ...src.metadata };
    delete metadata.TILECAST_SHARD;
    const writer = await createGeoTiffWriter(output, {
      width: src.width, height: src.height, bandCount: src.bandCount, dataType: src.dataType,
      geoTransform: src.geoTransform, geoKeys: src.rawGeoKeys, nodata: src.nodata,
      bandDescriptions: src.bandDescriptions.map((d) => d ?? ''), metadata, blockSize: src.blockWidth, compression,
      predictor: src.predictor === 1 ? 'none' : (src.predictor as 2 | 3), cog: options.cog ?? false,
      ...style,
      ...(options.overviewResampling ? { overviewResampling: options.overviewResampling } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    let blocks = 0;
    try {
      const across = src.blocksAcross;
      const perBand = across * src.blocksDown;
      for (let tile = 0; tile < perBand; tile++) {
        const owners = parts.filter((p) => p.src.storedBlockSize(tile) > 0);
        if (owners.length > 1) throw new InputError(`merge: block ${tile} is in ${owners[0]!.path} and ${owners[1]!.path}: the parts overlap; give the parts of one run`, { file: owners[1]!.path });
        if (owners.length === 0) {
          throw new InputError(`merge: block ${tile} (column ${tile % across}, row ${Math.floor(tile / across)}) is in no part: the parts come from runs with other chunk sizes or are incomplete; run every shard with the same options`, { file: parts[0]!.path });
        }
        const p = owners[0]!;
        const bands: Uint8Array[] = [];
        for (let b = 0; b < src.bandCount; b++) bands.push(await p.src.readStoredBlock(b * perBand + tile));
        await writer.writeEncodedBlock(tile % across, Math.floor(tile / across), bands);
        blocks++;
      }
      await writer.close({
        TILECAST_COMMAND: options.command ?? `merge(${JSON.stringify(paths)}, ${JSON.stringify(output)})`,
        TILECAST_STARTED: started.toISOString(), TILECAST_FINISHED: new Date().toISOString(), TILECAST_MERGED: paths.join(' '),
      });
    } catch (e) {
      await writer.abort();
      throw e;
    }
    return { output, parts: parts.length, blocks, seconds: (performance.now() - t0) / 1000 };
  } finally {
    for (const p of parts) {
      await p.src.close().catch(() => undefined);
    }
  }
}

async function openPart(path: string): Promise<Part> {
  const src = await RasterSource.open(path);
  const shard = /^(\d+)\/(\d+)$/.exec(src.metadata.TILECAST_SHARD ?? '');
  const plan = src.metadata.TILECAST_PLAN;
  if (!shard || plan === undefined) {
    await src.close();
    throw new UsageError(`merge: ${path} is not a part of a sharded run (no TILECAST_SHARD/TILECAST_PLAN metadata); parts are written by tilecast predict --shard I/N`);
  }
  return { path, src, shard: [Number(shard[1]), Number(shard[2])], plan };
}
