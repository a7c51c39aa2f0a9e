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

/** Normalised value of every sample value of an 8/16-bit type, by (dtype, norm); kept per thread. */
const tables = new Map<string, Float32Array>();

/**
 * The table of an 8- or 16-bit type, indexed by the sample's bits read as unsigned (so a signed
 * type's table starts at 0 and wraps to its negative values half-way); null for wider types.
 */
function table(dtype: DataType, n: BandNorm): Float32Array | null {
  const bits = dtype === 'uint8' || dtype === 'int8' ? 8 : dtype === 'uint16' || dtype === 'int16' ? 16 : 0;
  if (bits === 0) return null;
  const key = `${dtype}/${n.mean}/${n.std}/${n.fill}/${n.nodata}`;
  let lut = tables.get(key);
  if (lut === undefined) {
    const size = 1 << bits;
    const signed = dtype === 'int8' || dtype === 'int16';
    lut = new Float32Array(size);
    for (let u = 0; u < size; u++) {
      const v = signed && u >= size / 2 ? u - size : u;
      lut[u] = v !== n.nodata ? (v - n.mean) / n.std : n.fill;
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

/** The statistics sample every STATS_ROW_STEP-th row of a block: a sanity check needs no more. */
export const STATS_ROW_STEP = 8;

/**
 * Statistics of the normalised plane `out` (row-major, `width` per row) over every
 * STATS_ROW_STEP-th of its first `rows` rows and its first `cols` columns (the block's pixels
 * inside the raster), telling invalid pixels by the samples as decoded.
 */
export function bandStats(samples: TypedArray, dtype: DataType, spb: number, band: number, n: BandNorm, out: Float32Array, width: number, cols: number, rows: number): BandStats {
  const nd = n.nodata === null ? NaN : dtype === 'float32' ? Math.fround(n.nodata) : n.nodata;
  let invalid = 0;
  let sum = 0;
  let sq = 0;
  let min = Infinity;
  let max = -Infinity;
  let pixels = 0;
  for (let r = 0; r < rows; r += STATS_ROW_STEP) {
    pixels += cols;
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
  return [pixels, invalid, sum, sq, min, max];
}

/**
 * Normalise sample `band` of a block holding `spb` interleaved samples per pixel (`count` pixels)
 * into `out[0 .. count)`.
 */
export function normaliseBand(samples: TypedArray, dtype: DataType, spb: number, band: number, count: number, n: BandNorm, out: Float32Array): void {
  const lut = table(dtype, n);
  // one loop per array type, so that each sees a single type (plain loads, no generic access)
  if (lut !== null) {
    if (samples.BYTES_PER_ELEMENT === 1) lookup8(new Uint8Array(samples.buffer, samples.byteOffset, samples.length), spb, band, count, lut, out);
    else lookup16(new Uint16Array(samples.buffer, samples.byteOffset, samples.length), spb, band, count, lut, out);
    return;
  }
  // nodata as the band stores it: GDAL compares in the band's type
  const nd = n.nodata === null ? NaN : dtype === 'float32' ? Math.fround(n.nodata) : n.nodata;
  if (samples instanceof Float32Array) arithF32(samples, spb, band, count, n.mean, n.std, n.fill, nd, out);
  else if (samples instanceof Float64Array) arithF64(samples, spb, band, count, n.mean, n.std, n.fill, nd, out);
  else if (samples instanceof Uint32Array) arithU32(samples, spb, band, count, n.mean, n.std, n.fill, nd, out);
  else arithI32(samples as Int32Array, spb, band, count, n.mean, n.std, n.fill, nd, out);
}

function lookup8(samples: Uint8Array, spb: number, band: number, count: number, lut: Float32Array, out: Float32Array): void {
  for (let i = 0, s = band; i < count; i++, s += spb) out[i] = lut[samples[s]!]!;
}

function lookup16(samples: Uint16Array, spb: number, band: number, count: number, lut: Float32Array, out: Float32Array): void {
  if (spb === 1) {
    for (let i = 0; i < count; i++) out[i] = lut[samples[i]!]!;
    return;
  }
  for (let i = 0, s = band; i < count; i++, s += spb) out[i] = lut[samples[s]!]!;
}

function arithF32(samples: Float32Array, spb: number, band: number, count: number, mean: number, std: number, fill: number, nd: number, out: Float32Array): void {
  for (let i = 0, s = band; i < count; i++, s += spb) {
    const v = samples[s]!;
    out[i] = v === v && v !== nd ? (v - mean) / std : fill;
  }
}

function arithF64(samples: Float64Array, spb: number, band: number, count: number, mean: number, std: number, fill: number, nd: number, out: Float32Array): void {
  for (let i = 0, s = band; i < count; i++, s += spb) {
    const v = samples[s]!;
    out[i] = v === v && v !== nd ? (v - mean) / std : fill;
  }
}

function arithU32(samples: Uint32Array, spb: number, band: number, count: number, mean: number, std: number, fill: number, nd: number, out: Float32Array): void {
  for (let i = 0, s = band; i < count; i++, s += spb) {
    const v = samples[s]!;
    out[i] = v !== nd ? (v - mean) / std : fill;
  }
}

function arithI32(samples: Int32Array, spb: number, band: number, count: number, mean: number, std: number, fill: number, nd: number, out: Float32Array): void {
  for (let i = 0, s = band; i < count; i++, s += spb) {
    const v = samples[s]!;
    out[i] = v !== nd ? (v - mean) / std : fill;
  }
}
