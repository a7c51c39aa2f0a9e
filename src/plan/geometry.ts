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

/**
 * Clip a ring to an axis-aligned rectangle (Sutherland–Hodgman). For every point inside the
 * rectangle, being inside the clipped ring is the same as being inside the original one (the
 * rectangle is convex), which is all the even-odd rule needs; edges along the rectangle may
 * overlap. Returns null when fewer than 3 distinct positions remain.
 */
export function clipRing(ring: Ring, b: Bounds): Ring | null {
  let pts: Array<[number, number]> = ring.slice(0, -1);
  const edges: Array<[(p: [number, number]) => boolean, (a: [number, number], c: [number, number]) => [number, number]]> = [
    [(p) => p[0] >= b.minX, (a, c) => [b.minX, a[1] + ((c[1] - a[1]) * (b.minX - a[0])) / (c[0] - a[0])]],
    [(p) => p[0] <= b.maxX, (a, c) => [b.maxX, a[1] + ((c[1] - a[1]) * (b.maxX - a[0])) / (c[0] - a[0])]],
    [(p) => p[1] >= b.minY, (a, c) => [a[0] + ((c[0] - a[0]) * (b.minY - a[1])) / (c[1] - a[1]), b.minY]],
    [(p) => p[1] <= b.maxY, (a, c) => [a[0] + ((c[0] - a[0]) * (b.maxY - a[1])) / (c[1] - a[1]), b.maxY]],
  ];
  for (const [inside, cross] of edges) {
    if (pts.length === 0) break;
    const out: Array<[number, number]> = [];
    for (let i = 0; i < pts.length; i++) {
      const cur = pts[i]!;
      const prev = pts[(i + pts.length - 1) % pts.length]!;
      const ci = inside(cur);
      if (ci !== inside(prev)) out.push(cross(prev, cur));
      if (ci) out.push(cur);
    }
    pts = out;
  }
  const distinct = new Set(pts.map((p) => `${p[0]},${p[1]}`)).size;
  if (distinct < 3) return null;
  return [...pts, pts[0]!];
}

/**
 * The first place where two edges of a polygon's rings cross (a bow-tie, or a hole crossing its
 * outer ring), or null when none does. Edges that share an endpoint in the ring's order are not
 * compared. Sweep over x: each edge is compared with the edges whose x ranges overlap it.
 */
export function firstCrossing(polygon: Polygon): { rings: [number, number]; at: [number, number] } | null {
  interface Edge { x0: number; x1: number; ax: number; ay: number; bx: number; by: number; ring: number; i: number; n: number }
  const edges: Edge[] = [];
  polygon.forEach((r, ring) => {
    const n = r.length - 1;
    for (let i = 0; i < n; i++) {
      const [ax, ay] = r[i]!;
      const [bx, by] = r[i + 1]!;
      if (ax === bx && ay === by) continue;
      edges.push({ x0: Math.min(ax, bx), x1: Math.max(ax, bx), ax, ay, bx, by, ring, i, n });
    }
  });
  edges.sort((p, q) => p.x0 - q.x0);
  const active: Edge[] = [];
  for (const e of edges) {
    for (let k = active.length - 1; k >= 0; k--) if (active[k]!.x1 < e.x0) active.splice(k, 1);
    for (const f of active) {
      if (f.ring === e.ring && (Math.abs(f.i - e.i) <= 1 || Math.abs(f.i - e.i) === e.n - 1)) continue;
      const at = properCrossing(e, f);
      if (at !== null) return { rings: [Math.min(e.ring, f.ring), Math.max(e.ring, f.ring)], at };
    }
    active.push(e);
  }
  return null;
}

/** The point where segments a→b and c→d cross in their interiors, or null. */
function properCrossing(
  s: { ax: number; ay: number; bx: number; by: number }, t: { ax: number; ay: number; bx: number; by: number },
): [number, number] | null {
  const d1x = s.bx - s.ax;
  const d1y = s.by - s.ay;
  const d2x = t.bx - t.ax;
  const d2y = t.by - t.ay;
  const den = d1x * d2y - d1y * d2x;
  if (den === 0) return null; // parallel: overlapping collinear edges are not a crossing
  const u = ((t.ax - s.ax) * d2y - (t.ay - s.ay) * d2x) / den;
  const v = ((t.ax - s.ax) * d1y - (t.ay - s.ay) * d1x) / den;
  if (u <= 0 || u >= 1 || v <= 0 || v >= 1) return null;
  return [s.ax + u * d1x, s.ay + u * d1y];
}
