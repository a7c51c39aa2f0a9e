/**
 * The row-band accumulator: blends tile predictions into `Σ w·p / Σ w` with memory independent
 * of the window's height.
 *
 * Tiles are added one at a time in plan order (row-major, so their top rows never decrease).
 * Each pixel's sums are float64 and receive their terms in that fixed order, whatever the batch
 * size: the output is bit-identical to a naive full-image float64 accumulation in plan order.
 *
 * Only a ring of `tile + blockRows` window rows is held. A block row is final once the last tile
 * that starts above its end has been added (the plan's `BlockRow.readyAfter`): `drain()` then
 * turns it into float32 output (`Σ w·p / Σ w`, or nodata where `Σ w = 0`, i.e. outside the
 * region) and frees its rows. Call `drain()` after every `add()`; after the last tile it yields
 * every remaining block row.
 *
 * A pixel's weight is the window weight times its mask (region × input validity, as the caller
 * builds it); masked pixels add nothing, not even 0 × NaN. Predictions that are NaN or ±Infinity at
 * weighted pixels are counted (`nonFinite`) and accumulated as they are, so they reach the output
 * unless the caller decides otherwise: the policy (fail, warn) is the caller's.
 */
import { blockRows as planRows, type BlockRow } from '../plan/plan.js';
import type { PixelWindow } from '../raster/types.js';

export interface AccumulatorOptions {
  /** The output window in raster pixels; tile pixels outside it are ignored. */
  window: PixelWindow;
  /** Tile origins (raster pixels) in the order they will be added; their y must not decrease. */
  tiles: ReadonlyArray<{ x: number; y: number }>;
  /** Tile size T. */
  tile: number;
  /** Output bands K (prediction planes per tile). */
  bands: number;
  /** The T × T weight window (row-major), all > 0. */
  weights: Float64Array;
  /** Rows per emitted block row. */
  blockRows: number;
  /** The window's block rows and when each is final, from the plan; derived from `tiles` and `blockRows` when absent. */
  rows?: readonly BlockRow[];
  /** Output value where Σ w = 0 (outside the region, or no valid input). Default NaN. */
  nodata?: number;
}

/** A finished block row. */
export interface OutputRows {
  /** Block-row index (0 = top of the window). */
  index: number;
  /** First raster row. */
  y: number;
  /** Rows (blockRows, or fewer for the last block row). */
  height: number;
  /** Window width. */
  width: number;
  /** K planes, band-sequential: band k, row r, column c at data[(k * height + r) * width + c]. Owned by the receiver. */
  data: Float32Array;
}

export class BlendAccumulator {
  /** Rows held by the ring buffer. */
  readonly capacityRows: number;
  /** Largest number of rows held at once so far (live rows, from the first unemitted row to the last touched row). */
  maxLiveRows = 0;
  /** Prediction values (pixel × band) that were NaN or ±Infinity where the pixel's weight was > 0. */
  nonFinite = 0;

  private readonly window: PixelWindow;
  private readonly tiles: ReadonlyArray<{ x: number; y: number }>;
  private readonly T: number;
  private readonly K: number;
  private readonly weights: Float64Array;
  private readonly B: number;
  private readonly rows: readonly BlockRow[];
  private readonly nodata: number;
  private readonly sumW: Float64Array;
  private readonly sumWP: Float64Array;
  private readonly tileWeights: Float64Array;
  private readonly plane: number;
  /** Tiles added so far. */
  private next = 0;
  /** Next block row to emit. */
  private nextBlock = 0;
  /** End (exclusive, window-relative) of the rows touched so far. */
  private touchedEnd = 0;

  constructor(options: AccumulatorOptions) {
    const { window, tiles, tile, bands, weights, blockRows } = options;
    if (!Number.isInteger(tile) || tile < 1) throw new RangeError(`tile must be a positive integer, got ${tile}`);
    if (!Number.isInteger(bands) || bands < 1) throw new RangeError(`bands must be a positive integer, got ${bands}`);
    if (!Number.isInteger(blockRows) || blockRows < 1) throw new RangeError(`blockRows must be a positive integer, got ${blockRows}`);
    if (weights.length !== tile * tile) throw new RangeError(`weights hold ${weights.length} values, expected ${tile}×${tile}`);
    if (!(window.width > 0 && window.height > 0)) throw new RangeError(`empty window ${window.width}×${window.height}`);
    for (let i = 1; i < tiles.length; i++) {
      if (tiles[i]!.y < tiles[i - 1]!.y) throw new RangeError(`tiles must be in plan order (y not decreasing): tile ${i} at y=${tiles[i]!.y} follows y=${tiles[i - 1]!.y}`);
    }
    this.window = { ...window };
    this.tiles = tiles;
    this.T = tile;
    this.K = bands;
    this.weights = weights;
    this.B = blockRows;
    this.nodata = options.nodata ?? Number.NaN;
    this.capacityRows = Math.min(tile + blockRows, window.height);
    this.plane = this.capacityRows * window.width;
    this.sumW = new Float64Array(this.plane);
    this.sumWP = new Float64Array(this.plane * bands);
    this.tileWeights = new Float64Array(tile * tile);
    this.rows = options.rows ?? planRows(window, tiles, blockRows);
    if (this.rows.reduce((a, r) => a + r.height, 0) !== window.height || this.rows.some((r) => r.height > blockRows)) {
      throw new RangeError(`rows must cover the window's ${window.height} rows in pieces of at most ${blockRows}`);
    }
  }

