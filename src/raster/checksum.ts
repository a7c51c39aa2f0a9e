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

/** Float64 samples read at once (32 MB): a damaged header may claim any size. */
const MAX_SAMPLES = 1 << 22;

/**
 * GDAL checksum of one band (0-based), read a block row at a time. GDAL 3.6 shows int8 rasters as
 * Byte, so their checksum is taken over the bytes read as unsigned, as gdalinfo prints it.
 */
export async function bandChecksum(src: RasterSource, band: number): Promise<number> {
  return (await checksums(src, [band]))[0]!;
}

/**
 * GDAL checksums of the given bands (default all), in one pass over the file: a block row at a
 * time, as many bands at once as fit in MAX_SAMPLES, so a pixel-interleaved block is decoded once
 * and memory stays bounded whatever the band count.
 */
export async function checksums(src: RasterSource, bands: readonly number[] = Array.from({ length: src.bandCount }, (_, b) => b)): Promise<number[]> {
  const isFloat = src.dataType === 'float32' || src.dataType === 'float64';
  const sums = bands.map(() => new Checksum(isFloat));
  const rows = Math.max(1, Math.min(src.blockHeight, src.height, Math.floor(MAX_SAMPLES / src.width)));
  const group = Math.max(1, Math.min(bands.length, Math.floor(MAX_SAMPLES / (src.width * rows))));
  const planes = Array.from({ length: group }, () => new Float64Array(src.width * rows));
  for (let y = 0; y < src.height; y += rows) {
    const h = Math.min(rows, src.height - y);
    const n = src.width * h;
    for (let g = 0; g < bands.length; g += group) {
      const some = bands.slice(g, g + group);
      const { data } = await src.readWindow({ x: 0, y, width: src.width, height: h }, { bands: some, out: planes.slice(0, some.length) });
      data.forEach((plane, i) => {
        if (src.dataType === 'int8') for (let k = 0; k < n; k++) plane[k] = plane[k]! & 0xff;
        sums[g + i]!.add(plane, 0, n);
      });
    }
  }
  return sums.map((c) => c.value);
}
