import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BlendAccumulator, type OutputRows } from '../../src/blend/accumulator.js';
import { weightWindow } from '../../src/blend/window.js';
import type { Polygon } from '../../src/plan/geometry.js';
import { makePlan } from '../../src/plan/plan.js';
import { RegionMask } from '../../src/raster/mask.js';
import type { PixelWindow } from '../../src/raster/types.js';
import { prng as mulberry32 } from '../../scripts/models/prng.js';

interface Case {
  window: PixelWindow;
  tiles: { x: number; y: number }[];
  T: number;
  K: number;
  B: number;
  predictions: Float32Array[];
  masks: (Uint8Array | null)[];
  nodata: number;
}

/** The naive reference: full-image float64 sums, tiles in plan order, masked pixels skipped. */
function naive(c: Case, weights: Float64Array): { out: Float32Array; nonFinite: number } {
  const { window, T, K } = c;
  const W = window.width;
  const H = window.height;
  const sw = new Float64Array(W * H);
  const swp = new Float64Array(K * W * H);
  let nonFinite = 0;
  c.tiles.forEach((t, n) => {
    for (let i = 0; i < T; i++) {
      for (let j = 0; j < T; j++) {
        const r = t.y + i - window.y;
        const col = t.x + j - window.x;
        if (r < 0 || r >= H || col < 0 || col >= W) continue;
        const m = c.masks[n];
        if (m && m[i * T + j] === 0) continue;
        const w = weights[i * T + j]!;
        sw[r * W + col] += w;
        for (let k = 0; k < K; k++) {
          const v = c.predictions[n]![k * T * T + i * T + j]!;
          if (!Number.isFinite(v)) nonFinite++;
          swp[k * W * H + r * W + col] += w * v;
        }
      }
    }
  });
  const out = new Float32Array(K * W * H);
  for (let k = 0; k < K; k++) for (let p = 0; p < W * H; p++) out[k * W * H + p] = sw[p]! > 0 ? swp[k * W * H + p]! / sw[p]! : c.nodata;
  return { out, nonFinite };
}

/** Run the accumulator, draining after every add; reassemble the full K×H×W image from the block rows. */
function run(c: Case, weights: Float64Array): { out: Float32Array; acc: BlendAccumulator; emitted: OutputRows[]; emittedAfter: number[] } {
  const { window, T, K, B } = c;
  const acc = new BlendAccumulator({ window, tiles: c.tiles, tile: T, bands: K, weights, blockRows: B, nodata: c.nodata });
  const W = window.width;
  const H = window.height;
  const out = new Float32Array(K * W * H).fill(12345);
  const emitted: OutputRows[] = [];
  const emittedAfter: number[] = [];
  const take = (after: number) => {
    for (const rows of acc.drain()) {
      emitted.push(rows);
      emittedAfter.push(after);
      for (let k = 0; k < K; k++) {
        for (let r = 0; r < rows.height; r++) {
          out.set(rows.data.subarray((k * rows.height + r) * W, (k * rows.height + r + 1) * W), k * W * H + (rows.y - window.y + r) * W);
        }
      }
    }
  };
  take(-1);
  c.tiles.forEach((_, n) => {
    acc.add(n, c.predictions[n]!, c.masks[n]!);
    take(n);
  });
  return { out, acc, emitted, emittedAfter };
}

function bits(a: Float32Array): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, a.length);
}

function randomCase(rnd: () => number, opts: { nanRate: number; maskRate: number }): Case {
  const T = 1 + Math.floor(rnd() * 12);
  const K = 1 + Math.floor(rnd() * 3);
  const B = 1 + Math.floor(rnd() * 20);
  const window = { x: Math.floor(rnd() * 10), y: Math.floor(rnd() * 10), width: 1 + Math.floor(rnd() * 40), height: 1 + Math.floor(rnd() * 60) };
  const stride = 1 + Math.floor(rnd() * T);
  const origins = (n: number) => {
    if (n <= T) return [0];
    const o: number[] = [];
    for (let v = 0; v < n - T; v += stride) o.push(v);
    o.push(n - T);
    return o;
  };
  const tiles: { x: number; y: number }[] = [];
  for (const oy of origins(window.height)) for (const ox of origins(window.width)) if (rnd() < 0.85) tiles.push({ x: window.x + ox, y: window.y + oy });
  const predictions = tiles.map(() => {
    const p = new Float32Array(K * T * T);
    for (let i = 0; i < p.length; i++) p[i] = rnd() < opts.nanRate ? (rnd() < 0.5 ? NaN : Infinity) : (rnd() - 0.5) * 1000;
    return p;
  });
  const masks = tiles.map(() => {
    if (rnd() < 0.3) return null;
    const m = new Uint8Array(T * T);
    for (let i = 0; i < m.length; i++) m[i] = rnd() < opts.maskRate ? 0 : 1;
    return m;
  });
  return { window, tiles, T, K, B, predictions, masks, nodata: rnd() < 0.5 ? NaN : -9999 };
}

