/**
 * Where every input band goes in the model input, and how it is normalised: a plain value
 * (structured-clonable) shared by the scheduler on the main thread and the stacking workers.
 *
 * The batch is laid out [N, T, C, H, W]: C = the dynamic bands, then the static bands; the static
 * bands are repeated at every time step. Channel c of every time step is normalised
 * (x − mean[c]) / std[c] (in float64, rounded to float32); invalid pixels (outside the raster,
 * nodata, NaN) become `fill`.
 */
import type { Norm } from '../infer/norm.js';
import type { RasterSource } from '../raster/source.js';
import type { DataType } from '../raster/types.js';

/** One input file as the data path sees it. */
export interface LayoutFile {
  path: string;
  /** Time step of a dynamic file; -1 for a static file (its bands go to every time step). */
  t: number;
  /** Channel (within a time step) of the file's first band. */
  channel: number;
  bands: number;
  dataType: DataType;
  nodata: number | null;
  width: number;
  height: number;
  blockWidth: number;
  blockHeight: number;
  blocksAcross: number;
  blocksDown: number;
  /** 1: a block holds every band (pixel interleaved); 2: one band per block. */
  planar: 1 | 2;
}

export interface ChannelLayout {
  /** Time steps. */
  T: number;
  /** Channels per time step: dynamic bands, then static bands. */
  C: number;
  /** Dynamic bands per time step. */
  dynamicBands: number;
  /** Tile side in pixels. */
  tile: number;
  files: LayoutFile[];
  /** Per channel; identity (0, 1) without normalisation. */
  mean: number[];
  std: number[];
  /** Value of invalid pixels after normalisation. */
  fill: number;
}

export function channelLayout(dynamic: readonly RasterSource[], statics: readonly RasterSource[], tile: number, norm: Norm | null, fill: number): ChannelLayout {
  const dynamicBands = dynamic[0]!.bandCount;
  const C = dynamicBands + statics.reduce((a, s) => a + s.bandCount, 0);
  const file = (s: RasterSource, t: number, channel: number): LayoutFile => ({
    path: s.path, t, channel, bands: s.bandCount, dataType: s.dataType, nodata: s.nodata,
    width: s.width, height: s.height, blockWidth: s.blockWidth, blockHeight: s.blockHeight,
    blocksAcross: s.blocksAcross, blocksDown: s.blocksDown, planar: s.planar,
  });
  const files = dynamic.map((s, t) => file(s, t, 0));
  let channel = dynamicBands;
  for (const s of statics) {
    files.push(file(s, -1, channel));
    channel += s.bandCount;
  }
  return {
    T: dynamic.length, C, dynamicBands, tile, files,
    mean: norm ? [...norm.mean] : new Array<number>(C).fill(0),
    std: norm ? [...norm.std] : new Array<number>(C).fill(1),
    fill,
  };
}

/** Floats per tile in the batch: T·C·tile². */
export function tileFloats(layout: ChannelLayout): number {
  return layout.T * layout.C * layout.tile * layout.tile;
}
