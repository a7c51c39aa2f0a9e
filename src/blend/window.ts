/**
 * Weight windows for blending overlapping tile predictions. Every window is T × T, row-major,
 * float64, and strictly positive everywhere, so that a pixel at the raster border (covered by
 * the edge of a single tile) keeps its prediction.
 *
 * - pyramid (default): w(i, j) = min(i + 1, j + 1, T − i, T − j); exact small integers.
 * - gaussian: w(i, j) = exp(−((i − c)² + (j − c)²) / (2σ²)), c = (T − 1) / 2, σ = T / 8 by
 *   default; the corner weight is e^−16 ≈ 1e−7 for any T at the default σ.
 * - cosine: w(i, j) = h(i)·h(j), h(i) = 0.5 − 0.5·cos(2π(i + 0.5) / T) = sin²(π(i + 0.5) / T),
 *   a raised cosine sampled at pixel centres: symmetric, > 0 at the edge (sin²(π / 2T)).
 * - constant: w = 1 (plain averaging).
 */
import { UsageError } from '../errors.js';

export type WeightWindow = { kind: 'pyramid' } | { kind: 'gaussian'; sigma?: number } | { kind: 'cosine' } | { kind: 'constant' };

export type WeightWindowKind = WeightWindow['kind'];

export const WEIGHT_WINDOW_KINDS: readonly WeightWindowKind[] = ['pyramid', 'gaussian', 'cosine', 'constant'];

export const DEFAULT_WEIGHT_WINDOW: WeightWindow = { kind: 'pyramid' };

/**
 * Parse a window name from the command line: `pyramid`, `gaussian`, `gaussian:<sigma>`,
 * `cosine` or `constant`.
 * @param flag the flag to name in errors
 */
export function parseWeightWindow(text: string, flag = '--blend'): WeightWindow {
  const [name, arg, ...rest] = text.trim().toLowerCase().split(':');
  const expected = `expected one of ${WEIGHT_WINDOW_KINDS.join(', ')} (gaussian takes an optional sigma in pixels, e.g. gaussian:16)`;
  if (rest.length > 0) throw new UsageError(`${flag} '${text}' is not a weight window: ${expected}`);
  switch (name) {
    case 'pyramid':
    case 'cosine':
    case 'constant':
      if (arg !== undefined) throw new UsageError(`${flag} '${text}': ${name} takes no parameter; ${expected}`);
      return { kind: name };
    case 'gaussian': {
      if (arg === undefined) return { kind: 'gaussian' };
      const sigma = Number(arg);
      if (arg === '' || !Number.isFinite(sigma) || sigma <= 0) throw new UsageError(`${flag} '${text}': sigma must be a positive number of pixels, got '${arg}'`);
      return { kind: 'gaussian', sigma };
    }
    default:
      throw new UsageError(`${flag} '${text}' is not a weight window: ${expected}`);
  }
}

/** The window's name as `parseWeightWindow` reads it back. */
export function formatWeightWindow(w: WeightWindow): string {
  return w.kind === 'gaussian' && w.sigma !== undefined ? `gaussian:${w.sigma}` : w.kind;
}

/**
 * The T × T weights of a window (row-major, row i, column j).
 * Throws UsageError when a gaussian sigma is so small that the corner weight underflows to 0.
 */
export function weightWindow(spec: WeightWindow, tile: number, flag = '--blend'): Float64Array {
  if (!Number.isInteger(tile) || tile < 1) throw new UsageError(`--tile must be a positive integer, got ${String(tile)}`);
  const T = tile;
  const w = new Float64Array(T * T);
  switch (spec.kind) {
    case 'pyramid':
      for (let i = 0; i < T; i++) {
        const di = Math.min(i + 1, T - i);
        for (let j = 0; j < T; j++) w[i * T + j] = Math.min(di, j + 1, T - j);
      }
      break;
    case 'gaussian': {
      const sigma = spec.sigma ?? T / 8;
      const c = (T - 1) / 2;
      const s2 = 2 * sigma * sigma;
      if (!(sigma > 0) || !(Math.exp((-2 * c * c) / s2) > 0)) {
        const min = Math.ceil((Math.SQRT2 * c) / Math.sqrt(2 * 700));
        throw new UsageError(`${flag} gaussian:${sigma}: sigma is too small for --tile ${T}: the corner weight underflows to 0; use sigma >= ${min}`);
      }
      const g = new Float64Array(T);
      for (let i = 0; i < T; i++) g[i] = (i - c) * (i - c);
      for (let i = 0; i < T; i++) for (let j = 0; j < T; j++) w[i * T + j] = Math.exp(-(g[i]! + g[j]!) / s2);
      break;
    }
    case 'cosine': {
      const h = new Float64Array(T);
      // computed on the first half and mirrored, so that the window is exactly symmetric
      for (let i = 0; i < T; i++) {
        const m = Math.min(i, T - 1 - i);
        h[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * (m + 0.5)) / T);
      }
      for (let i = 0; i < T; i++) for (let j = 0; j < T; j++) w[i * T + j] = h[i]! * h[j]!;
      break;
    }
    case 'constant':
      w.fill(1);
      break;
    default:
      throw new UsageError(`${flag} ${JSON.stringify((spec as { kind?: unknown }).kind)} is not a weight window: expected one of ${WEIGHT_WINDOW_KINDS.join(', ')}`);
  }
  return w;
}
