/**
 * Polygon types shared by the region parser, the planner and the mask rasteriser.
 * Plain arrays so that a plan holding them serialises to JSON as is.
 */

/** A closed ring of [x, y] positions; the last position repeats the first (GeoJSON convention). */
export type Ring = Array<[number, number]>;

/** A polygon: the outer ring first, then its holes. A point is inside when it is inside an odd number of its rings. */
export type Polygon = Ring[];

/** Axis-aligned bounds. */
export interface Bounds {
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
}

/** Bounds of every position of every ring; null for an empty set. */
export function polygonBounds(polygons: readonly Polygon[]): Bounds | null {
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (const polygon of polygons) {
    for (const ring of polygon) {
      for (const [x, y] of ring) {
        if (x < minX) minX = x;
        if (x > maxX) maxX = x;
        if (y < minY) minY = y;
        if (y > maxY) maxY = y;
      }
    }
  }
  return minX <= maxX ? { minX, minY, maxX, maxY } : null;
}