  /** Tiles added so far. */
  get added(): number {
    return this.next;
  }

  /** True once every block row has been emitted. */
  get done(): boolean {
    return this.nextBlock >= this.rows.length;
  }

  /**
   * Blend one tile. Tiles must come in plan order: `tileIndex` is the number of tiles added before.
   * @param prediction K × T × T float32, band-sequential
   * @param mask T × T, 0 = pixel excluded (outside region, or invalid input); null = all included
   * @returns how many non-finite values this tile contributed (also added to `nonFinite`)
   */
  add(tileIndex: number, prediction: Float32Array, mask: Uint8Array | null): number {
    const { T, K, window } = this;
    if (tileIndex !== this.next) throw new RangeError(`tile ${tileIndex} added out of plan order; expected tile ${this.next}`);
    if (prediction.length !== K * T * T) throw new RangeError(`tile ${tileIndex}: prediction holds ${prediction.length} values, expected ${K}×${T}×${T}`);
    if (mask !== null && mask.length !== T * T) throw new RangeError(`tile ${tileIndex}: mask holds ${mask.length} values, expected ${T}×${T}`);
    const tile = this.tiles[tileIndex]!;
    const tx = tile.x - window.x;
    const ty = tile.y - window.y;
    const W = window.width;
    const R = this.capacityRows;
    const i0 = Math.max(0, -ty);
    const i1 = Math.min(T, window.height - ty);
    const j0 = Math.max(0, -tx);
    const j1 = Math.min(T, W - tx);

    if (i0 < i1) {
      const firstLive = this.nextBlock * this.B;
      const end = ty + i1;
      if (end - firstLive > R) {
        throw new RangeError(`tile ${tileIndex} needs rows up to ${end} but rows from ${firstLive} are not drained yet: call drain() after every add()`);
      }
      this.touchedEnd = Math.max(this.touchedEnd, end);
      this.maxLiveRows = Math.max(this.maxLiveRows, this.touchedEnd - firstLive);
    }

    // the tile's pixel weights: window weight × mask (0 = excluded)
    const tw = this.tileWeights;
    if (mask === null) tw.set(this.weights);
    else for (let p = 0; p < T * T; p++) tw[p] = mask[p] === 0 ? 0 : this.weights[p]!;
    const sumW = this.sumW;
    const sumWP = this.sumWP;
    const TT = T * T;
    let bad = 0;
    if (j0 < j1) {
      for (let i = i0; i < i1; i++) {
        const base = ((ty + i) % R) * W + tx;
        const t = i * T;
        for (let j = j0; j < j1; j++) {
          const w = tw[t + j]!;
          if (w !== 0) sumW[base + j] += w;
        }
      }
      for (let k = 0; k < K; k++) {
        const p = prediction.subarray(k * TT, (k + 1) * TT);
        const acc = sumWP.subarray(k * this.plane, (k + 1) * this.plane);
        for (let i = i0; i < i1; i++) {
          const base = ((ty + i) % R) * W + tx;
          const t = i * T;
          for (let j = j0; j < j1; j++) {
            const w = tw[t + j]!;
            if (w === 0) continue; // excluded pixels add nothing, not even 0 × NaN
            const v = p[t + j]!;
            if (v - v !== 0) bad++;
            acc[base + j] += w * v;
          }
        }
      }
    }
    this.nonFinite += bad;
    this.next++;
    return bad;
  }

  /** Yield every block row that no later tile touches; each is emitted once, top to bottom. */
  *drain(): Generator<OutputRows> {
    while (this.nextBlock < this.rows.length) {
      const row = this.rows[this.nextBlock]!;
      if (this.next <= row.readyAfter && this.next < this.tiles.length) return;
      const r0 = row.y - this.window.y;
      yield this.emit(this.nextBlock, r0, r0 + row.height);
      this.nextBlock++;
    }
  }

  private emit(index: number, r0: number, r1: number): OutputRows {
    const { K, window, sumW, sumWP, plane, nodata } = this;
    const W = window.width;
    const R = this.capacityRows;
    const h = r1 - r0;
    const data = new Float32Array(K * h * W);
    for (let r = r0; r < r1; r++) {
      const slot = (r % R) * W;
      const w = sumW.subarray(slot, slot + W);
      for (let k = 0; k < K; k++) {
        const acc = sumWP.subarray(k * plane + slot, k * plane + slot + W);
        const out = data.subarray((k * h + (r - r0)) * W, (k * h + (r - r0) + 1) * W);
        for (let c = 0; c < W; c++) {
          const s = w[c]!;
          out[c] = s > 0 ? acc[c]! / s : nodata;
        }
        acc.fill(0);
      }
      w.fill(0);
    }
    return { index, y: window.y + r0, height: h, width: W, data };
  }
}