test('accumulator output is bit-identical to a naive full-image float64 accumulation (random tiles, masks, windows, block sizes)', () => {
  const rnd = mulberry32(2024);
  for (let trial = 0; trial < 300; trial++) {
    const c = randomCase(rnd, { nanRate: trial % 3 === 0 ? 0.01 : 0, maskRate: 0.3 });
    for (const kind of ['pyramid', 'gaussian', 'cosine', 'constant'] as const) {
      const weights = weightWindow({ kind }, c.T);
      const got = run(c, weights);
      const want = naive(c, weights);
      assert.deepEqual(bits(got.out), bits(want.out), `trial ${trial} ${kind}`);
      assert.equal(got.acc.nonFinite, want.nonFinite, `trial ${trial} ${kind} non-finite count`);
      assert.equal(got.acc.done, true);
    }
  }
});

test('block rows are emitted once each, top to bottom, as soon as no later tile touches them', () => {
  const rnd = mulberry32(99);
  for (let trial = 0; trial < 200; trial++) {
    const c = randomCase(rnd, { nanRate: 0, maskRate: 0 });
    const { emitted, emittedAfter } = run(c, weightWindow({ kind: 'pyramid' }, c.T));
    const blocks = Math.ceil(c.window.height / c.B);
    assert.deepEqual(
      emitted.map((e) => [e.index, e.y, e.height]),
      Array.from({ length: blocks }, (_, b) => [b, c.window.y + b * c.B, Math.min(c.B, c.window.height - b * c.B)]),
    );
    emitted.forEach((e, i) => {
      const after = emittedAfter[i]!;
      const end = e.y + e.height;
      // no tile added later touches the block row...
      for (let n = after + 1; n < c.tiles.length; n++) assert.ok(c.tiles[n]!.y >= end, `trial ${trial}: block ${e.index} emitted before tile ${n}`);
      // ...and it was not held back: it came out right after the last tile that starts above its end
      const firstPossible = c.tiles.findIndex((t) => t.y >= end);
      const expectedAfter = firstPossible === -1 ? c.tiles.length - 1 : firstPossible - 1;
      assert.equal(after, expectedAfter, `trial ${trial}: block ${e.index} emitted after tile ${after}, expected ${expectedAfter}`);
    });
  }
});

test('memory: the ring holds tile + block rows whatever the height, and live rows never exceed it', () => {
  const T = 16;
  const B = 8;
  const weights = weightWindow({ kind: 'pyramid' }, T);
  const sizes: number[] = [];
  for (const height of [40, 400, 4000]) {
    const window = { x: 0, y: 0, width: 50, height };
    const plan = makePlan({
      width: 50,
      height,
      geoTransform: [0, 1, 0, 0, 0, -1],
      region: [[[[0.2, 0.3], [49.6, 0.4], [30, height - 0.2], [0.2, 0.3]]]],
      tile: T,
      stride: 5,
      blockSize: 16,
    });
    const acc = new BlendAccumulator({ window: plan.window, tiles: plan.tiles, tile: T, bands: 2, weights, blockRows: B });
    sizes.push(acc.capacityRows);
    const pred = new Float32Array(2 * T * T).fill(1);
    let rows = 0;
    for (const r of acc.drain()) rows += r.height;
    plan.tiles.forEach((_, n) => {
      acc.add(n, pred, null);
      for (const r of acc.drain()) rows += r.height;
    });
    assert.equal(rows, plan.window.height);
    assert.ok(acc.maxLiveRows <= T + B - 1, `height ${height}: ${acc.maxLiveRows} live rows`);
    assert.ok(acc.maxLiveRows >= T, `height ${height}: ${acc.maxLiveRows} live rows`);
    assert.equal(window.width, plan.window.width);
  }
  assert.deepEqual(sizes, [24, 24, 24]);
});

test('masked pixels add nothing, even when the prediction there is NaN; NaN inside the region is counted and reaches the output', () => {
  const T = 4;
  const weights = weightWindow({ kind: 'constant' }, T);
  const window = { x: 0, y: 0, width: 4, height: 4 };
  const acc = new BlendAccumulator({ window, tiles: [{ x: 0, y: 0 }], tile: T, bands: 1, weights, blockRows: 4, nodata: -1 });
  const pred = new Float32Array(16).fill(2);
  pred[0] = NaN; // masked out
  pred[5] = NaN; // inside
  const mask = new Uint8Array(16).fill(1);
  mask[0] = 0;
  mask[15] = 0;
  assert.equal(acc.add(0, pred, mask), 1);
  assert.equal(acc.nonFinite, 1);
  const [rows] = [...acc.drain()];
  assert.equal(rows!.data[0], -1);
  assert.ok(Number.isNaN(rows!.data[5]));
  assert.equal(rows!.data[15], -1);
  assert.equal(rows!.data[1], 2);
});

