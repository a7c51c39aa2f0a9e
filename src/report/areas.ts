/**
 * Area per class, in hectares, from the class map's geotransform and CRS.
 *
 * - Projected CRS: every pixel has the area |gt[1]·gt[5] − gt[2]·gt[4]| in CRS units², converted
 *   to m² by the definition's unit (proj4 `+units` / `+to_meter`, or the WKT UNIT; metres when none is given). This is the area on
 *   the map projection: in a projection that is not equal-area (UTM, Web Mercator) it differs
 *   from the area on the ground by the projection's area scale (UTM: under 0.1 % near the
 *   central meridian; Web Mercator: 1/cos²(latitude)).
 * - Geographic CRS (longitude/latitude in degrees): a pixel's area on the ellipsoid is
 *   |det| · (π/180)² · M(φ) · N(φ) · cos φ at the latitude φ of its centre, with M and N the
 *   meridional and prime-vertical radii of curvature; exact to about (pixel height in
 *   radians)²/24, under 1e-6 for pixels below 0.25°. The ellipsoid is the definition's (`+ellps`,
 *   `+datum`, `+a`/`+b`/`+rf`, or the WKT SPHEROID), as proj4js reads it.
 * - No geotransform, no CRS, or units that are not lengths: no area (pixel counts only).
 */
import type { Crs, GeoTransform } from '../raster/types.js';
import { crsParams, type CrsParams } from '../raster/crs.js';

/** How a CRS's pixel areas are computed, in words for the report. */
export type AreaMethod = 'projected' | 'geographic' | 'none';

/** Pixel area in m² of pixel (col, row) of a raster; null when it cannot be known. */
export interface PixelArea {
  method: AreaMethod;
  /** Area of pixel (col, row) in m². */
  at(col: number, row: number): number;
  /** True when the area depends on the row only (north-up geographic or any projected grid). */
  byRow: boolean;
}

export function pixelArea(gt: GeoTransform | null, crs: Crs | null): PixelArea | null {
  if (gt === null || crs === null) return null;
  const det = Math.abs(gt[1] * gt[5] - gt[2] * gt[4]);
  let p: CrsParams;
  try {
    p = crsParams(crs);
  } catch {
    return null;
  }
  if (p.geographic) {
    const { a, b } = p;
    if (!(a > 0 && b > 0)) return null;
    const e2 = 1 - (b * b) / (a * a);
    const rad = Math.PI / 180;
    const scale = det * rad * rad;
    const at = (col: number, row: number): number => {
      const phi = (gt[3] + (col + 0.5) * gt[4] + (row + 0.5) * gt[5]) * rad;
      const s = Math.sin(phi);
      const w = 1 - e2 * s * s;
      const m = (a * (1 - e2)) / (w * Math.sqrt(w));
      const n = a / Math.sqrt(w);
      return scale * m * n * Math.cos(phi);
    };
    return { method: 'geographic', at, byRow: gt[4] === 0 };
  }
  const metres = p.toMeter;
  if (metres === null || !(metres > 0)) return null;
  const area = det * metres * metres;
  return { method: 'projected', at: () => area, byRow: true };
}

/**
 * Pixel counts and hectares per class, fed the class map's rows as they are written.
 * Class values past `classes` (e.g. nodata 255) are not counted.
 */
export class ClassAreas {
  readonly pixels: Float64Array;
  /** Hectares per class; null when the area cannot be known (see pixelArea). */
  readonly hectares: Float64Array | null;
  readonly method: AreaMethod;
  private readonly area: PixelArea | null;

  /** `gt` and `crs` of the class map itself (its geotransform starts at its own top-left pixel). */
  constructor(
    readonly classes: number,
    gt: GeoTransform | null,
    crs: Crs | null,
  ) {
    this.pixels = new Float64Array(classes);
    this.area = pixelArea(gt, crs);
    this.hectares = this.area === null ? null : new Float64Array(classes);
    this.method = this.area?.method ?? 'none';
  }

  /**
   * Count `count` rows of `width` pixels starting at class-map pixel (x, y): full block rows
   * (x = 0, width = the class map's width) or any window of it, e.g. a chunk.
   */
  add(y: number, width: number, count: number, values: Uint8Array, x = 0): void {
    const { classes, pixels, hectares, area } = this;
    const perRow = new Float64Array(classes);
    for (let r = 0; r < count; r++) {
      const row = values.subarray(r * width, (r + 1) * width);
      perRow.fill(0);
      for (let c = 0; c < width; c++) {
        const v = row[c]!;
        if (v >= classes) continue;
        perRow[v]!++;
        if (hectares !== null && !area!.byRow) hectares[v]! += area!.at(x + c, y + r) / 10000;
      }
      const rowArea = hectares !== null && area!.byRow ? area!.at(0, y + r) / 10000 : 0;
      for (let k = 0; k < classes; k++) {
        pixels[k]! += perRow[k]!;
        if (rowArea !== 0) hectares![k]! += perRow[k]! * rowArea;
      }
    }
  }
}
