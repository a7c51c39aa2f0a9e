import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Polygon, Ring } from '../../src/plan/geometry.js';
import { RegionMask } from '../../src/raster/mask.js';
import type { PixelWindow } from '../../src/raster/types.js';
import { needGdal } from '../helpers/env.js';
import { prng as mulberry32 } from '../../scripts/models/prng.js';

/** A random star-shaped (or, with `wild`, self-intersecting) closed ring. */
function randomRing(rnd: () => number, cx: number, cy: number, r: number, n: number, wild: boolean): Ring {
  const pts: Ring = [];
  for (let i = 0; i < n; i++) {
    const a = wild ? rnd() * 2 * Math.PI : (2 * Math.PI * (i + rnd() * 0.9)) / n;
    const rr = r * (0.2 + 0.8 * rnd());
    pts.push([cx + rr * Math.cos(a), cy + rr * Math.sin(a)]);
  }
  pts.push([pts[0]![0], pts[0]![1]]);
  return pts;
}

function randomRegion(rnd: () => number, w: number, h: number): Polygon[] {
  const polys: Polygon[] = [];
  const count = 1 + Math.floor(rnd() * 3);
  for (let p = 0; p < count; p++) {
    const cx = -5 + rnd() * (w + 10);
    const cy = -5 + rnd() * (h + 10);
    const r = 3 + rnd() * Math.max(w, h) * 0.6;
    const outer = randomRing(rnd, cx, cy, r, 3 + Math.floor(rnd() * 12), rnd() < 0.3);
    const poly: Polygon = [outer];
    if (rnd() < 0.5) poly.push(randomRing(rnd, cx, cy, r * 0.3, 3 + Math.floor(rnd() * 6), false));
    polys.push(poly);
  }
  return polys;
}

/** Reference: crossing-number test per pixel centre with GDAL's tie rule (edge y-range [ymin, ymax), span (xa, xb]). */
function insideRef(polys: Polygon[], px: number, py: number): boolean {
  for (const poly of polys) {
    let inside = false;
    for (const ring of poly) {
      for (let i = 0; i + 1 < ring.length; i++) {
        let [ax, ay] = ring[i]!;
        let [bx, by] = ring[i + 1]!;
        if (ay === by) continue;
        if (ay > by) [ax, ay, bx, by] = [bx, by, ax, ay];
        if (py >= ay && py < by) {
          const x = ((py - ay) * (bx - ax)) / (by - ay) + ax;
          if (x >= px) inside = !inside;
        }
      }
    }
    if (inside) return true;
  }
  return false;
}

function bruteMask(polys: Polygon[], win: PixelWindow, domain: PixelWindow): Uint8Array {
  const out = new Uint8Array(win.width * win.height);
  for (let r = 0; r < win.height; r++) {
    for (let c = 0; c < win.width; c++) {
      const col = win.x + c;
      const row = win.y + r;
      if (col < domain.x || col >= domain.x + domain.width || row < domain.y || row >= domain.y + domain.height) continue;
      out[r * win.width + c] = insideRef(polys, col + 0.5, row + 0.5) ? 1 : 0;
    }
  }
  return out;
}

test('mask equals a brute-force point-in-polygon test on random polygons (holes, multipolygons, self-intersections)', () => {
  const rnd = mulberry32(42);
  for (let trial = 0; trial < 200; trial++) {
    const w = 5 + Math.floor(rnd() * 60);
    const h = 5 + Math.floor(rnd() * 60);
    const polys = randomRegion(rnd, w, h);
    const domain = { x: 0, y: 0, width: w, height: h };
    const mask = new RegionMask(polys, domain);
    const got = mask.rasterize(domain);
    const want = bruteMask(polys, domain, domain);
    assert.deepEqual(got, want, `trial ${trial}`);
    assert.equal(mask.count(domain), want.reduce((a, b) => a + b, 0));
  }
});

test('mask of a window partly outside the domain is 0 outside it; intersects/count/bandColumns agree with rasterize', () => {
  const rnd = mulberry32(7);
  for (let trial = 0; trial < 100; trial++) {
    const polys = randomRegion(rnd, 40, 40);
    const domain = { x: 3 + Math.floor(rnd() * 5), y: 2 + Math.floor(rnd() * 5), width: 20 + Math.floor(rnd() * 20), height: 20 + Math.floor(rnd() * 20) };
    const mask = new RegionMask(polys, domain);
    for (let k = 0; k < 10; k++) {
      const win = { x: Math.floor(rnd() * 50) - 5, y: Math.floor(rnd() * 50) - 5, width: 1 + Math.floor(rnd() * 20), height: 1 + Math.floor(rnd() * 20) };
      const got = mask.rasterize(win);
      const want = bruteMask(polys, win, domain);
      assert.deepEqual(got, want, `trial ${trial}.${k}`);
      const n = want.reduce((a, b) => a + b, 0);
      assert.equal(mask.count(win), n);
      assert.equal(mask.intersects(win), n > 0);
    }
    const cols = mask.bandColumns(domain.y + 4, domain.y + 13, new Uint8Array(domain.width));
    const full = mask.rasterize({ x: domain.x, y: domain.y + 4, width: domain.width, height: 9 });
    for (let c = 0; c < domain.width; c++) {
      let any = 0;
      for (let r = 0; r < 9; r++) any |= full[r * domain.width + c]!;
      assert.equal(cols[c], any, `trial ${trial} column ${c}`);
    }
  }
});

