/**
 * What `gdalinfo` tells a user first about a raster, as a plain value: structure, georeferencing,
 * and the metadata GDAL shows (the file's GDAL_METADATA items and those of its PAM sidecar, where
 * a tilecast prediction keeps its provenance and its run record).
 */
import { existsSync } from 'node:fs';
import { TilecastError } from '../errors.js';
import { readPam, sidecarPath } from '../write/pam.js';
import { isUrl } from './byte-source.js';
import { checksums } from './checksum.js';
import { declaredEpsg } from './crs.js';
import { RasterSource } from './source.js';
import { bytesPerSample, type DataType, type GeoTransform } from './types.js';

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
  /** Dataset metadata items stored in the file (GDAL_METADATA), e.g. a prediction's TILECAST_* provenance. */
  metadata: Record<string, string>;
  /**
   * Dataset metadata items of the PAM sidecar `<file>.aux.xml` (a prediction's run record:
   * command, start and end times, batch size, workers). GDAL shows them merged with the file's,
   * the sidecar's winning. Empty without a sidecar; not looked for beside a URL.
   */
  sidecarMetadata: Record<string, string>;
  /** The sidecar read, when there is one. */
  sidecar?: string;
  /** Band 1's category (class) names, from the sidecar, when it has them. */
  categoryNames?: string[];
  /** Entries of band 1's colour table, when it has one: the sidecar's (which GDAL prefers), else the TIFF ColorMap's. */
  colorTableEntries?: number;
  checksums?: number[];
}

export interface InfoOptions {
  /** Also compute GDAL's per-band checksums (reads every pixel). */
  checksum?: boolean;
}

export async function rasterInfo(path: string, options: InfoOptions = {}): Promise<RasterInfo> {
  const src = await RasterSource.open(path);
  try {
    const sidecar = isUrl(path) ? null : sidecarPath(path);
    const pam = sidecar !== null && existsSync(sidecar) ? await readPam(path) : null;
    // a palette image's ColorMap holds 2^bits colours
    const colours = pam?.colorTable?.length ?? (src.photometric === 3 ? 2 ** (8 * bytesPerSample(src.dataType)) : 0);
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
      metadata: { ...src.metadata },
      sidecarMetadata: pam?.metadata ?? {},
      ...(pam ? { sidecar: sidecar! } : {}),
      ...(pam && pam.categoryNames.length > 0 ? { categoryNames: pam.categoryNames } : {}),
      ...(colours > 0 ? { colorTableEntries: colours } : {}),
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
