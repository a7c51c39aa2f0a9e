/**
 * Options of the GeoTIFF writer, their defaults, and their validation.
 */
import { UsageError } from '../errors.js';
import { stripUndefined } from '../options.js';
import type { Crs, DataType, GeoTransform, RawGeoKeys } from '../raster/types.js';
import { TYPED_ARRAY, isFloat } from '../raster/types.js';
import type { Rgb } from './palette.js';

/** Block codec. TIFF compression codes: none 1, lzw 5, deflate 8, zstd 50000. */
export type Compression = 'deflate' | 'zstd' | 'lzw' | 'none';

/**
 * TIFF predictor. 'auto': 2 (horizontal differencing) for integer types, 3 (floating-point
 * predictor, TIFF tech note 3) for floats, none without compression.
 */
export type PredictorOption = 'auto' | 'none' | 2 | 3;

/** 'auto' writes BigTIFF when the file could pass 4 GiB. */
export type BigTiffOption = 'auto' | 'yes' | 'no';

/** How COG overviews are computed from the level above. */
export type OverviewResampling = 'average' | 'nearest';

export interface GeoTiffWriterOptions {
  /** Raster width in pixels. Required. */
  width: number;
  /** Raster height in pixels. Required. */
  height: number;
  /** Number of bands. Default 1. */
  bandCount?: number;
  /** Sample type. Default 'float32'. */
  dataType?: DataType;
  /** GDAL-order geotransform (may be rotated); null writes no georeferencing. Default null. */
  geoTransform?: GeoTransform | null;
  /** CRS written as an EPSG code in the GeoKeys; null writes none. Default null. */
  crs?: Crs | null;
  /**
   * GeoKeys copied verbatim from an input (RasterSource.rawGeoKeys), written instead of keys
   * built from `crs`: keeps a user-defined CRS that has no EPSG code. Default null.
   */
  geoKeys?: RawGeoKeys | null;
  /** Nodata value (NaN allowed for float types), written as GDAL_NODATA; null for none. Default null. */
  nodata?: number | null;
  /** One description per band (GDAL band description), or empty. Default []. */
  bandDescriptions?: readonly string[];
  /** Dataset metadata items written to GDAL_METADATA. Default {}. */
  metadata?: Readonly<Record<string, string>>;
  /** Tile width and height in pixels, a multiple of 16. Default 256. */
  blockSize?: number;
  /** Block codec. Default 'deflate'. */
  compression?: Compression;
  /** Codec level: deflate 1–9 (default 6, as GDAL), zstd 1–22 (default 9, as GDAL); null for the default. */
  level?: number | null;
  /** Predictor. Default 'auto'. */
  predictor?: PredictorOption;
  /** BigTIFF. Default 'auto'. */
  bigTiff?: BigTiffOption;
  /** Write a Cloud Optimized GeoTIFF with internal overviews (built in close()). Default false. */
  cog?: boolean;
  /**
   * Overview resampling for COG: 'average' for continuous data, 'nearest' for class maps.
   * Default 'nearest' with a colour table (as GDAL's COG driver does for paletted images), else 'average'.
   */
  overviewResampling?: OverviewResampling;
  /**
   * Colour table of a uint8 band 1: colours of values 0..n-1 (n <= 256). Written as the TIFF
   * ColorMap (256 entries, the rest black) with PhotometricInterpretation Palette in every IFD, as
   * GDAL writes it, and with exactly n entries in the `<path>.aux.xml` sidecar (see
   * categoryNames), which GDAL prefers, so QGIS's default legend lists the n classes only.
   * GDAL and QGIS then draw band 1 in these colours; QGIS does so by default for single-band
   * files only (it draws a file of two or more bands as RGB). Default null.
   */
  colorTable?: readonly Rgb[] | null;
  /**
   * Category names of band 1 (value i is named categoryNames[i]). GeoTIFF has no tag for them, so
   * they go where GDAL puts them: a `<path>.aux.xml` sidecar (PAM), written atomically in close()
   * next to the file. Default []. Without names and colour table no sidecar is written; either
   * way close() removes a `<path>.aux.xml` left by an earlier file of the same name, which would
   * describe the old data.
   */
  categoryNames?: readonly string[];
  /**
   * Blocks being compressed at once. Deflate runs in libuv's threadpool (UV_THREADPOOL_SIZE,
   * default 4 threads), which bounds the real parallelism. Default 4.
   */
  concurrency?: number;
  /** Aborting it deletes the temporary file; later calls reject with AbortedError. Default none. */
  signal?: AbortSignal | null;
}

