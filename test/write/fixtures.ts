/** Seeded test rasters for the writer tests. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataType, TypedArray } from '../../src/raster/types.js';
import { TYPED_ARRAY, isFloat } from '../../src/raster/types.js';
export { prng } from '../../scripts/models/prng.js';

export const RANGE: { [K in DataType]: [number, number] } = {
  uint8: [0, 255],
  int8: [-128, 127],
  uint16: [0, 65535],
  int16: [-32768, 32767],
  uint32: [0, 4294967295],
  int32: [-2147483648, 2147483647],
  float32: [-3.4e38, 3.4e38],
  float64: [-1.7e308, 1.7e308],
};

/**
 * One band of `w` x `h` pixels: a smooth field plus noise, with full-range extremes, and for
 * floats NaN, ±Infinity, -0 and subnormals; about 2% of the pixels are `nodata` when given.
 */
export function makeBand(dtype: DataType, w: number, h: number, rnd: () => number, nodata: number | null): TypedArray {
  const a = new TYPED_ARRAY[dtype](w * h);
  const [lo, hi] = RANGE[dtype];
  const float = isFloat(dtype);
  const span = float ? 2000 : Math.min(hi - lo, 5000);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      const r = rnd();
      let v: number;
      if (r < 0.02 && nodata !== null) v = nodata;
      else if (r < 0.04) v = float ? [NaN, Infinity, -Infinity, -0, 1e-42, 3.4e38][Math.floor(rnd() * 6)]! : rnd() < 0.5 ? lo : hi;
      else if (r < 0.1) v = float ? (rnd() - 0.5) * 1e6 : lo + Math.floor(rnd() * (hi - lo + 1));
      else {
        const smooth = (Math.sin(x / 17) + Math.cos(y / 11)) * 0.25 + 0.5;
        v = float ? smooth * span - span / 2 + rnd() : Math.min(hi, Math.max(lo, Math.round(lo + smooth * span + rnd() * 10)));
      }
      a[i] = v;
    }
  }
  return a;
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `tilecast-${prefix}-`));
}

/** Same value, NaN equal to NaN, -0 distinct from 0. */
export function sameValue(a: number, b: number): boolean {
  return Object.is(a, b);
}

/** Index and values of the first difference between `ours` (as written) and GDAL's float64 read, or null. */
export function firstDifference(ours: ArrayLike<number>, gdal: Float64Array): string | null {
  if (ours.length !== gdal.length) return `length ${ours.length} vs GDAL ${gdal.length}`;
  for (let i = 0; i < ours.length; i++) {
    if (!sameValue(ours[i]!, gdal[i]!)) return `pixel ${i}: wrote ${ours[i]}, GDAL read ${gdal[i]}`;
  }
  return null;
}
