/**
 * Re-encode a GeoTIFF tilecast can read into a new one (other codec, blocks, predictor, BigTIFF,
 * COG), a block row at a time: memory is bounded by one output block row of all bands.
 * Georeferencing (GeoKeys copied verbatim), nodata, band descriptions, metadata, and a class map's
 * colour table and class names are kept.
 */
import { RasterSource } from '../raster/source.js';
import { TYPED_ARRAY } from '../raster/types.js';
import { areaKeys } from './georef.js';
import type { GeoTiffWriterOptions } from './options.js';
import { classStyleOf } from './pam.js';
import { resolveOutputTarget } from './target.js';
import { createGeoTiffWriter } from './writer.js';

export type ConvertOptions = Pick<GeoTiffWriterOptions, 'compression' | 'level' | 'blockSize' | 'predictor' | 'bigTiff' | 'cog' | 'overviewResampling' | 'signal'>;

export interface ConvertSummary {
  input: string;
  output: string;
  width: number;
  height: number;
  bands: number;
  dataType: string;
  seconds: number;
}

export async function convert(input: string, output: string, options: ConvertOptions = {}): Promise<ConvertSummary> {
  const t0 = performance.now();
  resolveOutputTarget(output, [{ path: input, flag: 'IN' }], 'OUT');
  const src = await RasterSource.open(input);
  try {
    const writer = await createGeoTiffWriter(output, {
      ...options,
      width: src.width,
      height: src.height,
      bandCount: src.bandCount,
      dataType: src.dataType,
      geoTransform: src.geoTransform,
      geoKeys: src.rawGeoKeys ? areaKeys(src.rawGeoKeys) : null,
      nodata: src.nodata,
      bandDescriptions: src.bandDescriptions.map((d) => d ?? ''),
      metadata: src.metadata,
      ...(await classStyleOf(src)),
    });
    try {
      const bs = writer.options.blockSize;
      const n = src.width * bs;
      const read = Array.from({ length: src.bandCount }, () => new Float64Array(n));
      const planes = Array.from({ length: src.bandCount }, () => new TYPED_ARRAY[src.dataType](n));
      for (let row = 0; row * bs < src.height; row++) {
        const h = Math.min(bs, src.height - row * bs);
        await src.readWindow({ x: 0, y: row * bs, width: src.width, height: h }, { out: read });
        for (let b = 0; b < src.bandCount; b++) {
          const from = read[b]!;
          const to = planes[b]!;
          for (let i = 0; i < src.width * h; i++) to[i] = from[i]!;
        }
        await writer.writeBlockRow(row, planes.map((p) => p.subarray(0, src.width * h)));
      }
      await writer.close();
    } catch (err) {
      await writer.abort();
      throw err;
    }
    return { input, output, width: src.width, height: src.height, bands: src.bandCount, dataType: src.dataType, seconds: (performance.now() - t0) / 1000 };
  } finally {
    await src.close();
  }
}