export const DEFAULT_WRITER_OPTIONS: Required<Omit<GeoTiffWriterOptions, 'width' | 'height'>> = {
  bandCount: 1,
  dataType: 'float32',
  geoTransform: null,
  crs: null,
  geoKeys: null,
  nodata: null,
  bandDescriptions: [],
  metadata: {},
  blockSize: 256,
  compression: 'deflate',
  level: null,
  predictor: 'auto',
  bigTiff: 'auto',
  cog: false,
  overviewResampling: 'average',
  colorTable: null,
  categoryNames: [],
  concurrency: 4,
  signal: null,
};

/** TIFF predictor code: 1 none, 2 horizontal differencing, 3 floating point. */
export type PredictorCode = 1 | 2 | 3;

export interface ResolvedWriterOptions extends Required<Omit<GeoTiffWriterOptions, 'predictor' | 'level'>> {
  predictor: PredictorCode;
  level: number;
}

const DATA_TYPES = Object.keys(TYPED_ARRAY);
const COMPRESSIONS: readonly Compression[] = ['deflate', 'zstd', 'lzw', 'none'];
const LEVELS: { [K in Compression]: { min: number; max: number; default: number } } = {
  deflate: { min: 1, max: 9, default: 6 },
  zstd: { min: 1, max: 22, default: 9 },
  lzw: { min: 0, max: 0, default: 0 },
  none: { min: 0, max: 0, default: 0 },
};

function isPositiveInt(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n > 0;
}

const INT_RANGE: { [K in DataType]?: [number, number] } = {
  uint8: [0, 255],
  int8: [-128, 127],
  uint16: [0, 65535],
  int16: [-32768, 32767],
  uint32: [0, 4294967295],
  int32: [-2147483648, 2147483647],
};

