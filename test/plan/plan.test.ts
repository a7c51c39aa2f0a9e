import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RegionError, UsageError } from '../../src/errors.js';
import type { Polygon, Ring } from '../../src/plan/geometry.js';
import { axisOrigins, blockRows, estimateMemory, makePlan, type Plan, type PlanInput } from '../../src/plan/plan.js';
import { parseRegion, regionToPixels } from '../../src/plan/region.js';
import { crsFromEpsg } from '../../src/raster/crs.js';
import { RegionMask } from '../../src/raster/mask.js';
import type { GeoTransform } from '../../src/raster/types.js';
import { prng as mulberry32 } from '../../scripts/models/prng.js';

const GT: GeoTransform = [500000, 10, 0, 6000000, 0, -10];
const rect = (x0: number, y0: number, x1: number, y1: number): Ring => [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]];
const plan = (region: Polygon[], extra: Partial<PlanInput> = {}): Plan => makePlan({ width: 100, height: 80, geoTransform: GT, region, tile: 16, stride: 8, ...extra });

test('axis origins: 0, s, 2s, … with the last snapped to n − T; full coverage, no duplicates', () => {
  for (let n = 1; n <= 120; n++) {
    for (let T = 1; T <= 24; T++) {
      for (let s = 1; s <= T; s++) {
        const o = axisOrigins(n, T, s);
        assert.equal(o[0], 0);
        assert.equal(o[o.length - 1], Math.max(0, n - T));
        for (let i = 1; i < o.length; i++) {
          assert.ok(o[i]! > o[i - 1]!, `n=${n} T=${T} s=${s}: not increasing`);
          assert.ok(o[i]! - o[i - 1]! <= s, `n=${n} T=${T} s=${s}: gap`);
          if (i < o.length - 1) assert.equal(o[i], i * s);
        }
        // every position 0..n-1 is covered by a tile
        const covered = new Uint8Array(n);
        for (const v of o) covered.fill(1, v, Math.min(n, v + T));
        assert.ok(covered.every((c) => c === 1), `n=${n} T=${T} s=${s}: gap in coverage`);
      }
    }
  }
  assert.deepEqual(axisOrigins(10, 4, 4), [0, 4, 6]);
  assert.deepEqual(axisOrigins(3, 8, 4), [0]);
});

test('every region pixel is covered by a kept tile; every dropped tile holds no region pixel (random regions)', () => {
  const rnd = mulberry32(5);
  for (let trial = 0; trial < 150; trial++) {
    const W = 20 + Math.floor(rnd() * 100);
    const H = 20 + Math.floor(rnd() * 100);
    const polys: Polygon[] = [];
    for (let p = 0, n = 1 + Math.floor(rnd() * 3); p < n; p++) {
      const cx = -20 + rnd() * (W + 40);
      const cy = -20 + rnd() * (H + 40);
      const r = 5 + rnd() * 50;
      const ring: Ring = [];
      const k = 3 + Math.floor(rnd() * 8);
      for (let i = 0; i < k; i++) {
        const a = (2 * Math.PI * (i + rnd() * 0.9)) / k;
        ring.push([cx + r * (0.3 + rnd() * 0.7) * Math.cos(a), cy + r * (0.3 + rnd() * 0.7) * Math.sin(a)]);
      }
      ring.push([ring[0]![0], ring[0]![1]]);
      polys.push([ring]);
    }
    const T = 1 + Math.floor(rnd() * 32);
    const S = 1 + Math.floor(rnd() * T);
    let p: Plan;
    try {
      p = makePlan({ width: W, height: H, geoTransform: GT, region: polys, tile: T, stride: S, blockSize: 32 });
    } catch (err) {
      assert.ok(err instanceof RegionError, String(err));
      continue;
    }
    const { window } = p;
    const mask = new RegionMask(polys, window).rasterize(window);
    const covered = new Uint8Array(window.width * window.height);
    for (const t of p.tiles) {
      for (let r = Math.max(t.y, window.y); r < Math.min(t.y + T, window.y + window.height); r++) {
        covered.fill(1, (r - window.y) * window.width + Math.max(t.x, window.x) - window.x, (r - window.y) * window.width + Math.min(t.x + T, window.x + window.width) - window.x);
      }
    }
    for (let i = 0; i < mask.length; i++) if (mask[i]) assert.equal(covered[i], 1, `trial ${trial}: region pixel ${i} not covered`);
    // kept tiles: row-major, distinct, each with a region pixel; dropped ones without
    const xs = axisOrigins(window.width, T, S).map((o) => window.x + o);
    const ys = axisOrigins(window.height, T, S).map((o) => window.y + o);
    const full = new RegionMask(polys, window);
    const expected = ys.flatMap((y) => xs.map((x) => ({ x, y }))).filter((t) => full.intersects({ x: t.x, y: t.y, width: T, height: T }));
    assert.deepEqual(p.tiles, expected, `trial ${trial}`);
    assert.equal(p.counts.total, xs.length * ys.length);
    assert.equal(p.counts.kept + p.counts.skipped, p.counts.total);
    assert.equal(p.counts.regionPixels, mask.reduce((a, b) => a + b, 0));
    // the last tile along each axis ends at the window edge (or the window is smaller than a tile)
    assert.equal(Math.max(...xs), window.x + Math.max(0, window.width - T));
    assert.equal(Math.max(...ys), window.y + Math.max(0, window.height - T));
  }
});

