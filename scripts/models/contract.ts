/**
 * Models that break the model contract one way each, for the contract tests.
 * All expect inputs of T time steps × C channels in tiles of `tile` pixels.
 */
import { GraphBuilder } from './graph.js';
import { identityModel } from './identity.js';
import { lightModel } from './bench.js';

export interface ContractModelOptions {
  /** Time steps the inputs give. Default 6. */
  T?: number;
  /** Channels per time step the inputs give. Default 18. */
  C?: number;
  /** Tile size. Default 128. */
  tile?: number;
}

export type ContractModelName =
  | 'fixedBatch'
  | 'wrongT'
  | 'wrongC'
  | 'wrongK'
  | 'rank4'
  | 'wrongTile'
  | 'shrinkingOutput'
  | 'nanOutput'
  | 'float64Input'
  | 'twoInputs';

/** Output [N,K,H/2,W/2]: a 2×2 average pool, dims declared symbolic so only a run reveals the size. */
function shrinkingOutput(T: number, C: number): Uint8Array {
  const g = new GraphBuilder();
  const merged = g.mergeTimeChannels('x', T, C);
  const indices = g.constant('int64', [4], [0, 1, 2, 3], 'indices');
  const picked = g.op('Gather', [merged, indices], { axis: { i: 1 } });
  g.op('AveragePool', [picked], { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] } }, 'y');
  return g.build(
    [{ name: 'x', type: 'float32', shape: ['N', T, C, 'H', 'W'] }],
    [{ name: 'y', type: 'float32', shape: ['N', 'K', 'OH', 'OW'] }],
  );
}

/** y = sqrt(channels (0,0)…(0,3)): NaN wherever the input is negative. */
function nanOutput(T: number, C: number): Uint8Array {
  const g = new GraphBuilder();
  const merged = g.mergeTimeChannels('x', T, C);
  const indices = g.constant('int64', [4], [0, 1, 2, 3], 'indices');
  const picked = g.op('Gather', [merged, indices], { axis: { i: 1 } });
  g.op('Sqrt', [picked], {}, 'y');
  return g.build(
    [{ name: 'x', type: 'float32', shape: ['N', T, C, 'H', 'W'] }],
    [{ name: 'y', type: 'float32', shape: ['N', 4, 'H', 'W'] }],
  );
}

function float64Input(T: number, C: number): Uint8Array {
  const g = new GraphBuilder();
  const x = g.op('Cast', ['x'], { to: { i: 1 } });
  const merged = g.mergeTimeChannels(x, T, C);
  const indices = g.constant('int64', [4], [0, 1, 2, 3], 'indices');
  g.op('Gather', [merged, indices], { axis: { i: 1 } }, 'y');
  return g.build(
    [{ name: 'x', type: 'float64', shape: ['N', T, C, 'H', 'W'] }],
    [{ name: 'y', type: 'float32', shape: ['N', 4, 'H', 'W'] }],
  );
}

function twoInputs(T: number, C: number): Uint8Array {
  const g = new GraphBuilder();
  const sum = g.op('Add', ['x', 'mask']);
  const merged = g.mergeTimeChannels(sum, T, C);
  const indices = g.constant('int64', [4], [0, 1, 2, 3], 'indices');
  g.op('Gather', [merged, indices], { axis: { i: 1 } }, 'y');
  const shape = ['N', T, C, 'H', 'W'];
  return g.build(
    [
      { name: 'x', type: 'float32', shape },
      { name: 'mask', type: 'float32', shape },
    ],
    [{ name: 'y', type: 'float32', shape: ['N', 4, 'H', 'W'] }],
  );
}

/** Every contract-breaking model, by name. */
export function contractModels(options: ContractModelOptions = {}): Record<ContractModelName, Uint8Array> {
  const T = options.T ?? 6;
  const C = options.C ?? 18;
  const tile = options.tile ?? 128;
  return {
    fixedBatch: lightModel({ T, C, tile, batch: 1 }),
    wrongT: identityModel({ T: T + 1, C, tile }),
    wrongC: identityModel({ T, C: C - 1, tile }),
    wrongK: identityModel({ T, C, tile, channels: [[0, 0], [0, 1], [0, 2]] }),
    rank4: identityModel({ T, C, tile, layout: 'NCHW' }),
    wrongTile: identityModel({ T, C, tile: Math.floor(tile / 2) }),
    shrinkingOutput: shrinkingOutput(T, C),
    nanOutput: nanOutput(T, C),
    float64Input: float64Input(T, C),
    twoInputs: twoInputs(T, C),
  };
}