/** Fill in defaults and check every option; throws UsageError naming the option, the value and the fix. */
export function resolveWriterOptions(path: string, options: GeoTiffWriterOptions): ResolvedWriterOptions {
  const overviewResampling = options.overviewResampling ?? (options.colorTable ? 'nearest' : 'average');
  const o = { ...DEFAULT_WRITER_OPTIONS, ...stripUndefined(options), overviewResampling, width: options.width, height: options.height };
  const bad = (what: string): never => {
    throw new UsageError(`GeoTIFF writer for ${path}: ${what}`, { file: path });
  };
  if (!isPositiveInt(o.width) || o.width > 0xffffffff) bad(`width must be a positive integer, got ${String(o.width)}`);
  if (!isPositiveInt(o.height) || o.height > 0xffffffff) bad(`height must be a positive integer, got ${String(o.height)}`);
  if (!isPositiveInt(o.bandCount) || o.bandCount > 65535) bad(`bandCount must be an integer in 1..65535, got ${String(o.bandCount)}`);
  if (!DATA_TYPES.includes(o.dataType)) bad(`dataType must be one of ${DATA_TYPES.join(', ')}, got '${String(o.dataType)}'`);
  if (!isPositiveInt(o.blockSize) || o.blockSize % 16 !== 0 || o.blockSize > 65536) {
    bad(`blockSize must be a positive multiple of 16 (TIFF tiles), got ${String(o.blockSize)}`);
  }
  if (!COMPRESSIONS.includes(o.compression)) bad(`compression must be one of ${COMPRESSIONS.join(', ')}, got '${String(o.compression)}'`);
  if (o.geoTransform !== null && (o.geoTransform.length !== 6 || !o.geoTransform.every(Number.isFinite))) {
    bad(`geoTransform must be 6 finite numbers (GDAL order), got [${o.geoTransform.join(', ')}]`);
  }
  if (o.geoTransform !== null && o.geoTransform[1] * o.geoTransform[5] - o.geoTransform[2] * o.geoTransform[4] === 0) {
    bad(`geoTransform [${o.geoTransform.join(', ')}] is degenerate (zero pixel area)`);
  }
  if (o.bandDescriptions.length !== 0 && o.bandDescriptions.length !== o.bandCount) {
    bad(`bandDescriptions has ${o.bandDescriptions.length} entries for ${o.bandCount} bands: give one per band or none`);
  }
  if (o.nodata !== null) {
    if (typeof o.nodata !== 'number') bad(`nodata must be a number or null, got ${String(o.nodata)}`);
    const range = INT_RANGE[o.dataType];
    if (range !== undefined && !(Number.isInteger(o.nodata) && o.nodata >= range[0] && o.nodata <= range[1])) {
      bad(`nodata ${o.nodata} is not a ${o.dataType} value (integers ${range[0]}..${range[1]})`);
    }
  }
  if (!isPositiveInt(o.concurrency)) bad(`concurrency must be a positive integer, got ${String(o.concurrency)}`);
  if (o.overviewResampling !== 'average' && o.overviewResampling !== 'nearest') {
    bad(`overviewResampling must be 'average' or 'nearest', got '${String(o.overviewResampling)}'`);
  }
  if (o.colorTable !== null) {
    if (o.dataType !== 'uint8') bad(`colorTable needs dataType 'uint8' (a TIFF palette of 256 entries), got '${o.dataType}'`);
    if (!Array.isArray(o.colorTable) || o.colorTable.length > 256) bad(`colorTable must be an array of at most 256 colours, got ${Array.isArray(o.colorTable) ? o.colorTable.length : typeof o.colorTable}`);
    o.colorTable.forEach((c, i) => {
      if (!(Array.isArray(c) && c.length === 3 && c.every((v) => Number.isInteger(v) && v >= 0 && v <= 255))) {
        bad(`colorTable entry ${i} must be [r, g, b] with integers 0..255, got ${JSON.stringify(c)}`);
      }
    });
  }
  if (!Array.isArray(o.categoryNames) || !o.categoryNames.every((n) => typeof n === 'string')) bad('categoryNames must be an array of strings');
  if (o.bigTiff !== 'auto' && o.bigTiff !== 'yes' && o.bigTiff !== 'no') bad(`bigTiff must be 'auto', 'yes' or 'no', got '${String(o.bigTiff)}'`);

  const limits = LEVELS[o.compression];
  let level = limits.default;
  if (o.level !== null) {
    if (limits.max === 0) bad(`level is not used with compression '${o.compression}': leave it out`);
    if (!Number.isInteger(o.level) || o.level < limits.min || o.level > limits.max) {
      bad(`level for ${o.compression} must be an integer in ${limits.min}..${limits.max}, got ${o.level}`);
    }
    level = o.level;
  }

  let predictor: PredictorCode = 1;
  const p = o.predictor;
  if (p === 'auto') {
    predictor = o.compression === 'none' ? 1 : isFloat(o.dataType) ? 3 : 2;
  } else if (p === 'none') {
    predictor = 1;
  } else if (p === 2 || p === 3) {
    if (o.compression === 'none') bad(`predictor ${p} needs a compression; with compression 'none' use predictor 'none'`);
    if (p === 3 && !isFloat(o.dataType)) bad(`predictor 3 (floating point) needs dataType float32 or float64, got '${o.dataType}': use predictor 2`);
    predictor = p;
  } else {
    bad(`predictor must be 'auto', 'none', 2 or 3, got ${String(p)}`);
  }
  return { ...o, predictor, level };
}
