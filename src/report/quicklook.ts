/**
 * Quicklooks: a raster decimated to at most ~1024 pixels on its long side by nearest sampling
 * (quicklook pixel (qx, qy) takes the source pixel under its centre), made without holding the
 * raster: from block rows as they stream past (QuicklookBuilder), or by decimated reads of a
 * raster (readQuicklook), one block at a time, from the smallest overview that is still large
 * enough when overviews are given.
 */
import type { PixelWindow } from '../raster/types.js';

/** Long side of a quicklook by default, in pixels. */
export const DEFAULT_QUICKLOOK_SIDE = 1024;

export interface Quicklook {
  /** Size in pixels. */
  width: number;
  height: number;
  /** Size of the full-resolution raster it shows. */
  sourceWidth: number;
  sourceHeight: number;
  /** One plane per band, row-major; NaN where the source pixel is nodata or NaN. */
  planes: Float32Array[];
}

/** Quicklook size of a `width` x `height` raster: scaled to `maxSide` on the long side, never enlarged. */
export function quicklookSize(width: number, height: number, maxSide = DEFAULT_QUICKLOOK_SIDE): { width: number; height: number } {
  const s = Math.max(1, Math.max(width, height) / maxSide);
  return { width: Math.max(1, Math.round(width / s)), height: Math.max(1, Math.round(height / s)) };
}

/** Source index (0..n-1) under the centre of each of `q` quicklook pixels along an axis of `n`. */
function samples(q: number, n: number): Int32Array {
  const out = new Int32Array(q);
  for (let i = 0; i < q; i++) out[i] = Math.min(n - 1, Math.floor(((i + 0.5) * n) / q));
  return out;
}

/**
 * Collects a quicklook from full-width rows handed over in any order (e.g. the class map's block
 * rows while they are written). Memory: the quicklook itself.
 */
export class QuicklookBuilder {
  readonly width: number;
  readonly height: number;
  private readonly cols: Int32Array;
  private readonly rows: Int32Array;
  private readonly planes: Float32Array[];
  private readonly invalid: number;

  /**
   * @param bands planes per row set (e.g. 1 for a class map)
   * @param nodata value that reads as no data (NaN is always no data)
   */
  constructor(
    readonly sourceWidth: number,
    readonly sourceHeight: number,
    bands: number,
    nodata: number | null,
    maxSide = DEFAULT_QUICKLOOK_SIDE,
  ) {
    ({ width: this.width, height: this.height } = quicklookSize(sourceWidth, sourceHeight, maxSide));
    this.cols = samples(this.width, sourceWidth);
    this.rows = samples(this.height, sourceHeight);
    this.planes = Array.from({ length: bands }, () => new Float32Array(this.width * this.height).fill(NaN));
    // rows arrive as float32 or integer planes: compare with nodata as float32 stores it
    this.invalid = nodata === null ? NaN : Math.fround(nodata);
  }

  /** Quicklook rows whose source row lies in y..y+count-1. */
  rowsIn(y: number, count: number): number[] {
    const out: number[] = [];
    // rows are non-decreasing: binary search for the first, then walk
    let lo = 0;
    let hi = this.height;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.rows[mid]! < y) lo = mid + 1;
      else hi = mid;
    }
    for (let q = lo; q < this.height && this.rows[q]! < y + count; q++) out.push(q);
    return out;
  }

  /** Source row sampled by quicklook row `q`. */
  sourceRow(q: number): number {
    return this.rows[q]!;
  }

  /**
   * Take `count` full-width source rows starting at row `y`: one array per band, each
   * `count * sourceWidth` values row-major.
   */
  addRows(y: number, count: number, planes: readonly ArrayLike<number>[]): void {
    this.addWindow({ x: 0, y, width: this.sourceWidth, height: count }, planes);
  }

  /** Take a window of the source (e.g. a chunk or a block): one array per band, `win.width * win.height` values row-major. */
  addWindow(win: PixelWindow, planes: readonly ArrayLike<number>[]): void {
    if (planes.length !== this.planes.length) throw new RangeError(`QuicklookBuilder: ${planes.length} planes given, ${this.planes.length} expected`);
    for (const q of this.rowsIn(win.y, win.height)) this.addRow(q, planes, (this.rows[q]! - win.y) * win.width, win.x, win.x + win.width);
  }

  /**
   * Fill quicklook row `q` from source columns x0..x1-1 of one row held in each plane at `offset`
   * (the value of column x is at offset + x - x0).
   */
  addRow(q: number, planes: readonly ArrayLike<number>[], offset: number, x0: number, x1: number): void {
    const { cols, invalid, width } = this;
    let lo = 0;
    let hi = width;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cols[mid]! < x0) lo = mid + 1;
      else hi = mid;
    }
    planes.forEach((src, b) => {
      const dst = this.planes[b]!;
      for (let qx = lo; qx < width && cols[qx]! < x1; qx++) {
        const v = src[offset + cols[qx]! - x0]!;
        dst[q * width + qx] = v === v && v !== invalid ? v : NaN;
      }
    });
  }

  result(): Quicklook {
    return { width: this.width, height: this.height, sourceWidth: this.sourceWidth, sourceHeight: this.sourceHeight, planes: this.planes };
  }
}

