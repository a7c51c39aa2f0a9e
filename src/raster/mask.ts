/**
 * Rasterising the region: which pixels belong to it.
 *
 * A pixel (col, row) belongs to the region when its centre (col + 0.5, row + 0.5) lies inside a
 * polygon: inside an odd number of that polygon's rings (even-odd, so holes cut out), and the
 * region is the union of its polygons (MultiPolygon parts and features). Ties follow GDAL's
 * rasterize (`GDALdllImageFilledPolygon`): an edge is crossed by the scanline y = row + 0.5 when
 * ymin <= y < ymax, and a centre lies in the span between sorted crossings xa, xb when
 * xa < x <= xb, i.e. columns floor(xa + 0.5) .. floor(xb + 0.5) - 1.
 *
 * The work is a scanline fill: the edges are bucketed by rows once, and each row sorts only the
 * crossings of the edges in its bucket. Nothing is done per pixel except writing the result.
 */
import type { Polygon } from '../plan/geometry.js';
import type { PixelWindow } from './types.js';

/** Rows per edge bucket. */
const BUCKET_ROWS = 16;

/** The region as a pixel mask over a domain (the plan window); every pixel outside the domain is outside the region. */
export class RegionMask {
  /** The pixels the mask is defined on. */
  readonly domain: Readonly<PixelWindow>;
  /** Number of polygons (union members). */
  readonly polygonCount: number;

  // Edge k: top endpoint (x1, y1), bottom endpoint (x2, y2), y1 < y2; rows rowFirst..rowLast cross it.
  private readonly x1: Float64Array;
  private readonly y1: Float64Array;
  private readonly x2: Float64Array;
  private readonly y2: Float64Array;
  private readonly poly: Int32Array;
  private readonly rowFirst: Int32Array;
  private readonly rowLast: Int32Array;
  // Bucket b holds edges bucketEdges[bucketStart[b] .. bucketStart[b+1]).
  private readonly bucketStart: Int32Array;
  private readonly bucketEdges: Int32Array;
  // Scratch, reused across rows.
  private xs = new Float64Array(64);
  private ps = new Int32Array(64);
  private order: number[] = [];
  private readonly parity: Uint8Array;
  private spans = new Int32Array(64);

  /**
   * @param polygons the region in pixel coordinates ([col, row]; (0, 0) = top-left corner of pixel (0, 0))
   * @param domain the pixels the mask will be asked about (the plan window)
   */
  constructor(polygons: readonly Polygon[], domain: PixelWindow) {
    this.domain = { ...domain };
    this.polygonCount = polygons.length;
    this.parity = new Uint8Array(Math.max(1, polygons.length));
    const rowMin = domain.y;
    const rowMax = domain.y + domain.height; // exclusive

    let n = 0;
    for (const p of polygons) for (const r of p) n += Math.max(0, r.length - 1);
    const x1 = new Float64Array(n);
    const y1 = new Float64Array(n);
    const x2 = new Float64Array(n);
    const y2 = new Float64Array(n);
    const poly = new Int32Array(n);
    const rowFirst = new Int32Array(n);
    const rowLast = new Int32Array(n);
    let m = 0;
    polygons.forEach((p, pi) => {
      for (const ring of p) {
        for (let i = 0; i + 1 < ring.length; i++) {
          let [ax, ay] = ring[i]!;
          let [bx, by] = ring[i + 1]!;
          if (ay === by) continue; // horizontal: never crossed by a scanline
          if (ay > by) {
            [ax, bx] = [bx, ax];
            [ay, by] = [by, ay];
          }
          // rows r with ay <= r + 0.5 < by
          const first = Math.max(rowMin, Math.ceil(ay - 0.5));
          const last = Math.min(rowMax - 1, Math.ceil(by - 0.5) - 1);
          if (first > last) continue;
          x1[m] = ax;
          y1[m] = ay;
          x2[m] = bx;
          y2[m] = by;
          poly[m] = pi;
          rowFirst[m] = first;
          rowLast[m] = last;
          m++;
        }
      }
    });
    this.x1 = x1.subarray(0, m);
    this.y1 = y1.subarray(0, m);
    this.x2 = x2.subarray(0, m);
    this.y2 = y2.subarray(0, m);
    this.poly = poly.subarray(0, m);
    this.rowFirst = rowFirst.subarray(0, m);
    this.rowLast = rowLast.subarray(0, m);

    const buckets = Math.max(1, Math.ceil(domain.height / BUCKET_ROWS));
    const start = new Int32Array(buckets + 1);
    for (let e = 0; e < m; e++) {
      const b0 = Math.floor((rowFirst[e]! - rowMin) / BUCKET_ROWS);
      const b1 = Math.floor((rowLast[e]! - rowMin) / BUCKET_ROWS);
      for (let b = b0; b <= b1; b++) start[b + 1]!++;
    }
    for (let b = 0; b < buckets; b++) start[b + 1]! += start[b]!;
    const fill = start.slice(0, buckets);
    const edges = new Int32Array(start[buckets]!);
    for (let e = 0; e < m; e++) {
      const b0 = Math.floor((rowFirst[e]! - rowMin) / BUCKET_ROWS);
      const b1 = Math.floor((rowLast[e]! - rowMin) / BUCKET_ROWS);
      for (let b = b0; b <= b1; b++) edges[fill[b]!++] = e;
    }
    this.bucketStart = start;
    this.bucketEdges = edges;
  }

