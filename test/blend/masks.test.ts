/**
 * Tile masks against the region mask itself: for random polygons, tile grids and column ranges
 * (the chunks), a tile's mask is null exactly when every pixel of the tile is in the region, and
 * otherwise equals the rasterised region; the fast path is taken for tiles inside.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { prng } from '../../scripts/models/prng.js';
import { TileMasks } from '../../src/blend/masks.js';
import type { Polygon } from '../../src/plan/geometry.js';
import { RegionMask } from '../../src/raster/mask.js';

const SEED = Number(process.env.TILECAST_SEED ?? Math.floor(Math.random() * 2 ** 31));

test(`tile masks equal the rasterised region, whatever the column range (seed ${SEED})`, () => {
  const r = prng(SEED);
  let fast = 0;
  for (let k = 0; k < 40; k++) {
    const window = { x: Math.floor(r() * 20), y: Math.floor(r() * 20), width: 60 + Math.floor(r() * 200), height: 40 + Math.floor(r() * 120) };
    // a star-shaped polygon around the window's centre, with a hole now and then
    const cx = window.x + window.width / 2;
    const cy = window.y + window.height / 2;
    const n = 3 + Math.floor(r() * 12);
    const outer = Array.from({ length: n }, (_, i) => {
      const a = (2 * Math.PI * i) / n;
      const rad = (0.3 + r()) * Math.max(window.width, window.height) * 0.6;
      return [cx + rad * Math.cos(a), cy + rad * Math.sin(a)] as [number, number];
    });
    const polygon: Polygon = [[...outer, outer[0]!]];
    if (r() < 0.5) polygon.push([[cx - 5.5, cy - 5.5], [cx + 5.5, cy - 5.5], [cx, cy + 7.5], [cx - 5.5, cy - 5.5]]);
    const tile = [8, 16, 32][Math.floor(r() * 3)]!;
    const masks = new TileMasks([polygon], window, tile);
    const region = new RegionMask([polygon], window);
    const x0 = window.x + Math.floor(r() * window.width * 0.5);
    const width = 1 + Math.floor(r() * window.width);
    const limited = k % 3 !== 0;
    if (limited) masks.columns(x0, width);
    for (let y = window.y - tile / 2; y < window.y + window.height; y += tile / 2) {
      for (let x = window.x - tile / 2; x < window.x + window.width; x += tile / 2) {
        const got = masks.of(x, y);
        const want = region.rasterize({ x, y, width: tile, height: tile });
        if (got === null) {
          assert.ok(want.every((v) => v === 1), `case ${k} (seed ${SEED}): tile (${x}, ${y}) is not wholly inside but got no mask`);
          fast++;
        } else {
          assert.deepEqual([...got], [...want], `case ${k} (seed ${SEED}): tile (${x}, ${y})`);
          const inWindow = x >= window.x && y >= window.y && x + tile <= window.x + window.width && y + tile <= window.y + window.height;
          const inColumns = !limited || (x >= x0 && x + tile <= x0 + width);
          assert.ok(!(inWindow && inColumns && want.every((v) => v === 1)), `case ${k} (seed ${SEED}): tile (${x}, ${y}) is inside but was rasterised`);
        }
      }
    }
  }
  assert.ok(fast > 0, 'tiles wholly inside take the fast path');
});
