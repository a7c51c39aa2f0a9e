/**
 * Normalise a decoded block once: each band becomes a float32 plane of the block's size,
 * `(x − mean) / std` computed in float64 and rounded to float32, and `fill` where the pixel is
 * invalid (NaN, or the band's nodata compared in the band's own type, as GDAL compares it).
 * 8- and 16-bit samples go through a look-up table of every possible value (the same arithmetic,
 * so the same bits, about three times faster); wider types are computed per pixel.
 */
import type { DataType, TypedArray } from '../raster/types.js';

/** The normalisation of one band. */
export interface BandNorm {
  mean: number;
  std: number;
  fill: number;
  nodata: number | null;
}

const TABLE_RANGE: Partial<Record<DataType, [first: number, size: number]>> = {
  uint8: [0, 256], int8: [-128, 256], uint16: [0, 65536], int16: [-32768, 65536],
};

/** Normalised value of every sample value of an 8/16-bit type, by (dtype, norm); kept per thread. */
const tables = new Map<string, Float32Array>();

function table(dtype: DataType, n: BandNorm): Float32Array | null {
  const range = TABLE_RANGE[dtype];
  if (range === undefined) return null;
  const key = `${dtype}/${n.mean}/${n.std}/${n.fill}/${n.nodata}`;
  let lut = tables.get(key);
  if (lut === undefined) {
    const [first, size] = range;
    lut = new Float32Array(size);
    for (let i = 0; i < size; i++) {
      const v = first + i;
      lut[i] = v !== n.nodata ? (v - n.mean) / n.std : n.fill;
    }
    tables.set(key, lut);
  }
  return lut;
}

/**
 * Statistics of normalised values: [pixels, invalid pixels, Σx, Σx², min, max] over the valid
 * pixels (invalid ones are counted only).
 */
export type BandStats = [number, number, number, number, number, number];

export function emptyStats(): BandStats {
  return [0, 0, 0, 0, Infinity, -Infinity];
}

export function addStats(into: BandStats, s: BandStats): void {
  into[0] += s[0];
  into[1] += s[1];
  into[2] += s[2];
  into[3] += s[3];
  into[4] = Math.min(into[4], s[4]);
  into[5] = Math.max(into[5], s[5]);
}

/**
 * Statistics of the normalised plane `out` (row-major, `width` per row) over its first `rows`
 * rows and `cols` columns (the block's pixels inside the raster), telling invalid pixels by the
 * samples as decoded.
 */
export function bandStats(samples: TypedArray, dtype: DataType, spb: number, band: number, n: BandNorm, out: Float32Array, width: number, cols: number, rows: number): BandStats {
  const nd = n.nodata === null ? NaN : dtype === 'float32' ? Math.fround(n.nodata) : n.nodata;
  let invalid = 0;
  let sum = 0;
  let sq = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let r = 0; r < rows; r++) {
    for (let c = 0, i = r * width, s = i * spb + band; c < cols; c++, i++, s += spb) {
      const v = samples[s]!;
      if (v !== v || v === nd) {
        invalid++;
        continue;
      }
      const x = out[i]!;
      sum += x;
      sq += x * x;
      if (x < min) min = x;
      if (x > max) max = x;
    }
  }
  return [rows * cols, invalid, sum, sq, min, max];
}

/**
 * Normalise sample `band` of a block holding `spb` interleaved samples per pixel (`count` pixels)
 * into `out[0 .. count)`.
 */
export function normaliseBand(samples: TypedArray, dtype: DataType, spb: number, band: number, count: number, n: BandNorm, out: Float32Array): void {
  const lut = table(dtype, n);
  if (lut !== null) {
    const offset = dtype === 'int8' ? 128 : dtype === 'int16' ? 32768 : 0;
    if (spb === 1 && offset === 0) {
      for (let i = 0; i < count; i++) out[i] = lut[samples[i]!]!;
    } else {
      for (let i = 0, s = band; i < count; i++, s += spb) out[i] = lut[samples[s]! + offset]!;
    }
    return;
  }
  // nodata as the band stores it: GDAL compares in the band's type
  const nd = n.nodata === null ? NaN : dtype === 'float32' ? Math.fround(n.nodata) : n.nodata;
  const { mean, std, fill } = n;
  for (let i = 0, s = band; i < count; i++, s += spb) {
    const v = samples[s]!;
    out[i] = v === v && v !== nd ? (v - mean) / std : fill;
  }
}