test('window is the floor/ceil pixel bbox of the region clipped to the raster', () => {
  const p = plan([[rect(10.2, 5.7, 40.5, 30.01)]]);
  assert.deepEqual(p.window, { x: 10, y: 5, width: 31, height: 26 });
  assert.deepEqual(p.outputGeoTransform, [500100, 10, 0, 5999950, 0, -10]);
  // touching every edge / partly outside: clipped
  assert.deepEqual(plan([[rect(-30, -20, 130, 100)]]).window, { x: 0, y: 0, width: 100, height: 80 });
  assert.deepEqual(plan([[rect(0, 0, 100, 80)]]).window, { x: 0, y: 0, width: 100, height: 80 });
  assert.deepEqual(plan([[rect(90.5, 70.5, 150, 95)]]).window, { x: 90, y: 70, width: 10, height: 10 });
  assert.deepEqual(plan([[rect(-50, 30.2, 3.6, 40)]]).window, { x: 0, y: 30, width: 4, height: 10 });
});

test('a window smaller than a tile gets one tile at the window origin, sticking out of the raster', () => {
  const p = plan([[rect(95.2, 75.1, 99.9, 79.9)]], { tile: 16, stride: 8 });
  assert.deepEqual(p.window, { x: 95, y: 75, width: 5, height: 5 });
  assert.deepEqual(p.tiles, [{ x: 95, y: 75 }]);
  // one axis short, the other long
  const q = plan([[rect(0.5, 10.5, 99.5, 14.5)]], { tile: 16, stride: 16 });
  assert.deepEqual(q.tiles.map((t) => t.y), [10, 10, 10, 10, 10, 10, 10]);
  assert.deepEqual(q.tiles.map((t) => t.x), [0, 16, 32, 48, 64, 80, 84]);
});

test('tiles inside a hole, or between MultiPolygon parts, are dropped', () => {
  const holed = plan([[rect(0, 0, 100, 80), rect(20, 20, 80, 60)]], { tile: 10, stride: 10 });
  assert.ok(!holed.tiles.some((t) => t.x >= 20 && t.x + 10 <= 80 && t.y >= 20 && t.y + 10 <= 60));
  assert.equal(holed.counts.total, 80);
  assert.equal(holed.counts.kept, 80 - 6 * 4);
  const multi = plan([[rect(0, 0, 10, 10)], [rect(90, 70, 100, 80)]], { tile: 10, stride: 10 });
  assert.deepEqual(multi.tiles, [{ x: 0, y: 0 }, { x: 90, y: 70 }]);
  assert.equal(multi.counts.skipped, 78);
});

