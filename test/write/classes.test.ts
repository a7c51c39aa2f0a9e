/**
 * Class map from probability rows: argmaxRows against a plain per-pixel reference over seeded
 * random rows with forced ties, NaN and nodata; the class-count limit; the palette and the
 * --colors parser.
 */
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { TilecastError } from '../../src/errors.js';
import { CLASS_NODATA, argmaxRows, checkClassCount } from '../../src/write/classes.js';
import { defaultPalette, parseColors, parseHex, toHex } from '../../src/write/palette.js';
import { prng, tempDir } from './fixtures.js';

/** Plain reference: one pixel at a time, the first index holding the largest value. */
function referenceArgmax(data: Float32Array, k: number, n: number, nodata: number): { classes: number[]; confidence: number[] } {
  const nd = Math.fround(nodata);
  const classes: number[] = [];
  const confidence: number[] = [];
  for (let i = 0; i < n; i++) {
    const v = Array.from({ length: k }, (_, b) => data[b * n + i]!);
    const outside = v.every((x) => Object.is(x, nd) || (Number.isNaN(x) && Number.isNaN(nd)) || x === nd);
    if (outside || v.some(Number.isNaN)) {
      classes.push(255);
      confidence.push(255);
      continue;
    }
    const max = Math.max(...v);
    const c = v.indexOf(max);
    classes.push(c);
    confidence.push(Math.round(Math.min(1, Math.max(0, max)) * 100));
  }
  return { classes, confidence };
}

/**
 * Random softmax-like rows of `k` bands over `n` pixels: a third of the pixels have ties for the
 * maximum (exact copies of the winning value in other bands), some are outside (every band
 * nodata), a few hold a NaN band, and some hold a band equal to nodata among valid ones.
 */
function randomRows(rnd: () => number, k: number, n: number, nodata: number): Float32Array {
  const data = new Float32Array(k * n);
  for (let i = 0; i < n; i++) {
    const r = rnd();
    const v = Array.from({ length: k }, () => rnd());
    if (r < 0.1) v.fill(nodata);
    else if (r < 0.13) v[Math.floor(rnd() * k)] = NaN;
    else if (r < 0.45 && k > 1) {
      const top = Math.max(...v);
      for (let b = 0; b < k; b++) if (rnd() < 0.5) v[b] = top;
    } else if (r < 0.5) v.fill(rnd() < 0.5 ? 0 : 1);
    else if (r < 0.55) v[Math.floor(rnd() * k)] = nodata;
    for (let b = 0; b < k; b++) data[b * n + i] = v[b]!;
  }
  return data;
}

test('argmaxRows equals a per-pixel reference (ties to the lowest index, NaN and outside pixels 255)', () => {
  const runSeed = randomInt(1, 2 ** 31);
  const seeds = [1, 2, 3, 4, 5, runSeed];
  for (const seed of seeds) {
    const rnd = prng(seed);
    for (const [k, nodata] of [
      [1, NaN],
      [2, NaN],
      [3, -9999],
      [7, 0],
      [17, NaN],
      [255, -1],
    ] as const) {
      const n = 1 + Math.floor(rnd() * 3000);
      const data = randomRows(rnd, k, n, nodata);
      const ref = referenceArgmax(data, k, n, nodata);
      const got = argmaxRows(data, k, n, nodata, true);
      const what = `seed ${seed} (rerun with this seed to reproduce), ${k} classes, nodata ${nodata}`;
      assert.deepEqual(Array.from(got.classes), ref.classes, what);
      assert.deepEqual(Array.from(got.confidence!), ref.confidence, what);
      assert.equal(argmaxRows(data, k, n, nodata, false).confidence, null);
    }
  }
});