test('tiles sticking out of the window (window smaller than a tile) are cropped', () => {
  const T = 8;
  const weights = weightWindow({ kind: 'pyramid' }, T);
  const window = { x: 10, y: 20, width: 3, height: 5 };
  const acc = new BlendAccumulator({ window, tiles: [{ x: 10, y: 20 }], tile: T, bands: 1, weights, blockRows: 2 });
  const pred = new Float32Array(T * T);
  for (let i = 0; i < T * T; i++) pred[i] = i;
  acc.add(0, pred, null);
  const rows = [...acc.drain()];
  assert.deepEqual(rows.map((r) => [r.y, r.height, r.width]), [[20, 2, 3], [22, 2, 3], [24, 1, 3]]);
  assert.deepEqual([...rows[1]!.data], [16, 17, 18, 24, 25, 26]);
});

test('misuse is reported: tiles out of order, adding without draining, wrong sizes, unsorted tile list', () => {
  const T = 4;
  const weights = weightWindow({ kind: 'pyramid' }, T);
  const window = { x: 0, y: 0, width: 8, height: 40 };
  const tiles = [0, 4, 8, 12, 16, 20].map((y) => ({ x: 0, y }));
  const acc = new BlendAccumulator({ window, tiles, tile: T, bands: 1, weights, blockRows: 4 });
  const pred = new Float32Array(T * T);
  assert.throws(() => acc.add(1, pred, null), /out of plan order; expected tile 0/);
  assert.throws(() => acc.add(0, new Float32Array(3), null), /expected 1×4×4/);
  // ring: 4 + 4 rows; without draining, the third tile (rows 8..12) no longer fits
  acc.add(0, pred, null);
  acc.add(1, pred, null);
  assert.throws(() => acc.add(2, pred, null), /call drain\(\) after every add\(\)/);
  assert.equal([...acc.drain()].length, 2);
  acc.add(2, pred, null);
  assert.throws(() => new BlendAccumulator({ window, tiles: [tiles[1]!, tiles[0]!], tile: T, bands: 1, weights, blockRows: 4 }), /plan order/);
});

test('a plan whose region misses whole block rows still emits them, as nodata', () => {
  const T = 4;
  const weights = weightWindow({ kind: 'pyramid' }, T);
  const window = { x: 0, y: 0, width: 4, height: 12 };
  const acc = new BlendAccumulator({ window, tiles: [{ x: 0, y: 8 }], tile: T, bands: 1, weights, blockRows: 4 });
  const early = [...acc.drain()];
  assert.deepEqual(early.map((r) => r.y), [0, 4]);
  assert.ok(early.every((r) => r.data.every((v) => Number.isNaN(v))));
  acc.add(0, new Float32Array(16).fill(3), null);
  const rest = [...acc.drain()];
  assert.deepEqual(rest.map((r) => r.y), [8]);
  assert.ok(rest[0]!.data.every((v) => v === 3));
});

test('with the region mask from RegionMask, pixels outside the polygon are nodata and inside ones are blended', () => {
  const region: Polygon[] = [[[[1.2, 1.1], [30.7, 3.3], [20.2, 28.9], [1.2, 1.1]]]];
  const plan = makePlan({ width: 40, height: 40, geoTransform: [0, 1, 0, 0, 0, -1], region, tile: 8, stride: 4, blockSize: 16 });
  const mask = new RegionMask(plan.region, plan.window);
  const weights = weightWindow({ kind: 'pyramid' }, 8);
  const acc = new BlendAccumulator({ window: plan.window, tiles: plan.tiles, tile: 8, bands: 1, weights, blockRows: 5 });
  const buf = new Uint8Array(64);
  const out = new Float32Array(plan.window.width * plan.window.height);
  const collect = () => {
    for (const r of acc.drain()) out.set(r.data, (r.y - plan.window.y) * plan.window.width);
  };
  collect();
  plan.tiles.forEach((t, n) => {
    acc.add(n, new Float32Array(64).fill(t.x + t.y), mask.rasterize({ x: t.x, y: t.y, width: 8, height: 8 }, buf));
    collect();
  });
  const full = mask.rasterize(plan.window);
  for (let p = 0; p < out.length; p++) assert.equal(Number.isNaN(out[p]), full[p] === 0, `pixel ${p}`);
});
