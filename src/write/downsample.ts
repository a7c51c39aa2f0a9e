/**
 * 2x2 downsampling of one block quadrant for COG overviews. Target pixel (x, y) of an overview
 * level is made from source pixels (2x..2x+1, 2y..2y+1) of the level above, clipped to its extent.
 * 'average': mean of the valid source pixels (neither NaN nor nodata), rounded to the nearest
 * integer (halves up) for integer types; nodata (NaN for floats without nodata) when none is valid.
 * 'nearest': the top-left source pixel, as GDAL's nearest resampling picks for a factor of 2.
 */
import type { OverviewResampling } from './options.js';
import type { TypedArray } from './typed.js';

export interface DownsampleSpec {
  blockSize: number;
  mode: OverviewResampling;
  /** Nodata value, or null. */
  nodata: number | null;
  /** Integer sample type (average is rounded). */
  integer: boolean;
  /** Value for target pixels without any valid source pixel. */
  empty: number;
}

/**
 * Fill quadrant (qx, qy) of `dst` from source block `src` (null: a block never written, which
 * reads as `sparseValue`). `sw`, `sh`: valid size of the source block; `dw`, `dh`: of the target.
 */
export function downsampleQuadrant(
  dst: TypedArray,
  src: TypedArray | null,
  sparseValue: number,
  qx: number,
  qy: number,
  sw: number,
  sh: number,
  dw: number,
  dh: number,
  spec: DownsampleSpec,
): void {
  const bs = spec.blockSize;
  const half = bs / 2;
  const x0 = qx * half;
  const y0 = qy * half;
  const x1 = Math.min(dw, x0 + half);
  const y1 = Math.min(dh, y0 + half);
  const nodata = spec.nodata;
  if (src === null) {
    const sparseValid = !(Number.isNaN(sparseValue) || sparseValue === nodata);
    const v = sparseValid ? sparseValue : spec.empty;
    for (let y = y0; y < y1; y++) dst.fill(v, y * bs + x0, y * bs + x1);
    return;
  }
  if (spec.mode === 'nearest') {
    for (let y = y0; y < y1; y++) {
      const srow = (2 * y - qy * bs) * bs - qx * bs;
      for (let x = x0; x < x1; x++) dst[y * bs + x] = src[srow + 2 * x]!;
    }
    return;
  }
  for (let y = y0; y < y1; y++) {
    const sy = 2 * y - qy * bs;
    const rows = sy + 1 < sh ? 2 : 1;
    for (let x = x0; x < x1; x++) {
      const sx = 2 * x - qx * bs;
      const cols = sx + 1 < sw ? 2 : 1;
      let sum = 0;
      let count = 0;
      for (let r = 0; r < rows; r++) {
        const base = (sy + r) * bs + sx;
        for (let c = 0; c < cols; c++) {
          const v = src[base + c]!;
          if (v === v && v !== nodata) {
            sum += v;
            count++;
          }
        }
      }
      dst[y * bs + x] = count === 0 ? spec.empty : spec.integer ? Math.round(sum / count) : sum / count;
    }
  }
}