test('argmaxRows: explicit ties, clamped confidence, the outside rule', () => {
  // 3 classes, 6 pixels: [0.2,0.4,0.4] tie -> 1; all equal -> 0; logits > 1 -> 100; negative -> 0;
  // one band NaN -> 255; all nodata (NaN) -> 255.
  const n = 6;
  const planes = [
    [0.2, 0.5, 3, -2, 0.9, NaN],
    [0.4, 0.5, 1, -1, NaN, NaN],
    [0.4, 0.5, 2, -3, 0.1, NaN],
  ];
  const data = new Float32Array(planes.flat());
  const r = argmaxRows(data, 3, n, NaN, true);
  assert.deepEqual(Array.from(r.classes), [1, 0, 0, 1, CLASS_NODATA, CLASS_NODATA]);
  assert.deepEqual(Array.from(r.confidence!), [40, 50, 100, 0, CLASS_NODATA, CLASS_NODATA]);
  // numeric nodata: a pixel is outside only when every band holds it
  const d2 = new Float32Array([-9999, -9999, 0.3, -9999, 0.2, 0.7]);
  const r2 = argmaxRows(d2, 2, 3, -9999, false);
  assert.deepEqual(Array.from(r2.classes), [255, 1, 1]);
});

test('the class count is limited to 255, and errors name --classes', () => {
  for (const k of [0, 256, 1000, 2.5]) {
    assert.throws(() => checkClassCount(k), (e: unknown) => e instanceof TilecastError && e.code === 'usage' && /--classes/.test(e.message) && e.message.includes(String(k)));
  }
  checkClassCount(1);
  checkClassCount(255);
  assert.throws(() => argmaxRows(new Float32Array(256 * 2), 256, 2, NaN, false), /--classes/);
});

test('the default palette: tab10 first, 255 distinct colours', () => {
  const p = defaultPalette(255);
  assert.equal(p.length, 255);
  assert.equal(toHex(p[0]!), '#1f77b4');
  assert.equal(toHex(p[9]!), '#17becf');
  assert.equal(new Set(p.map(toHex)).size, 255, 'colours are distinct');
  for (const c of p) assert.ok(c.every((v) => Number.isInteger(v) && v >= 0 && v <= 255), toHex(c));
  assert.deepEqual(defaultPalette(3), p.slice(0, 3));
  assert.throws(() => defaultPalette(256), RangeError);
});

test('--colors: a comma list or a JSON file; errors name --colors and say what to write', (t) => {
  assert.deepEqual(parseColors('#1f77b4, #F00,#00ff00', 3), [
    [0x1f, 0x77, 0xb4],
    [255, 0, 0],
    [0, 255, 0],
  ]);
  assert.deepEqual(parseHex('#abc'), [0xaa, 0xbb, 0xcc]);
  assert.equal(parseHex('abc'), null);
  const usage = (re: RegExp) => (e: unknown) => e instanceof TilecastError && e.code === 'usage' && /--colors/.test(e.message) && re.test(e.message);
  assert.throws(() => parseColors('#1f77b4,#ff7f0e', 3), usage(/2 colour\(s\) for 3 classes/));
  assert.throws(() => parseColors('#1f77b4,red', 2), usage(/item 2 'red' is not a colour/));

  const dir = tempDir('colors');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const good = join(dir, 'good.json');
  writeFileSync(good, JSON.stringify(['#000', [1, 2, 3]]));
  assert.deepEqual(parseColors(good, 2), [
    [0, 0, 0],
    [1, 2, 3],
  ]);
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, JSON.stringify(['#000', [1, 2, 300]]));
  assert.throws(() => parseColors(bad, 2), usage(/entry 2 \[1,2,300\] is not a colour/));
  writeFileSync(bad, '{"a": 1}');
  assert.throws(() => parseColors(bad, 2), usage(/expected an array/));
  writeFileSync(bad, 'not json');
  assert.throws(() => parseColors(bad, 2), usage(/not JSON/));
  assert.throws(() => parseColors(join(dir, 'missing.json'), 2), usage(/no such file/));
});