/** What readQuicklook needs of a raster (RasterSource has it). */
export interface QuicklookSource {
  readonly path: string;
  readonly width: number;
  readonly height: number;
  readonly blockWidth: number;
  readonly blockHeight: number;
  readonly nodata: number | null;
  readWindow(win: PixelWindow, options: { bands: readonly number[]; validity: boolean }): Promise<{ data: Float32Array[] }>;
}

/** Largest window read at once, in pixels per band (a block is read whole when it is smaller). */
const MAX_WINDOW_PIXELS = 1 << 20;

/**
 * Quicklook of bands `bands` (0-based) of a raster by decimated reads. `levels` is the raster
 * followed by any overviews of it (largest first); the smallest level that is at least the
 * quicklook's size is read. Each block that holds a sampled pixel is read once (blocks taller
 * or wider than MAX_WINDOW_PIXELS allows are read a sampled row at a time), so memory is one
 * block plus the quicklook whatever the raster's size.
 */
export async function readQuicklook(levels: QuicklookSource | readonly QuicklookSource[], bands: readonly number[], maxSide = DEFAULT_QUICKLOOK_SIDE): Promise<Quicklook> {
  const list = Array.isArray(levels) ? (levels as readonly QuicklookSource[]) : [levels as QuicklookSource];
  const full = list[0]!;
  const size = quicklookSize(full.width, full.height, maxSide);
  const fits = list.filter((l) => l.width >= size.width && l.height >= size.height);
  const src = fits.reduce((a, b) => (b.width * b.height < a.width * a.height ? b : a), full);
  // sample the chosen level at the full-resolution quicklook size
  const builder = new QuicklookBuilder(src.width, src.height, bands.length, src.nodata, Math.max(size.width, size.height));
  const across = Math.ceil(src.width / src.blockWidth);
  for (let y0 = 0; y0 < src.height; y0 += src.blockHeight) {
    const qrows = builder.rowsIn(y0, Math.min(src.blockHeight, src.height - y0));
    if (qrows.length === 0) continue;
    const r0 = builder.sourceRow(qrows[0]!);
    const r1 = builder.sourceRow(qrows[qrows.length - 1]!) + 1;
    for (let bx = 0; bx < across; bx++) {
      const x0 = bx * src.blockWidth;
      const x1 = Math.min(src.width, x0 + src.blockWidth);
      if ((x1 - x0) * (r1 - r0) <= MAX_WINDOW_PIXELS) {
        const { data } = await src.readWindow({ x: x0, y: r0, width: x1 - x0, height: r1 - r0 }, { bands, validity: false });
        for (const q of qrows) builder.addRow(q, data, (builder.sourceRow(q) - r0) * (x1 - x0), x0, x1);
      } else {
        let last = -1;
        for (const q of qrows) {
          const r = builder.sourceRow(q);
          if (r === last) continue;
          last = r;
          const { data } = await src.readWindow({ x: x0, y: r, width: x1 - x0, height: 1 }, { bands, validity: false });
          for (const q2 of qrows) if (builder.sourceRow(q2) === r) builder.addRow(q2, data, 0, x0, x1);
        }
      }
    }
  }
  const q = builder.result();
  return { ...q, sourceWidth: full.width, sourceHeight: full.height };
}