  /**
   * The inside spans of one row as [start, end) column pairs (absolute columns, clipped to the
   * domain, sorted, disjoint). The returned array is a view of a scratch buffer, valid until the
   * next call. Length = 2 × number of spans.
   */
  rowSpans(row: number): Int32Array {
    const d = this.domain;
    if (row < d.y || row >= d.y + d.height) return this.spans.subarray(0, 0);
    const yc = row + 0.5;
    const bucket = Math.floor((row - d.y) / BUCKET_ROWS);
    const e0 = this.bucketStart[bucket]!;
    const e1 = this.bucketStart[bucket + 1]!;
    let n = 0;
    for (let i = e0; i < e1; i++) {
      const e = this.bucketEdges[i]!;
      if (row < this.rowFirst[e]! || row > this.rowLast[e]!) continue;
      if (n === this.xs.length) this.grow();
      const ax = this.x1[e]!;
      const ay = this.y1[e]!;
      this.xs[n] = ((yc - ay) * (this.x2[e]! - ax)) / (this.y2[e]! - ay) + ax;
      this.ps[n] = this.poly[e]!;
      n++;
    }
    if (n === 0) return this.spans.subarray(0, 0);
    this.sortCrossings(n);

    const xs = this.xs;
    const ps = this.ps;
    const parity = this.parity;
    const c0 = d.x;
    const c1 = d.x + d.width;
    let odd = 0;
    let start = 0;
    let k = 0;
    for (let i = 0; i < n; i++) {
      const p = ps[i]!;
      parity[p] ^= 1;
      if (parity[p] === 1) {
        if (odd++ === 0) start = Math.floor(xs[i]! + 0.5);
      } else if (--odd === 0) {
        const s = Math.max(start, c0);
        const t = Math.min(Math.floor(xs[i]! + 0.5), c1);
        if (s < t) {
          if (k > 0 && this.spans[k - 1] === s) this.spans[k - 1] = t; // touching spans merge
          else {
            if (k + 2 > this.spans.length) this.spans = grown(this.spans);
            this.spans[k++] = s;
            this.spans[k++] = t;
          }
        }
      }
    }
    return this.spans.subarray(0, k);
  }

