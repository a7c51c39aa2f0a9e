/** Quicklook drawing: stretch percentiles, ramp ends, tile tints and borders, the region outline. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Rgba } from '../../src/report/draw.js';
import { COMPUTED_COLOR, RAMP, REGION_COLOR, SKIPPED_COLOR, drawOutline, drawStretched, drawTiles, percentiles, rampColor } from '../../src/report/draw.js';

function pixel(img: Rgba, x: number, y: number): number[] {
  return Array.from(img.data.subarray((y * img.width + x) * 4, (y * img.width + x) * 4 + 4));
}

/** Colour after blending `c` at `alpha` over opaque black, as 8-bit values. */
function over(c: readonly number[], alpha: number, below: readonly number[] = [0, 0, 0]): number[] {
  return [...c.map((v, i) => Math.round(v * alpha + below[i]! * (1 - alpha))), 255];
}

test('percentiles, the ramp and the stretch', () => {
  const plane = Float32Array.from({ length: 101 }, (_, i) => i);
  plane[5] = NaN;
  plane[6] = Infinity;
  assert.deepEqual(percentiles(plane, 0.02, 0.98), [2, 98]);
  assert.equal(percentiles(new Float32Array([NaN]), 0.02, 0.98), null);
  assert.deepEqual(rampColor(0), RAMP[0]);
  assert.deepEqual(rampColor(1), RAMP.at(-1));
  assert.deepEqual(rampColor(2), RAMP.at(-1));
  const img = drawStretched({ width: 101, height: 1, sourceWidth: 101, sourceHeight: 1, planes: [plane] });
  assert.deepEqual(pixel(img, 0, 0), [0, 0, 0, 255]);
  assert.deepEqual(pixel(img, 50, 0), [128, 128, 128, 255]);
  assert.deepEqual(pixel(img, 100, 0), [255, 255, 255, 255]);
  assert.equal(pixel(img, 5, 0)[3], 0, 'NaN is transparent');
});

test('tiles are tinted (computed over skipped) and bordered; the region outline is drawn', () => {
  const blackImage = (): Rgba => {
    const img = { width: 100, height: 100, data: new Uint8Array(100 * 100 * 4) };
    for (let i = 3; i < img.data.length; i += 4) img.data[i] = 255;
    return img;
  };
  // source 1000 x 1000 drawn at 100 x 100: a 200-px tile is 20 image pixels
  const img = blackImage();
  drawTiles(img, 1000, 1000, { size: 200, computed: [{ x: 0, y: 0 }], skipped: [{ x: 100, y: 0 }, { x: 600, y: 600 }] });
  assert.deepEqual(pixel(img, 5, 5), over(COMPUTED_COLOR, 0.3), 'inside the computed tile');
  assert.deepEqual(pixel(img, 25, 5), over(SKIPPED_COLOR, 0.3), 'skipped only');
  assert.deepEqual(pixel(img, 15, 5), over(COMPUTED_COLOR, 0.3), 'overlap: computed wins');
  assert.deepEqual(pixel(img, 50, 50), [0, 0, 0, 255], 'no tile');
  assert.deepEqual(pixel(img, 0, 10), over(COMPUTED_COLOR, 0.8, over(COMPUTED_COLOR, 0.3)), 'computed border');
  assert.deepEqual(pixel(img, 79, 70), over(SKIPPED_COLOR, 0.8, over(SKIPPED_COLOR, 0.3)), 'skipped border');
  // tiles under 6 image pixels: tint only
  const small = blackImage();
  drawTiles(small, 1000, 1000, { size: 50, computed: [{ x: 0, y: 0 }], skipped: [] });
  assert.deepEqual(pixel(small, 0, 0), over(COMPUTED_COLOR, 0.3));

  const ring = blackImage();
  drawOutline(ring, 1000, 1000, [
    [
      [200, 200],
      [800, 200],
      [800, 800],
      [200, 200],
    ],
  ]);
  assert.deepEqual(pixel(ring, 50, 19), [...REGION_COLOR, 255], 'top edge');
  assert.deepEqual(pixel(ring, 79, 50), [...REGION_COLOR, 255], 'right edge');
  assert.deepEqual(pixel(ring, 50, 49), [...REGION_COLOR, 255], 'diagonal');
  assert.deepEqual(pixel(ring, 30, 60), [0, 0, 0, 255], 'outside the lines');
});
