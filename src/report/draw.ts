/**
 * Quicklooks drawn into RGBA pixels: class colours, a colour ramp for probabilities, a 2–98 %
 * stretch for inputs, and overlays (tile grid, region outline) in raster pixel coordinates.
 * Pixels without data are transparent, so the page background shows through.
 */
import type { Rgb } from '../write/palette.js';
import type { Quicklook } from './quicklook.js';

/** An RGBA image, 4 bytes per pixel, row-major. */
export interface Rgba {
  width: number;
  height: number;
  data: Uint8Array;
}

function blank(q: Quicklook): Rgba {
  return { width: q.width, height: q.height, data: new Uint8Array(q.width * q.height * 4) };
}

/** Class quicklook (plane 0 holds class values) in the class colours; other values are transparent. */
export function drawClasses(q: Quicklook, colors: readonly Rgb[]): Rgba {
  const img = blank(q);
  const plane = q.planes[0]!;
  for (let i = 0; i < plane.length; i++) {
    const c = colors[plane[i]!];
    if (c === undefined) continue;
    img.data.set(c, i * 4);
    img.data[i * 4 + 3] = 255;
  }
  return img;
}

/** Viridis at five stops (matplotlib), interpolated linearly. */
export const RAMP: readonly Rgb[] = [
  [0x44, 0x01, 0x54],
  [0x3b, 0x52, 0x8b],
  [0x21, 0x91, 0x8c],
  [0x5e, 0xc9, 0x62],
  [0xfd, 0xe7, 0x25],
];

/** Ramp colour of t in 0..1. */
export function rampColor(t: number): Rgb {
  const x = Math.min(1, Math.max(0, t)) * (RAMP.length - 1);
  const i = Math.min(RAMP.length - 2, Math.floor(x));
  const f = x - i;
  const a = RAMP[i]!;
  const b = RAMP[i + 1]!;
  return [0, 1, 2].map((k) => Math.round(a[k]! + (b[k]! - a[k]!) * f)) as unknown as Rgb;
}

