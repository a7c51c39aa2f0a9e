/** What `gdalinfo` tells a user first about a raster, as a plain value. */
import { TilecastError } from '../errors.js';
import { checksums } from './checksum.js';
import { declaredEpsg } from './crs.js';
import { RasterSource } from './source.js';
import type { DataType, GeoTransform } from './types.js';

export interface RasterInfo {
  file: string;
  width: number;
  height: number;
  bands: number;
  dataType: DataType;
  blockSize: [number, number];
  tiled: boolean;
  interleave: 'pixel' | 'band';
  compression: string;
  predictor: number;
  bigTiff: boolean;
  byteOrder: 'little' | 'big';
  /** EPSG code; null when the CRS has none or there is no CRS. */
  epsg: number | null;
  proj4: string | null;
  /** Why the CRS could not be defined, when it could not. */
  crsError?: string;
  geoTransform: GeoTransform | null;
  /** [minX, minY, maxX, maxY] in CRS units, from the four corners. */
  bounds: [number, number, number, number] | null;
  nodata: number | null;
  overviews: number;
  bandDescriptions: (string | null)[];
  checksums?: number[];
}

export interface InfoOptions {
  /** Also compute GDAL's per-band checksums (reads every pixel). */
  checksum?: boolean;
}

export async function rasterInfo(path: string, options: InfoOptions = {}): Promise<RasterInfo> {
  const src = await RasterSource.open(path);
  try {
    let epsg: number | null = null;
    let proj4: string | null = null;
    let crsError: string | undefined;
    try {
      const crs = src.crs;
      epsg = crs?.epsg ?? null;
      proj4 = crs?.proj4 ?? null;
    } catch (err) {
      if (!(err instanceof TilecastError)) throw err;
      crsError = err.message;
      epsg = declaredEpsg(src.geoKeys);
    }
    const gt = src.geoTransform;
    const info: RasterInfo = {
      file: path,
      width: src.width,
      height: src.height,
      bands: src.bandCount,
      dataType: src.dataType,
      blockSize: [src.blockWidth, src.blockHeight],
      tiled: src.tiled,
      interleave: src.planar === 1 ? 'pixel' : 'band',
      compression: src.compression,
      predictor: src.predictor,
      bigTiff: src.bigTiff,
      byteOrder: src.littleEndian ? 'little' : 'big',
      epsg,
      proj4,
      ...(crsError === undefined ? {} : { crsError }),
      geoTransform: gt,
      bounds: gt ? bounds(gt, src.width, src.height) : null,
      nodata: src.nodata,
      overviews: src.overviewCount,
      bandDescriptions: src.bandDescriptions,
    };
    if (options.checksum) info.checksums = await checksums(src);
    return info;
  } finally {
    await src.close();
  }
}

function bounds(gt: GeoTransform, w: number, h: number): [number, number, number, number] {
  const xs: number[] = [];
  const ys: number[] = [];
  for (const [c, r] of [[0, 0], [w, 0], [0, h], [w, h]] as const) {
    xs.push(gt[0] + c * gt[1] + r * gt[2]);
    ys.push(gt[3] + c * gt[4] + r * gt[5]);
  }
  return [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
}
