/**
 * The IFD entries of one image level: a tiled, band-separate (PlanarConfiguration 2) image.
 */
import type { DataType } from '../raster/types.js';
import { bytesPerSample, isFloat } from '../raster/types.js';
import type { IfdEntry } from './ifd.js';
import { TAG, asciiEntry } from './ifd.js';
import { gdalNodataEntry } from './georef.js';
import type { Rgb } from './palette.js';

export interface ImageSpec {
  bandCount: number;
  dataType: DataType;
  blockSize: number;
  compressionCode: number;
  predictor: number;
  nodata: number | null;
  /** Georeferencing entries, written in the full-resolution IFD only. */
  georef: readonly IfdEntry[];
  /** GDAL_METADATA XML, written in the full-resolution IFD only. */
  gdalMetadata: string | null;
  /** TIFF ColorMap values (see colorMapValues), written in every IFD with Photometric Palette; null for none. */
  colorMap: readonly number[] | null;
}

const PHOTOMETRIC_MIN_IS_BLACK = 1;
const PHOTOMETRIC_PALETTE = 3;
/** TIFF ColorMap tag (not in the reader's table: tilecast reads no palettes). */
const TAG_COLOR_MAP = 320;
const PLANAR_SEPARATE = 2;

function sampleFormat(dtype: DataType): number {
  if (isFloat(dtype)) return 3;
  return dtype.startsWith('uint') ? 1 : 2;
}

export function imageEntries(
  spec: ImageSpec,
  width: number,
  height: number,
  offsets: ArrayLike<number>,
  byteCounts: ArrayLike<number>,
  bigTiff: boolean,
  overview: boolean,
): IfdEntry[] {
  const n = spec.bandCount;
  const offsetType = bigTiff ? 'long8' : 'long';
  const e: IfdEntry[] = [
    { tag: TAG.NewSubfileType, type: 'long', values: [overview ? 1 : 0] },
    { tag: TAG.ImageWidth, type: 'long', values: [width] },
    { tag: TAG.ImageLength, type: 'long', values: [height] },
    { tag: TAG.BitsPerSample, type: 'short', values: new Array<number>(n).fill(bytesPerSample(spec.dataType) * 8) },
    { tag: TAG.Compression, type: 'short', values: [spec.compressionCode] },
    { tag: TAG.Photometric, type: 'short', values: [spec.colorMap !== null ? PHOTOMETRIC_PALETTE : PHOTOMETRIC_MIN_IS_BLACK] },
    { tag: TAG.SamplesPerPixel, type: 'short', values: [n] },
    { tag: TAG.PlanarConfiguration, type: 'short', values: [PLANAR_SEPARATE] },
    { tag: TAG.TileWidth, type: 'long', values: [spec.blockSize] },
    { tag: TAG.TileLength, type: 'long', values: [spec.blockSize] },
    { tag: TAG.TileOffsets, type: offsetType, values: offsets },
    { tag: TAG.TileByteCounts, type: offsetType, values: byteCounts },
    { tag: TAG.SampleFormat, type: 'short', values: new Array<number>(n).fill(sampleFormat(spec.dataType)) },
  ];
  if (spec.predictor !== 1) e.push({ tag: TAG.Predictor, type: 'short', values: [spec.predictor] });
  if (spec.colorMap !== null) e.push({ tag: TAG_COLOR_MAP, type: 'short', values: spec.colorMap });
  if (n > 1) e.push({ tag: TAG.ExtraSamples, type: 'short', values: new Array<number>(n - 1).fill(0) });
  if (!overview) {
    e.push(...spec.georef);
    if (spec.gdalMetadata !== null) e.push(asciiEntry(TAG.GdalMetadata, spec.gdalMetadata));
  }
  if (spec.nodata !== null) e.push(gdalNodataEntry(spec.nodata));
  return e;
}

/**
 * ColorMap values of an 8-bit palette: 256 reds, then 256 greens, then 256 blues, each 0..65535
 * (v * 257, as GDAL writes them); entries past the given colours are black.
 */
export function colorMapValues(colors: readonly Rgb[] | null): number[] | null {
  if (colors === null) return null;
  const out = new Array<number>(768).fill(0);
  colors.forEach((c, i) => {
    for (let ch = 0; ch < 3; ch++) out[ch * 256 + i] = c[ch]! * 257;
  });
  return out;
}
