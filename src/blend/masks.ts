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
  private readonly rows: Uint16Array;
  private bandY = Number.NaN;

  constructor(region: readonly Polygon[], private readonly window: PixelWindow, private readonly tile: number) {
    this.mask = new RegionMask(region, window);
    this.tileMask = new Uint8Array(tile * tile);
    this.full = new Int32Array(window.width + 1);
    this.rows = new Uint16Array(window.width);
  }

  /** The mask of the tile at (x, y): null when every pixel is in the region; else valid until the next call. */
  of(x: number, y: number): Uint8Array | null {
    const w = this.window;
    const T = this.tile;
    if (y !== this.bandY) this.band(y);
    const c0 = x - w.x;
    if (y >= w.y && y + T <= w.y + w.height && c0 >= 0 && c0 + T <= w.width && this.full[c0 + T]! - this.full[c0]! === T) return null;
    return this.mask.rasterize({ x, y, width: T, height: T }, this.tileMask);
  }

  private band(y: number): void {
    this.bandY = y;
    const w = this.window;
    const rows = this.rows;
    rows.fill(0);
    const r0 = Math.max(y, w.y);
    const r1 = Math.min(y + this.tile, w.y + w.height);
    for (let r = r0; r < r1; r++) {
      const spans = this.mask.rowSpans(r);
      for (let i = 0; i < spans.length; i += 2) for (let c = spans[i]! - w.x; c < spans[i + 1]! - w.x; c++) rows[c]!++;
    }
    const need = this.tile;
    for (let c = 0; c < w.width; c++) this.full[c + 1] = this.full[c]! + (rows[c] === need ? 1 : 0);
  }
}