test('a region entirely outside the raster is a RegionError naming both extents in the raster CRS', () => {
  assert.throws(
    () => plan([[rect(200, 10, 300, 20)]], { regionFile: 'far.geojson' }),
    (e: unknown) =>
      e instanceof RegionError &&
      /^far\.geojson: the region does not overlap the raster: in the raster CRS the region spans x 502000\.0\.\.503000\.0, y 5999800\.0\.\.5999900\.0, the raster x 500000\.0\.\.501000\.0, y 5999200\.0\.\.6000000\.0/.test(e.message),
  );
  // touching the edge from outside is not an overlap
  assert.throws(() => plan([[rect(100, 10, 120, 20)]]), RegionError);
  // overlapping the raster without any pixel centre
  assert.throws(() => plan([[rect(10.6, 10.6, 11.4, 11.4)]]), (e: unknown) => e instanceof RegionError && /contains no pixel centre/.test(e.message));
});

test('an end-to-end region: lon/lat GeoJSON → UTM pixels → plan', () => {
  const region = parseRegion({ type: 'Polygon', coordinates: [[[14.99, 51.99], [15.01, 51.99], [15.01, 52.01], [14.99, 52.01], [14.99, 51.99]]] }, 'r.geojson');
  const gt: GeoTransform = [499000, 10, 0, 5763000, 0, -10];
  const px = regionToPixels(region, { rasterCrs: crsFromEpsg(32633), geoTransform: gt });
  const p = makePlan({ width: 200, height: 400, geoTransform: gt, region: px, tile: 32, stride: 16, regionFile: 'r.geojson' });
  // 0.02° of longitude at 52°N is about 1372 m, 0.02° of latitude about 2225 m
  assert.ok(Math.abs(p.window.width - 138) <= 2, `width ${p.window.width}`);
  assert.ok(Math.abs(p.window.height - 223) <= 2, `height ${p.window.height}`);
  assert.ok(p.counts.kept > 0);
});

test('tile, stride and block size are validated with the flag named', () => {
  const region: Polygon[] = [[rect(0, 0, 50, 50)]];
  const bad: [Partial<PlanInput>, RegExp][] = [
    [{ tile: 0 }, /^--tile must be an integer from 1 to 8192 \(tile side in pixels\), got 0$/],
    [{ tile: 12.5 }, /^--tile must be/],
    [{ tile: 16, stride: 0 }, /^--stride must be an integer from 1 to 16 \(at most the tile size, --tile 16\), got 0$/],
    [{ tile: 16, stride: 17 }, /^--stride must be .*got 17/],
    [{ tile: 16, stride: 2.5 }, /^--stride/],
    [{ blockSize: 100 }, /^--block-size must be a multiple of 16 \(TIFF tiles\) from 16 to 65536, got 100$/],
    [{ blockSize: 1_000_000 }, /^--block-size must be an integer from 16 to 65536/],
    [{ tile: 100_000 }, /^--tile must be an integer from 1 to 8192/],
    [{ blockSize: 0 }, /^--block-size/],
  ];
  for (const [extra, pattern] of bad) assert.throws(() => plan(region, extra), (e: unknown) => e instanceof UsageError && pattern.test(e.message), pattern.source);
  assert.equal(plan(region, { tile: 16, stride: undefined }).stride, 8);
  assert.equal(plan(region, { tile: 16, stride: 16 }).stride, 16);
});

test('the plan is a plain value: JSON round trip is lossless', () => {
  const p = plan([[rect(3.3, 4.4, 77.7, 66.6), rect(20, 20, 30, 30)], [[[80, 5], [95, 5], [90, 15], [80, 5]]]]);
  assert.deepEqual(JSON.parse(JSON.stringify(p)), p);
});

