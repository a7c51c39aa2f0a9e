/**
 * The demo model: a per-pixel nearest-class-mean classifier whose weights are
 * computed from the class mean profiles, not trained.
 *
 * In the normalised space each class k is a Gaussian N(μ_k, diag σ²) over the
 * T·C channels of a pixel. With equal priors the posterior is softmax_k(s_k),
 * s_k = Σ_j x_j·μ_kj/σ_j² − Σ_j μ_kj²/(2σ_j²): a Conv1×1 with weights μ_kj/σ_j²
 * and bias −Σ_j μ_kj²/(2σ_j²). The scores are averaged over each 3×3 neighbourhood
 * (AveragePool, edge pixels average only their in-tile neighbours) before the
 * softmax, so the model is spatial and smooths speckle noise.
 *
 *   [N,T,C,H,W] → Reshape [N,T·C,H,W] → Conv1×1 → AveragePool 3×3 → Softmax → [N,K,H,W]
 *
 * The model carries the normalisation under metadata `tilecast.norm`.
 */
import { GraphBuilder } from './graph.js';

export interface DemoModelOptions {
  /** Time steps. Default 6. */
  T?: number;
  /** Channels per time step. Default 18. */
  C?: number;
  /** Per-channel normalisation the inputs need: (x − mean[c]) / std[c], C entries each. Written to `tilecast.norm`. */
  norm: { mean: readonly number[]; std: readonly number[] };
  /** Noise standard deviation in the normalised space: one for all channels, or C values (one per channel, at every time step). Default 1. */
  sigma?: number | readonly number[];
  /** Smooth the class scores over 3×3 neighbourhoods. Default true. */
  smooth?: boolean;
  /** Extra metadata_props. */
  metadata?: Record<string, string>;
}

/**
 * Build the demo model from class means, `classMeans[k]` being class k's
 * profile over the T·C channels (t-major: index t·C + c), normalised.
 */
export function demoModel(classMeans: readonly (readonly number[])[], options: DemoModelOptions): Uint8Array {
  const T = options.T ?? 6;
  const C = options.C ?? 18;
  const sigma = options.sigma ?? 1;
  const K = classMeans.length;
  if (options.norm.mean.length !== C || options.norm.std.length !== C) {
    throw new RangeError(`norm needs ${C} means and stds, got ${options.norm.mean.length} and ${options.norm.std.length}`);
  }
  const sigmas = typeof sigma === 'number' ? Array<number>(C).fill(sigma) : sigma;
  if (sigmas.length !== C || sigmas.some((v) => !(v > 0))) throw new RangeError(`sigma needs ${C} positive values`);
  const weights = new Float32Array(K * T * C);
  const bias = new Float32Array(K);
  classMeans.forEach((mu, k) => {
    if (mu.length !== T * C) throw new RangeError(`class ${k} mean has ${mu.length} values, expected T·C = ${T * C}`);
    let b = 0;
    for (let j = 0; j < T * C; j++) {
      const s2 = sigmas[j % C]! ** 2;
      weights[k * T * C + j] = mu[j]! / s2;
      b -= (mu[j]! * mu[j]!) / (2 * s2);
    }
    bias[k] = b;
  });
  const g = new GraphBuilder();
  const merged = g.mergeTimeChannels('x', T, C);
  let scores = g.conv(merged, T * C, K, 1, weights, bias);
  if (options.smooth ?? true) {
    scores = g.op('AveragePool', [scores], {
      kernel_shape: { ints: [3, 3] },
      pads: { ints: [1, 1, 1, 1] },
      count_include_pad: { i: 0 },
    });
  }
  g.op('Softmax', [scores], { axis: { i: 1 } }, 'y');
  const metadata = { ...options.metadata, 'tilecast.norm': JSON.stringify({ mean: options.norm.mean, std: options.norm.std }) };
  return g.build(
    [{ name: 'x', type: 'float32', shape: ['N', T, C, 'H', 'W'] }],
    [{ name: 'y', type: 'float32', shape: ['N', K, 'H', 'W'] }],
    metadata,
  );
}

/**
 * Class profiles in raw units → the normalised space the model works in:
 * (x − mean[c]) / std[c] for index t·C + c.
 */
export function normaliseProfiles(
  raw: readonly (readonly number[])[],
  norm: { mean: readonly number[]; std: readonly number[] },
): number[][] {
  const C = norm.mean.length;
  return raw.map((profile) => profile.map((v, j) => (v - norm.mean[j % C]!) / norm.std[j % C]!));
}