test('rasterize reuses the output buffer it is given', () => {
  const mask = new RegionMask([[[[0, 0], [4, 0], [4, 4], [0, 4], [0, 0]]]], { x: 0, y: 0, width: 8, height: 8 });
  const buf = new Uint8Array(64).fill(9);
  const out = mask.rasterize({ x: 2, y: 2, width: 4, height: 4 }, buf);
  assert.equal(out.buffer, buf.buffer);
  assert.deepEqual([...out], [1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
});

test('ties on pixel centres follow GDAL: a column is in when xa < centre <= xb, a row when ymin <= centre < ymax', () => {
  // gdal_rasterize of this rectangle on a 10x10 grid (geotransform 0,1,0,0,0,1) burns columns 3..5, rows 1..3
  const rect: Polygon = [[[2.5, 1.5], [5.5, 1.5], [5.5, 4.5], [2.5, 4.5], [2.5, 1.5]]];
  const domain = { x: 0, y: 0, width: 10, height: 10 };
  for (const poly of [rect, [[...rect[0]!].reverse()]]) {
    const m = new RegionMask([poly], domain).rasterize(domain);
    for (let r = 0; r < 10; r++) {
      for (let c = 0; c < 10; c++) assert.equal(m[r * 10 + c], r >= 1 && r <= 3 && c >= 3 && c <= 5 ? 1 : 0, `(${c}, ${r})`);
    }
  }
});

test('a hole removes its pixels; overlapping polygons form a union, not an even-odd cancellation', () => {
  const domain = { x: 0, y: 0, width: 10, height: 10 };
  const outer: Ring = [[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]];
  const hole: Ring = [[3, 3], [7, 3], [7, 7], [3, 7], [3, 3]];
  const holed = new RegionMask([[outer, hole]], domain);
  assert.equal(holed.count(domain), 100 - 16);
  assert.equal(holed.intersects({ x: 3, y: 3, width: 4, height: 4 }), false);
  const a: Ring = [[0, 0], [6, 0], [6, 10], [0, 10], [0, 0]];
  const b: Ring = [[4, 0], [10, 0], [10, 10], [4, 10], [4, 0]];
  assert.equal(new RegionMask([[a], [b]], domain).count(domain), 100);
});

test('long edges spanning many buckets and thousands of rows', () => {
  const h = 5000;
  const domain = { x: 0, y: 0, width: 50, height: h };
  const tri: Polygon = [[[0.3, 0.2], [49.7, h - 0.1], [0.1, h - 0.3], [0.3, 0.2]]];
  const mask = new RegionMask([tri], domain);
  for (const row of [0, 1, 17, 2500, 4999]) {
    const got = mask.rasterize({ x: 0, y: row, width: 50, height: 1 });
    assert.deepEqual(got, bruteMask([tri], { x: 0, y: row, width: 50, height: 1 }, domain), `row ${row}`);
  }
});

test('rows with many crossings (comb polygon) are sorted correctly', () => {
  const ring: Ring = [[0, 0]];
  for (let i = 0; i < 60; i++) ring.push([i * 2 + 0.5, 20.3], [i * 2 + 1.5, 20.3], [i * 2 + 1.5, 0.7]);
  ring.push([121, 0], [0, 0]);
  const domain = { x: 0, y: 0, width: 125, height: 25 };
  const mask = new RegionMask([[ring]], domain);
  assert.deepEqual(mask.rasterize(domain), bruteMask([[ring]], domain, domain));
});

test('mask equals gdal_rasterize on random polygons', { skip: needGdal() }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'tilecast-mask-'));
  try {
    const rnd = mulberry32(1234);
    for (let trial = 0; trial < 5; trial++) {
      const w = 40 + Math.floor(rnd() * 40);
      const h = 40 + Math.floor(rnd() * 40);
      // valid polygons only: GDAL and tilecast agree on those (star-shaped rings, holes inside)
      const polys: Polygon[] = [];
      for (let p = 0; p < 4; p++) {
        const cx = rnd() * w;
        const cy = rnd() * h;
        polys.push([randomRing(rnd, cx, cy, 10 + rnd() * 30, 6 + Math.floor(rnd() * 20), false)]);
      }
      const features = polys.map((p) => ({ type: 'Feature', properties: {}, geometry: { type: 'Polygon', coordinates: p } }));
      const gj = join(dir, `r${trial}.geojson`);
      writeFileSync(gj, JSON.stringify({ type: 'FeatureCollection', features }));
      const raw = join(dir, `r${trial}.raw`);
      // pixel-space coordinates: geotransform (0, 1, 0, 0, 0, 1) so that (x, y) = (col, row)
      execFileSync('gdal_rasterize', ['-q', '-of', 'ENVI', '-burn', '1', '-ot', 'Byte', '-init', '0', '-te', '0', '0', String(w), String(h), '-ts', String(w), String(h), gj, raw], { stdio: 'pipe' });
      const gdalBytes = new Uint8Array(readFileSync(raw));
      // -te with ymin=0, ymax=h gives a north-up grid: raster row r covers y in [h-r-1, h-r); flip to pixel rows
      const want = new Uint8Array(w * h);
      for (let r = 0; r < h; r++) want.set(gdalBytes.subarray((h - 1 - r) * w, (h - r) * w), r * w);
      const domain = { x: 0, y: 0, width: w, height: h };
      const got = new RegionMask(polys, domain).rasterize(domain);
      let diff = 0;
      for (let i = 0; i < w * h; i++) if (got[i] !== want[i]) diff++;
      assert.equal(diff, 0, `trial ${trial}: ${diff} pixels differ from gdal_rasterize`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
