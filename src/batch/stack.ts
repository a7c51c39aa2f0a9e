/**
 * The batch stage: read each tile's window from every input straight into its slot of one
 * Float32Array laid out [N, T, C, H, W] (C = dynamic bands, then the static bands repeated at
 * every time step), normalise per channel, and set invalid pixels to the fill value.
 * NCHW is the same memory with T·C channels.
 */
import type { Norm } from '../infer/norm.js';
import type { RasterSource } from '../raster/source.js';

export interface StackInputs {
  /** One raster per time step, each with `dynamicBands` bands. */
  dynamic: readonly RasterSource[];
  /** Rasters whose bands follow the dynamic bands at every time step. */
  statics: readonly RasterSource[];
  /** Tile size (square). */
  tile: number;
  /** Per-channel normalisation (C entries), or null to feed raw values. */
  norm: Norm | null;
  /** Value for invalid input pixels, after normalisation. */
  fill: number;
}

/** Reads tiles into batch slots; owns its scratch buffers (one per stacker). */
export class TileStacker {
  readonly T: number;
  readonly C: number;
  readonly dynamicBands: number;
  /** Floats per tile: T·C·H·W. */
  readonly tileSize: number;
  private readonly plane: number;
  private readonly mean: Float64Array;
  private readonly std: Float64Array;

  constructor(private readonly inputs: StackInputs) {
    this.T = inputs.dynamic.length;
    this.dynamicBands = inputs.dynamic[0]!.bandCount;
    this.C = this.dynamicBands + inputs.statics.reduce((a, s) => a + s.bandCount, 0);
    this.plane = inputs.tile * inputs.tile;
    this.tileSize = this.T * this.C * this.plane;
    this.mean = new Float64Array(inputs.norm?.mean ?? new Array(this.C).fill(0));
    this.std = new Float64Array(inputs.norm?.std ?? new Array(this.C).fill(1));
  }

  /**
   * Fill slot `slot` of `batch` with the tile whose top-left raster pixel is (x, y). All inputs
   * are read at once (their blocks decode in parallel).
   */
  async read(batch: Float32Array, slot: number, x: number, y: number): Promise<void> {
    const { tile, dynamic, statics, fill } = this.inputs;
    const win = { x, y, width: tile, height: tile };
    const P = this.plane;
    const base = slot * this.tileSize;
    const step = this.C * P;
    const Cd = this.dynamicBands;
    // read bands [c0, c0 + n) of time step t, normalised, invalid pixels set to the fill value
    const readInto = async (src: RasterSource, t: number, c0: number) => {
      const n = src.bandCount;
      const at = (c: number) => base + t * step + c * P;
      const out = Array.from({ length: n }, (_, i) => batch.subarray(at(c0 + i), at(c0 + i) + P));
      await src.readWindow(win, { out, normalize: { mean: this.mean.subarray(c0, c0 + n), std: this.std.subarray(c0, c0 + n), fill } });
    };
    const jobs: Promise<void>[] = [];
    let c0 = Cd;
    for (const s of statics) {
      jobs.push(readInto(s, 0, c0)); // time step 0; copied to the others below
      c0 += s.bandCount;
    }
    dynamic.forEach((d, t) => jobs.push(readInto(d, t, 0)));
    await Promise.all(jobs);
    if (c0 > Cd) for (let t = 1; t < this.T; t++) batch.copyWithin(base + t * step + Cd * P, base + Cd * P, base + step);
  }
}
