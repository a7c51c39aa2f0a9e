import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from '../../src/errors.js';
import { formatWeightWindow, parseWeightWindow, weightWindow, WEIGHT_WINDOW_KINDS, type WeightWindow } from '../../src/blend/window.js';

const SIZES = [1, 2, 3, 4, 7, 16, 33, 64, 128, 256, 512];
const ALL: WeightWindow[] = [{ kind: 'pyramid' }, { kind: 'gaussian' }, { kind: 'cosine' }, { kind: 'constant' }];

test('every window is finite and > 0 everywhere, and symmetric under both flips and transposition', () => {
  for (const spec of ALL) {
    for (const T of SIZES) {
      const w = weightWindow(spec, T);
      assert.equal(w.length, T * T);
      for (let i = 0; i < T; i++) {
        for (let j = 0; j < T; j++) {
          const v = w[i * T + j]!;
          assert.ok(Number.isFinite(v) && v > 0, `${spec.kind} T=${T} (${i},${j}) = ${v}`);
          assert.equal(w[j * T + i], v, `${spec.kind} T=${T} transpose (${i},${j})`);
          assert.equal(w[(T - 1 - i) * T + j], v, `${spec.kind} T=${T} vertical flip (${i},${j})`);
          assert.equal(w[i * T + (T - 1 - j)], v, `${spec.kind} T=${T} horizontal flip (${i},${j})`);
        }
      }
    }
  }
});

test('pyramid is min(i+1, j+1, T-i, T-j) exactly', () => {
  for (const T of SIZES) {
    const w = weightWindow({ kind: 'pyramid' }, T);
    for (let i = 0; i < T; i++) for (let j = 0; j < T; j++) assert.equal(w[i * T + j], Math.min(i + 1, j + 1, T - i, T - j));
  }
  assert.deepEqual([...weightWindow({ kind: 'pyramid' }, 4)], [1, 1, 1, 1, 1, 2, 2, 1, 1, 2, 2, 1, 1, 1, 1, 1]);
});

test('gaussian uses sigma = T/8 centred at (T-1)/2; an explicit sigma is honoured', () => {
  const T = 16;
  const w = weightWindow({ kind: 'gaussian' }, T);
  const c = 7.5;
  const s2 = 2 * 2 * 2; // sigma = 2
  assert.equal(w[0], Math.exp(-(c * c + c * c) / s2));
  assert.equal(w[7 * T + 8], Math.exp(-(0.25 + 0.25) / s2));
  const w5 = weightWindow({ kind: 'gaussian', sigma: 5 }, T);
  assert.equal(w5[3 * T + 12], Math.exp(-((3 - c) ** 2 + (12 - c) ** 2) / 50));
  // the centre holds the maximum
  assert.equal(Math.max(...w), w[7 * T + 7]);
});

test('cosine is the separable raised cosine sin^2(pi (i+0.5)/T), > 0 at the edge', () => {
  const T = 10;
  const w = weightWindow({ kind: 'cosine' }, T);
  for (let i = 0; i < T; i++) {
    for (let j = 0; j < T; j++) {
      const h = (k: number) => Math.sin((Math.PI * (k + 0.5)) / T) ** 2;
      assert.ok(Math.abs(w[i * T + j]! - h(i) * h(j)) < 1e-15);
    }
  }
  assert.equal(weightWindow({ kind: 'constant' }, 3).every((v) => v === 1), true);
});

test('a gaussian sigma so small that the corner underflows is a usage error', () => {
  assert.throws(() => weightWindow({ kind: 'gaussian', sigma: 1 }, 512), (e: unknown) => e instanceof UsageError && /sigma is too small.*--tile 512.*sigma >= \d+/.test(e.message));
  const ok = weightWindow({ kind: 'gaussian', sigma: 10 }, 512);
  assert.ok(ok[0]! > 0);
});

test('parseWeightWindow reads every kind and gaussian:sigma, and names the flag in errors', () => {
  for (const k of WEIGHT_WINDOW_KINDS) assert.deepEqual(parseWeightWindow(k), { kind: k });
  assert.deepEqual(parseWeightWindow(' Gaussian:12.5 '), { kind: 'gaussian', sigma: 12.5 });
  for (const spec of [...ALL, { kind: 'gaussian', sigma: 3 } as const]) assert.deepEqual(parseWeightWindow(formatWeightWindow(spec)), spec);
  for (const bad of ['hann', 'gaussian:0', 'gaussian:-2', 'gaussian:abc', 'gaussian:', 'pyramid:3', 'gaussian:1:2', '']) {
    assert.throws(() => parseWeightWindow(bad, '--blend-window'), (e: unknown) => e instanceof UsageError && e.message.startsWith('--blend-window'), bad);
  }
});

test('tile size must be a positive integer', () => {
  for (const T of [0, -1, 2.5, NaN]) assert.throws(() => weightWindow({ kind: 'pyramid' }, T), UsageError);
});
