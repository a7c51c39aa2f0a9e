/**
 * The identity test model: output band k is input channel (t_k, c_k), exactly.
 * Input [N, T, C, H, W] (or [N, T·C, H, W] with layout 'NCHW'); output [N, K, H, W].
 */
import { GraphBuilder } from './graph.js';

export interface IdentityOptions {
  /** Time steps. Default 6. */
  T?: number;
  /** Channels per time step. Default 18. */
  C?: number;
  /** The (t, c) channel each output band copies. Default [[0,0],[T-1,C-1],[1,2],[2,1]]. */
  channels?: readonly (readonly [number, number])[];
  /** Input layout. Default 'NTCHW'. */
  layout?: 'NTCHW' | 'NCHW';
  /** Batch dimension: a size, or a symbolic name. Default 'N'. */
  batch?: number | string;
  /** Tile size: a size, or symbolic ('H' and 'W'). Default 'dynamic'. */
  tile?: number | 'dynamic';
  /** Declared output dims: 'exact' (computed) or 'symbolic' (only the dry run tells). Default 'exact'. */
  outputDims?: 'exact' | 'symbolic';
}

export function identityModel(options: IdentityOptions = {}): Uint8Array {
  const T = options.T ?? 6;
  const C = options.C ?? 18;
  const channels = options.channels ?? [[0, 0], [T - 1, C - 1], [1, 2], [2, 1]];
  const layout = options.layout ?? 'NTCHW';
  const batch = options.batch ?? 'N';
  const h = options.tile === undefined || options.tile === 'dynamic' ? 'H' : options.tile;
  const w = typeof h === 'number' ? h : 'W';
  const g = new GraphBuilder();
  const merged = layout === 'NTCHW' ? g.mergeTimeChannels('x', T, C) : 'x';
  const indices = g.constant('int64', [channels.length], channels.map(([t, c]) => t * C + c), 'indices');
  g.op('Gather', [merged, indices], { axis: { i: 1 } }, 'y');
  const inShape = layout === 'NTCHW' ? [batch, T, C, h, w] : [batch, T * C, h, w];
  const outShape = options.outputDims === 'symbolic' ? ['N', 'K', 'H', 'W'] : [batch, channels.length, h, w];
  return g.build([{ name: 'x', type: 'float32', shape: inShape }], [{ name: 'y', type: 'float32', shape: outShape }]);
}
