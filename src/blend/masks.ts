/**
 * Each tile's region mask for blending, from the region's mask over the plan window: none (null,
 * "every pixel in") for a tile wholly inside the region, which is most of them, else the tile's
 * rasterised mask. Which columns are inside on every row of a tile row is worked out once per
 * tile row, so a tile wholly inside costs a look-up.
 */
import type { Polygon } from '../plan/geometry.js';
import { RegionMask } from '../raster/mask.js';
import type { PixelWindow } from '../raster/types.js';

export class TileMasks {
  private readonly mask: RegionMask;
  private readonly tileMask: Uint8Array;
  /** Prefix sums over window columns of "inside on every row of the current tile row". */
  private readonly full: Int32Array;
  /** Per column: +1 where a row's span starts, -1 where it ends (summed over the tile row). */
  private readonly diff: Int32Array;
  private bandY = Number.NaN;
  /** The window columns [x0, x1) the tiles asked for lie in (see columns()). */
  private x0 = 0;
  private x1: number;

  constructor(region: readonly Polygon[], private readonly window: PixelWindow, private readonly tile: number) {
    this.mask = new RegionMask(region, window);
    this.tileMask = new Uint8Array(tile * tile);
    this.full = new Int32Array(window.width + 1);
    this.diff = new Int32Array(window.width + 1);
    this.x1 = window.width;
  }

  /**
   * Limit the work per tile row to the columns [x, x + width) of the window (a chunk's tiles), so
   * that it grows with the chunk, not the window. Tiles outside still get their mask, rasterised.
   */
  columns(x: number, width: number): void {
    const w = this.window;
    this.x0 = Math.max(0, x - w.x);
    this.x1 = Math.min(w.width, Math.max(this.x0, x + width - w.x));
    this.bandY = Number.NaN;
  }

  /** The mask of the tile at (x, y): null when every pixel is in the region; else valid until the next call. */
  of(x: number, y: number): Uint8Array | null {
    const w = this.window;
    const T = this.tile;
    if (y !== this.bandY) this.band(y);
    const c0 = x - w.x;
    if (y >= w.y && y + T <= w.y + w.height && c0 >= this.x0 && c0 + T <= this.x1 && this.full[c0 + T]! - this.full[c0]! === T) return null;
    return this.mask.rasterize({ x, y, width: T, height: T }, this.tileMask);
  }

  private band(y: number): void {
    this.bandY = y;
    const w = this.window;
    const { x0, x1, diff, full } = this;
    diff.fill(0, x0, x1 + 1);
    const r0 = Math.max(y, w.y);
    const r1 = Math.min(y + this.tile, w.y + w.height);
    for (let r = r0; r < r1; r++) {
      const spans = this.mask.rowSpans(r);
      for (let i = 0; i < spans.length; i += 2) {
        const a = Math.max(spans[i]! - w.x, x0);
        const b = Math.min(spans[i + 1]! - w.x, x1);
        if (a < b) {
          diff[a]!++;
          diff[b]!--;
        }
      }
    }
    const need = this.tile;
    let rows = 0;
    full[x0] = 0;
    for (let c = x0; c < x1; c++) {
      rows += diff[c]!;
      full[c + 1] = full[c]! + (rows === need ? 1 : 0);
    }
  }
}