  /**
   * The mask of a window: 1 where the pixel belongs to the region, 0 elsewhere (including
   * pixels outside the domain or the raster). Row-major, window.width × window.height.
   * @param out reused when given (must hold width × height bytes)
   */
  rasterize(window: PixelWindow, out?: Uint8Array): Uint8Array {
    const size = window.width * window.height;
    const mask = out ? out.subarray(0, size) : new Uint8Array(size);
    mask.fill(0);
    const r0 = Math.max(window.y, this.domain.y);
    const r1 = Math.min(window.y + window.height, this.domain.y + this.domain.height);
    for (let r = r0; r < r1; r++) {
      const spans = this.rowSpans(r);
      const base = (r - window.y) * window.width - window.x;
      for (let i = 0; i < spans.length; i += 2) {
        const s = Math.max(spans[i]!, window.x);
        const t = Math.min(spans[i + 1]!, window.x + window.width);
        if (s < t) mask.fill(1, base + s, base + t);
      }
    }
    return mask;
  }

  /** Whether any pixel of the window belongs to the region; stops at the first one found. */
  intersects(window: PixelWindow): boolean {
    const r0 = Math.max(window.y, this.domain.y);
    const r1 = Math.min(window.y + window.height, this.domain.y + this.domain.height);
    const c0 = window.x;
    const c1 = window.x + window.width;
    for (let r = r0; r < r1; r++) {
      const spans = this.rowSpans(r);
      for (let i = 0; i < spans.length; i += 2) {
        if (spans[i]! < c1 && spans[i + 1]! > c0) return true;
      }
    }
    return false;
  }

  /** Number of region pixels in the window. */
  count(window: PixelWindow): number {
    const r0 = Math.max(window.y, this.domain.y);
    const r1 = Math.min(window.y + window.height, this.domain.y + this.domain.height);
    let total = 0;
    for (let r = r0; r < r1; r++) {
      const spans = this.rowSpans(r);
      for (let i = 0; i < spans.length; i += 2) {
        const s = Math.max(spans[i]!, window.x);
        const t = Math.min(spans[i + 1]!, window.x + window.width);
        if (s < t) total += t - s;
      }
    }
    return total;
  }

  /**
   * Mark the domain columns that hold a region pixel in any row of [rowStart, rowEnd):
   * out[col - domain.x] = 1. Used by the planner to drop tiles without a region pixel.
   * @param out domain.width bytes; cleared first
   */
  bandColumns(rowStart: number, rowEnd: number, out: Uint8Array): Uint8Array {
    out.fill(0);
    const r0 = Math.max(rowStart, this.domain.y);
    const r1 = Math.min(rowEnd, this.domain.y + this.domain.height);
    const x0 = this.domain.x;
    for (let r = r0; r < r1; r++) {
      const spans = this.rowSpans(r);
      for (let i = 0; i < spans.length; i += 2) out.fill(1, spans[i]! - x0, spans[i + 1]! - x0);
    }
    return out;
  }

  private grow(): void {
    const xs = new Float64Array(this.xs.length * 2);
    xs.set(this.xs);
    this.xs = xs;
    const ps = new Int32Array(this.ps.length * 2);
    ps.set(this.ps);
    this.ps = ps;
  }

  /** Sort crossings by x (ties keep any order: they produce empty spans either way). */
  private sortCrossings(n: number): void {
    const xs = this.xs;
    const ps = this.ps;
    if (n <= 32) {
      for (let i = 1; i < n; i++) {
        const x = xs[i]!;
        const p = ps[i]!;
        let j = i - 1;
        while (j >= 0 && xs[j]! > x) {
          xs[j + 1] = xs[j]!;
          ps[j + 1] = ps[j]!;
          j--;
        }
        xs[j + 1] = x;
        ps[j + 1] = p;
      }
      return;
    }
    const order = this.order;
    order.length = n;
    for (let i = 0; i < n; i++) order[i] = i;
    order.sort((a, b) => xs[a]! - xs[b]!);
    const sx = xs.slice(0, n);
    const sp = ps.slice(0, n);
    for (let i = 0; i < n; i++) {
      xs[i] = sx[order[i]!]!;
      ps[i] = sp[order[i]!]!;
    }
  }
}

function grown(a: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> {
  const b = new Int32Array(a.length * 2);
  b.set(a);
  return b;
}
