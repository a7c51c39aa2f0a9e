/** The affine map between pixel (col, row) and CRS (x, y) coordinates, in GDAL's geotransform order. */
import { InputError } from '../errors.js';
import type { GeoTransform } from '../raster/types.js';

/** CRS coordinates of the pixel-space point (col, row); (0, 0) is the top-left corner of the raster. */
export function pixelToCrs(gt: GeoTransform, col: number, row: number): [number, number] {
  return [gt[0] + col * gt[1] + row * gt[2], gt[3] + col * gt[4] + row * gt[5]];
}

/**
 * The inverse of a geotransform as a function (x, y) → [col, row]. Works for rotated, sheared and
 * south-up rasters. The origin is subtracted before scaling, which keeps full precision for large
 * coordinates (UTM northings) where `inv[0] + x*inv[1]` would cancel digits.
 * @param file named in the error when the geotransform is not invertible
 */
export function crsToPixelFn(gt: GeoTransform, file = 'the raster'): (x: number, y: number) => [number, number] {
  const det = gt[1] * gt[5] - gt[2] * gt[4];
  if (!Number.isFinite(det) || det === 0) {
    throw new InputError(`${file}: the geotransform [${gt.join(', ')}] is not invertible (zero pixel size); fix the georeferencing, e.g. gdal_edit.py -a_ullr`, { file });
  }
  const [x0, , , y0] = gt;
  if (gt[2] === 0 && gt[4] === 0) {
    const sx = gt[1];
    const sy = gt[5];
    return (x, y) => [(x - x0) / sx, (y - y0) / sy];
  }
  const a = gt[5] / det;
  const b = -gt[2] / det;
  const d = -gt[4] / det;
  const e = gt[1] / det;
  return (x, y) => {
    const dx = x - x0;
    const dy = y - y0;
    return [a * dx + b * dy, d * dx + e * dy];
  };
}
