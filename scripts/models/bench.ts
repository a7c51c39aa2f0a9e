/**
 * Benchmark models with seeded random weights: input [N, T, C, tile, tile]
 * merged to [N, T·C, H, W], softmax over K = 4 output bands.
 *   heavy: Conv1×1 T·C→32 + Relu → Conv3×3 32→32 + Relu → Conv3×3 32→32 + Relu → Conv1×1 32→4 → Softmax
 *   light: Conv1×1 T·C→16 + Relu → Conv1×1 16→4 → Softmax
 *   tiny:  Conv1×1 T·C→4 → Softmax (the data path alone)
 */
import { GraphBuilder } from './graph.js';
import { gaussian, prng } from './prng.js';

export interface BenchModelOptions {
  /** Time steps. Default 6. */
  T?: number;
  /** Channels per time step. Default 18. */
  C?: number;
  /** Tile size, or 'dynamic' for symbolic H and W. Default 128. */
  tile?: number | 'dynamic';
  /** Batch dimension: a size, or a symbolic name. Default 'N'. */
  batch?: number | string;
  /** PRNG seed for the weights. Default 1. */
  seed?: number;
}

const K = 4;

function build(layers: readonly [cout: number, k: number][], options: BenchModelOptions): Uint8Array {
  const T = options.T ?? 6;
  const C = options.C ?? 18;
  const tile = options.tile ?? 128;
  const batch = options.batch ?? 'N';
  const h = tile === 'dynamic' ? 'H' : tile;
  const w = tile === 'dynamic' ? 'W' : tile;
  const normal = gaussian(prng(options.seed ?? 1));
  const g = new GraphBuilder();
  let x = g.mergeTimeChannels('x', T, C);
  let cin = T * C;
  layers.forEach(([cout, k], i) => {
    // He initialisation keeps activations in range through the stack.
    const std = Math.sqrt(2 / (cin * k * k));
    const weights = Array.from({ length: cout * cin * k * k }, () => normal() * std);
    const bias = Array.from({ length: cout }, () => normal() * 0.01);
    x = g.conv(x, cin, cout, k, weights, bias);
    if (i < layers.length - 1) x = g.op('Relu', [x]);
    cin = cout;
  });
  g.op('Softmax', [x], { axis: { i: 1 } }, 'y');
  return g.build(
    [{ name: 'x', type: 'float32', shape: [batch, T, C, h, w] }],
    [{ name: 'y', type: 'float32', shape: [batch, K, h, w] }],
  );
}

export function heavyModel(options: BenchModelOptions = {}): Uint8Array {
  return build([[32, 1], [32, 3], [32, 3], [K, 1]], options);
}

export function lightModel(options: BenchModelOptions = {}): Uint8Array {
  return build([[16, 1], [K, 1]], options);
}

/** The data path alone: one 1x1 convolution over the T·C channels to K, then softmax. */
export function tinyModel(options: BenchModelOptions = {}): Uint8Array {
  return build([[K, 1]], options);
}
