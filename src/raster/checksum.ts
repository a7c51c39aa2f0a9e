/**
 * GDAL's per-band checksum (GDALChecksumImage, as `gdalinfo -checksum` prints it): a running
 * 16-bit sum of each value, converted to Int32, modulo a cycle of 11 primes.
 */
import type { RasterSource } from './source.js';

const PRIMES = [7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43];
const INT32_MIN = -2147483648;

/** Incremental checksum over values fed in row-major order. */
export class Checksum {
  private sum = 0;
  private k = 0;
  constructor(private readonly isFloat: boolean) {}

  add(values: ArrayLike<number>, start = 0, end = values.length): void {
    let sum = this.sum;
    let k = this.k;
    for (let i = start; i < end; i++) {
      const v = values[i]!;
      let n: number;
      if (this.isFloat) {
        if (!Number.isFinite(v)) n = INT32_MIN;
        else n = Math.min(Math.max(Math.floor(v + 0.5), -2147483647), 2147483647);
      } else {
        n = Math.min(Math.max(v, INT32_MIN), 2147483647);
      }
      sum = (sum + (n % PRIMES[k]!)) & 0xffff;
      k = k === 10 ? 0 : k + 1;
    }
    this.sum = sum;
    this.k = k;
  }

  get value(): number {
    return this.sum;
  }
}

/**
 * GDAL checksum of one band (0-based), read a block row at a time. GDAL 3.6 shows int8 rasters as
 * Byte, so their checksum is taken over the bytes read as unsigned, as gdalinfo prints it.
 */
export async function bandChecksum(src: RasterSource, band: number): Promise<number> {
  const isFloat = src.dataType === 'float32' || src.dataType === 'float64';
  const ck = new Checksum(isFloat);
  // a block row at a time, but never more than ~16 M samples (a damaged header may claim more)
  const rows = Math.max(1, Math.min(src.blockHeight, Math.floor((1 << 24) / src.width)));
  const out = [new Float64Array(src.width * rows)];
  for (let y = 0; y < src.height; y += rows) {
    const h = Math.min(rows, src.height - y);
    const { data } = await src.readWindow({ x: 0, y, width: src.width, height: h }, { bands: [band], out });
    const plane = data[0]!;
    if (src.dataType === 'int8') for (let i = 0; i < src.width * h; i++) plane[i] = plane[i]! & 0xff;
    ck.add(plane, 0, src.width * h);
  }
  return ck.value;
}
