/**
 * A deliberately plain predict, written from DESIGN.md alone, to check the optimised pipeline:
 * whole input arrays in memory, one tile at a time through onnxruntime directly, a float64
 * accumulator over the whole window, no batching, no streaming, no shared code with src/.
 */
import * as ort from 'onnxruntime-node';
import type { PxPolygon, Scene } from './fixtures.js';

export type WindowKind = 'pyramid' | 'gaussian' | 'cosine' | 'constant';

/** Weight of tile pixel (i, j) for a T × T tile. */
export function weight(kind: WindowKind, T: number, i: number, j: number): number {
  switch (kind) {
    case 'pyramid':
      return Math.min(i + 1, j + 1, T - i, T - j);
    case 'gaussian': {
      const c = (T - 1) / 2;
      const s = T / 8;
      return Math.exp(-((i - c) ** 2 + (j - c) ** 2) / (2 * s * s));
    }
    case 'cosine': {
      const h = (k: number) => Math.sin((Math.PI * (k + 0.5)) / T) ** 2;
      return h(i) * h(j);
    }
    case 'constant':
      return 1;
  }
}

/** Even-odd ray casting: is (x, y) inside the ring? */
function inRing(ring: readonly [number, number][], x: number, y: number): boolean {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i]!;
    const [xj, yj] = ring[j]!;
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** Is pixel (col, row) in the region: its centre inside an odd number of some polygon's rings? */
export function inRegion(polygons: readonly PxPolygon[], col: number, row: number): boolean {
  const x = col + 0.5;
  const y = row + 0.5;
  return polygons.some((p) => p.filter((r) => inRing(r, x, y)).length % 2 === 1);
}

export interface Window {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The window: the polygons' bounding box, floor of the minimum, ceil of the maximum, clipped to the raster. */
export function regionWindow(polygons: readonly PxPolygon[], width: number, height: number): Window {
  const pts = polygons.flat(2);
  const x0 = Math.max(0, Math.floor(Math.min(...pts.map((p) => p[0]))));
  const y0 = Math.max(0, Math.floor(Math.min(...pts.map((p) => p[1]))));
  const x1 = Math.min(width, Math.ceil(Math.max(...pts.map((p) => p[0]))));
  const y1 = Math.min(height, Math.ceil(Math.max(...pts.map((p) => p[1]))));
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

/** Tile origins along an axis of n pixels: 0, s, 2s, … and a last one ending at n; [0] when n <= tile. */
export function origins(n: number, tile: number, stride: number): number[] {
  if (n <= tile) return [0];
  const out: number[] = [];
  for (let o = 0; o + tile < n; o += stride) out.push(o);
  out.push(n - tile);
  return out;
}

/** The region mask over the window, row-major. */
export function regionMask(polygons: readonly PxPolygon[], w: Window): Uint8Array {
  const m = new Uint8Array(w.width * w.height);
  for (let r = 0; r < w.height; r++) for (let c = 0; c < w.width; c++) m[r * w.width + c] = inRegion(polygons, w.x + c, w.y + r) ? 1 : 0;
  return m;
}

export interface ReferenceOptions {
  scene: Scene;
  polygons: PxPolygon[];
  model: string;
  tile: number;
  stride: number;
  norm: { mean: number[]; std: number[] } | null;
  /** Default 0. */
  fill?: number;
  /** Default pyramid. */
  window?: WindowKind;
}

export interface ReferenceResult {
  window: Window;
  /** Output bands over the window, NaN outside the region. */
  bands: Float32Array[];
  /** Tiles on the grid, and tiles with a region pixel. */
  total: number;
  computed: number;
}

export async function referencePredict(o: ReferenceOptions): Promise<ReferenceResult> {
  const { scene, polygons, tile: T, stride } = o;
  const fill = o.fill ?? 0;
  const kind = o.window ?? 'pyramid';
  const win = regionWindow(polygons, scene.width, scene.height);
  const mask = regionMask(polygons, win);
  const xs = origins(win.width, T, stride);
  const ys = origins(win.height, T, stride);
  // the same graph optimisation as tilecast's sessions (src/infer/onnx.ts): the kernels, and so the
  // last bits of the model's output, depend on it
  const session = await ort.InferenceSession.create(o.model, { graphOptimizationLevel: 'extended' });
  const Tt = scene.T;
  const C = scene.C;
  let sumW: Float64Array | null = null;
  let sumWP: Float64Array[] = [];
  let computed = 0;
  try {
    for (const oy of ys) {
      for (const ox of xs) {
        const tx = win.x + ox;
        const ty = win.y + oy;
        let touches = false;
        for (let i = 0; i < T && !touches; i++) {
          for (let j = 0; j < T; j++) {
            const c = ox + j;
            const r = oy + i;
            if (c < win.width && r < win.height && mask[r * win.width + c]) {
              touches = true;
              break;
            }
          }
        }
        if (!touches) continue;
        computed++;
        const input = new Float32Array(Tt * C * T * T);
        for (let t = 0; t < Tt; t++) {
          for (let c = 0; c < C; c++) {
            const src = scene.channel(t, c);
            for (let i = 0; i < T; i++) {
              for (let j = 0; j < T; j++) {
                const x = tx + j;
                const y = ty + i;
                const v = x < scene.width && y < scene.height ? src[y * scene.width + x]! : Number.NaN;
                const ok = x < scene.width && y < scene.height && scene.isValid(c, v);
                const norm = o.norm ? (v - o.norm.mean[c]!) / o.norm.std[c]! : v;
                input[((t * C + c) * T + i) * T + j] = ok ? norm : fill;
              }
            }
          }
        }
        const feeds = { [session.inputNames[0]!]: new ort.Tensor('float32', input, [1, Tt, C, T, T]) };
        const result = await session.run(feeds);
        const out = result[session.outputNames[0]!]!;
        const pred = out.data as Float32Array;
        const K = out.dims[1]!;
        if (sumW === null) {
          sumW = new Float64Array(win.width * win.height);
          sumWP = Array.from({ length: K }, () => new Float64Array(win.width * win.height));
        }
        for (let i = 0; i < T; i++) {
          for (let j = 0; j < T; j++) {
            const c = ox + j;
            const r = oy + i;
            if (c >= win.width || r >= win.height || !mask[r * win.width + c]) continue;
            const w = weight(kind, T, i, j);
            const p = r * win.width + c;
            sumW[p] += w;
            for (let k = 0; k < K; k++) sumWP[k]![p] += w * pred[(k * T + i) * T + j]!;
          }
        }
      }
    }
  } finally {
    await session.release();
  }
  const bands = sumWP.map((acc) => {
    const b = new Float32Array(acc.length);
    for (let p = 0; p < acc.length; p++) b[p] = sumW![p]! > 0 ? acc[p]! / sumW![p]! : Number.NaN;
    return b;
  });
  return { window: win, bands, total: xs.length * ys.length, computed };
}