test('chunks tile the window on block boundaries; each lists exactly the tiles that touch it, and its rows are final after the last one starting above them', () => {
  const rnd = mulberry32(11);
  for (let trial = 0; trial < 100; trial++) {
    const blockSize = 16 * (1 + Math.floor(rnd() * 3));
    const chunkSize = blockSize * (1 + Math.floor(rnd() * 4));
    const p = plan([[rect(rnd() * 30, rnd() * 30, 40 + rnd() * 60, 40 + rnd() * 40)]], { tile: 4 + Math.floor(rnd() * 20), stride: 4, blockSize, chunkSize });
    const { size, across, down, list } = p.chunks;
    assert.equal(size, chunkSize);
    assert.equal(p.blocks.across, Math.ceil(p.window.width / blockSize));
    assert.equal(across, Math.ceil(p.window.width / size));
    assert.equal(down, Math.ceil(p.window.height / size));
    assert.equal(list.reduce((a, c) => a + c.width * c.height, 0), p.window.width * p.window.height, 'the chunks cover the window once');
    let computations = 0;
    for (const c of list) {
      assert.equal((c.x - p.window.x) % blockSize, 0);
      assert.equal(c.blockCol * blockSize, c.x - p.window.x);
      assert.equal(c.blockRow * blockSize, c.y - p.window.y);
      const touching = p.tiles.flatMap((t, i) => (t.x < c.x + c.width && t.x + p.tile > c.x && t.y < c.y + c.height && t.y + p.tile > c.y ? [i] : []));
      assert.deepEqual(c.tiles, touching);
      computations += touching.length;
      assert.equal(c.rows.reduce((a, r) => a + r.height, 0), c.height);
      let y = c.y;
      for (const row of c.rows) {
        assert.equal(row.y, y);
        y += row.height;
        let last = -1;
        c.tiles.forEach((k, i) => {
          if (p.tiles[k]!.y < row.y + row.height) last = i;
        });
        assert.equal(row.readyAfter, last);
      }
    }
    assert.equal(p.chunks.computations, computations);
  }
  assert.deepEqual(blockRows({ x: 0, y: 0, width: 5, height: 5 }, [], 16), [{ y: 0, height: 5, readyAfter: -1 }]);
  assert.throws(() => plan([[rect(0, 0, 50, 50)]], { blockSize: 16, chunkSize: 40 }), (e: unknown) => e instanceof UsageError && /^--chunk must be a multiple of the block size \(--block-size 16\), got 40$/.test(e.message));
});

test('memory estimate follows its formula and does not grow with the window height or width', () => {
  const short = makePlan({ width: 1000, height: 200, geoTransform: GT, region: [[rect(0, 0, 1000, 200)]], tile: 64, stride: 32, blockSize: 256 });
  const tall = makePlan({ width: 1000, height: 20000, geoTransform: GT, region: [[rect(0, 0, 1000, 20000)]], tile: 64, stride: 32, blockSize: 256 });
  const inputs = { tileFloats: 6 * 3 * 4096, outBands: 2, batchSize: 8, queueDepth: 2, slabBytes: 12345 };
  const e = estimateMemory(short, inputs);
  assert.equal(e.parts.batchBuffers, 3 * 8 * 6 * 3 * 4096 * 4);
  assert.equal(e.parts.slabs, 12345);
  assert.equal(e.parts.outputTensors, 2 * 8 * 2 * 4096 * 4);
  assert.equal(e.parts.model, 1.5 * 8 * 6 * 3 * 4096 * 4 + 2 * 8 * 2 * 4096 * 4);
  assert.equal(e.parts.accumulator, 200 * 1000 * 3 * 8, 'a chunk row band of tile + block rows, at most the window height');
  assert.equal(e.parts.outputBlocks, 2 * 256 * 1000 * 2 * 4);
  assert.equal(e.parts.plan, 64 * short.tiles.length + 16 * 5);
  assert.equal(e.total, Object.values(e.parts).reduce((a, b) => a + b, 0));
  const t = estimateMemory(tall, inputs);
  assert.equal(t.parts.accumulator, (64 + 256) * 1000 * 3 * 8);
  // a window many chunks wide costs what one chunk's width costs
  const chunk = 512;
  const one = makePlan({ width: chunk, height: 2000, geoTransform: GT, region: [[rect(0, 0, chunk, 2000)]], tile: 64, stride: 32, blockSize: 256, chunkSize: chunk });
  const wide = makePlan({ width: 40 * chunk, height: 2000, geoTransform: GT, region: [[rect(0, 0, 40 * chunk, 2000)]], tile: 64, stride: 32, blockSize: 256, chunkSize: chunk });
  const [a, b] = [estimateMemory(one, inputs), estimateMemory(wide, inputs)];
  assert.equal(b.total - b.parts.plan, a.total - a.parts.plan);
  assert.equal(b.parts.accumulator, (64 + 256) * chunk * 3 * 8);
});