/** Value range of a plane's valid values, or null when it has none. */
export function valueRange(plane: Float32Array): [number, number] | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of plane) {
    if (v !== v || !Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo <= hi ? [lo, hi] : null;
}

/** Plane 0 through the ramp from `range[0]` (first stop) to `range[1]` (last stop). */
export function drawRamp(q: Quicklook, range: readonly [number, number]): Rgba {
  const img = blank(q);
  const plane = q.planes[0]!;
  const span = range[1] - range[0] || 1;
  for (let i = 0; i < plane.length; i++) {
    const v = plane[i]!;
    if (v !== v) continue;
    img.data.set(rampColor((v - range[0]) / span), i * 4);
    img.data[i * 4 + 3] = 255;
  }
  return img;
}

/** The `lo` and `hi` fractions (e.g. 0.02, 0.98) of a plane's finite values; null when it has none. */
export function percentiles(plane: Float32Array, lo: number, hi: number): [number, number] | null {
  let n = 0;
  const values = new Float32Array(plane.length);
  for (const v of plane) if (Number.isFinite(v)) values[n++] = v;
  if (n === 0) return null;
  const sorted = values.subarray(0, n).sort();
  const at = (p: number): number => sorted[Math.min(n - 1, Math.max(0, Math.round(p * (n - 1))))]!;
  return [at(lo), at(hi)];
}

/**
 * One band in grey, or three as red, green, blue, each stretched linearly from its 2 % to its
 * 98 % value; a pixel without data in any band is transparent.
 */
export function drawStretched(q: Quicklook): Rgba {
  if (q.planes.length !== 1 && q.planes.length !== 3) throw new RangeError(`drawStretched: 1 or 3 bands, got ${q.planes.length}`);
  const img = blank(q);
  const n = q.width * q.height;
  const ranges = q.planes.map((p) => percentiles(p, 0.02, 0.98));
  for (let i = 0; i < n; i++) {
    let ok = true;
    for (let c = 0; c < 3; c++) {
      const b = q.planes.length === 1 ? 0 : c;
      const v = q.planes[b]![i]!;
      const r = ranges[b];
      if (v !== v || r === undefined || r === null) {
        ok = false;
        break;
      }
      const t = r[1] > r[0] ? (v - r[0]) / (r[1] - r[0]) : 0.5;
      img.data[i * 4 + c] = Math.round(255 * Math.min(1, Math.max(0, t)));
    }
    img.data[i * 4 + 3] = ok ? 255 : 0;
  }
  return img;
}

/** Blend `color` at `alpha` (0..1) over pixel (x, y); outside the image nothing happens. */
function blendPixel(img: Rgba, x: number, y: number, color: Rgb, alpha: number): void {
  if (x < 0 || y < 0 || x >= img.width || y >= img.height) return;
  const i = (y * img.width + x) * 4;
  const d = img.data;
  const a0 = d[i + 3]! / 255;
  const a = alpha + a0 * (1 - alpha);
  for (let c = 0; c < 3; c++) d[i + c] = Math.round((color[c]! * alpha + d[i + c]! * a0 * (1 - alpha)) / a);
  d[i + 3] = Math.round(a * 255);
}

/** Tiles of the grid, by the top-left pixel in raster coordinates; each `size` pixels square. */
export interface TileGrid {
  size: number;
  computed: readonly { x: number; y: number }[];
  skipped: readonly { x: number; y: number }[];
}

export const COMPUTED_COLOR: Rgb = [0x2c, 0xa0, 0x2c];
export const SKIPPED_COLOR: Rgb = [0xd6, 0x27, 0x28];
export const REGION_COLOR: Rgb = [0xff, 0xd7, 0x00];

/**
 * The tile grid over an image of a `sourceWidth` x `sourceHeight` raster: the area of computed
 * tiles tinted green, of skipped tiles red (computed wins where they overlap), and each tile's
 * border drawn when tiles are at least 6 image pixels wide.
 */
export function drawTiles(img: Rgba, sourceWidth: number, sourceHeight: number, grid: TileGrid): void {
  const sx = img.width / sourceWidth;
  const sy = img.height / sourceHeight;
  const state = new Uint8Array(img.width * img.height);
  const mark = (tiles: TileGrid['computed'], value: number): void => {
    for (const t of tiles) {
      const x0 = Math.max(0, Math.floor(t.x * sx));
      const x1 = Math.min(img.width, Math.ceil((t.x + grid.size) * sx));
      const y0 = Math.max(0, Math.floor(t.y * sy));
      const y1 = Math.min(img.height, Math.ceil((t.y + grid.size) * sy));
      for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) if (state[y * img.width + x]! < value) state[y * img.width + x] = value;
    }
  };
  mark(grid.skipped, 1);
  mark(grid.computed, 2);
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const s = state[y * img.width + x]!;
      if (s !== 0) blendPixel(img, x, y, s === 2 ? COMPUTED_COLOR : SKIPPED_COLOR, 0.3);
    }
  }
  if (grid.size * Math.min(sx, sy) < 6) return;
  const border = (tiles: TileGrid['computed'], color: Rgb): void => {
    for (const t of tiles) {
      const x0 = Math.round(t.x * sx);
      const x1 = Math.round((t.x + grid.size) * sx) - 1;
      const y0 = Math.round(t.y * sy);
      const y1 = Math.round((t.y + grid.size) * sy) - 1;
      for (let x = x0; x <= x1; x++) {
        blendPixel(img, x, y0, color, 0.8);
        blendPixel(img, x, y1, color, 0.8);
      }
      for (let y = y0 + 1; y < y1; y++) {
        blendPixel(img, x0, y, color, 0.8);
        blendPixel(img, x1, y, color, 0.8);
      }
    }
  };
  border(grid.skipped, SKIPPED_COLOR);
  border(grid.computed, COMPUTED_COLOR);
}

/** Polygon rings (raster pixel coordinates, [x, y]) drawn as 2-pixel lines. */
export function drawOutline(img: Rgba, sourceWidth: number, sourceHeight: number, rings: readonly (readonly (readonly [number, number])[])[], color: Rgb = REGION_COLOR): void {
  const sx = img.width / sourceWidth;
  const sy = img.height / sourceHeight;
  const seen = new Uint8Array(img.width * img.height);
  const plot = (x: number, y: number): void => {
    for (let dy = 0; dy < 2; dy++) {
      for (let dx = 0; dx < 2; dx++) {
        const px = x + dx;
        const py = y + dy;
        if (px < 0 || py < 0 || px >= img.width || py >= img.height || seen[py * img.width + px]) continue;
        seen[py * img.width + px] = 1;
        blendPixel(img, px, py, color, 1);
      }
    }
  };
  for (const ring of rings) {
    // rings may be closed (GeoJSON) or not: the segment from the last point to the first closes them
    for (let i = 0; i < ring.length; i++) {
      const [ax, ay] = ring[i]!;
      const [bx, by] = ring[(i + 1) % ring.length]!;
      const x0 = ax * sx - 1;
      const y0 = ay * sy - 1;
      const x1 = bx * sx - 1;
      const y1 = by * sy - 1;
      const steps = Math.max(1, Math.ceil(2 * Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0))));
      for (let s = 0; s <= steps; s++) plot(Math.round(x0 + ((x1 - x0) * s) / steps), Math.round(y0 + ((y1 - y0) * s) / steps));
    }
  }
}
