/**
 * predict over awkward regions: smaller than a tile, touching the raster edges, partly outside,
 * with a hole, a MultiPolygon, in longitude/latitude; and regions it must refuse.
 * The identity model (output = input band 0 of time step 1) makes every output pixel checkable.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { identityModel } from '../../scripts/models/identity.js';
import { RegionError } from '../../src/errors.js';
import { predict, type PredictOptions, type PredictSummary } from '../../src/pipeline/predict.js';
import {
  lonLatFeature, makeScene, PIXEL, readOutput, rect, utmMultiPolygon, utmPolygon, X0, Y0,
  type PxPolygon, type Scene,
} from './fixtures.js';
import { inRegion, origins, regionWindow } from './reference.js';

let scene: Scene;
let model: string;
const TILE = 32;

before(async () => {
  scene = await makeScene({ T: 2, seed: 21 });
  model = scene.write('identity.onnx', identityModel({ T: scene.T, C: scene.C, channels: [[1, 0], [0, 3]] }));
});

after(() => scene.cleanup());

let runs = 0;

/** Run predict on a region given in pixel coordinates; check every output pixel against the inputs. */
async function check(polygons: PxPolygon[], region: object, extra: Partial<PredictOptions> = {}): Promise<PredictSummary> {
  const out = join(scene.dir, `region-${runs++}.tif`);
  const s = await predict({
    model, dynamic: scene.dynamic, static: scene.static, region, regionCrs: 'EPSG:32633', out,
    tile: TILE, stride: 16, blockSize: 32, batchSize: 1, worker: false, fill: -1, ...extra,
  });
  const w = regionWindow(polygons, scene.width, scene.height);
  assert.deepEqual(s.window, w, 'window: bounding box, floor/ceil, clipped to the raster');
  assert.equal(s.tiles.total, origins(w.width, TILE, 16).length * origins(w.height, TILE, 16).length);
  const o = await readOutput(out);
  assert.deepEqual([o.width, o.height], [w.width, w.height]);
  assert.deepEqual(o.geoTransform, [X0 + w.x * PIXEL, PIXEL, 0, Y0 - w.y * PIXEL, 0, -PIXEL]);
  const channels: [number, number][] = [[1, 0], [0, 3]];
  channels.forEach(([t, c], k) => {
    const src = scene.channel(t, c);
    const band = o.bands[k]!;
    for (let r = 0; r < w.height; r++) {
      for (let col = 0; col < w.width; col++) {
        const x = w.x + col;
        const y = w.y + r;
        const v = src[y * scene.width + x]!;
        const want = !inRegion(polygons, x, y) ? Number.NaN : scene.isValid(c, v) ? v : -1;
        const got = band[r * w.width + col]!;
        if (!(got === want || (Number.isNaN(got) && Number.isNaN(want)))) {
          assert.fail(`band ${k} pixel (${x}, ${y}) of the raster: ${got}, expected ${want}`);
        }
      }
    }
  });
  return s;
}

describe('predict: regions', () => {
  test('smaller than one tile: one tile, output cropped to the region window', async () => {
    const p: PxPolygon = [rect(100.2, 50.3, 110.7, 58.6)];
    const s = await check([p], utmPolygon(p));
    assert.deepEqual(s.window, { x: 100, y: 50, width: 11, height: 9 });
    assert.equal(s.tiles.computed, 1);
  });

  test('smaller than one tile in the bottom-right corner, partly outside: the tile hangs off the raster', async () => {
    const p: PxPolygon = [rect(285.3, 205.4, 320.2, 240.9)];
    const s = await check([p], utmPolygon(p));
    assert.deepEqual(s.window, { x: 285, y: 205, width: 15, height: 15 });
    assert.equal(s.tiles.computed, 1);
  });

  test('touching all four raster edges (vertices on the edges): the whole raster is the window', async () => {
    const p: PxPolygon = [[[150.3, 0], [300, 110.4], [150.7, 220], [0, 109.6]]];
    const s = await check([p], utmPolygon(p), { batchSize: 5 });
    assert.deepEqual(s.window, { x: 0, y: 0, width: scene.width, height: scene.height });
  });

  test('partly outside the raster on the top-left, in longitude/latitude (RFC 7946)', async () => {
    const p: PxPolygon = [[[-40.5, -30.2], [90.7, -12.6], [70.3, 80.4], [-20.8, 120.1]]];
    const s = await check([p], lonLatFeature(p), { regionCrs: null, batchSize: 4 });
    assert.equal(s.window.x, 0);
    assert.equal(s.window.y, 0);
  });

  test('a hole: the hole pixels are NaN', async () => {
    const hole: [number, number][] = [[80.2, 70.6], [140.9, 75.3], [120.1, 130.8]];
    const p: PxPolygon = [rect(20.4, 30.3, 200.6, 180.7), hole];
    await check([p], utmPolygon(p), { batchSize: 3 });
    const o = await readOutput(join(scene.dir, `region-${runs - 1}.tif`));
    const w = regionWindow([p], scene.width, scene.height);
    const at = (x: number, y: number) => o.bands[0]![(y - w.y) * w.width + (x - w.x)]!;
    assert.ok(Number.isNaN(at(115, 90)), 'inside the hole');
    assert.ok(Number.isFinite(at(60, 90)), 'beside the hole');
  });

  test('a MultiPolygon of two parts far apart: the pixels between them are NaN, the tiles between them skipped', async () => {
    const a: PxPolygon = [rect(10.3, 10.4, 60.6, 50.2)];
    const b: PxPolygon = [[[200.2, 120.7], [290.4, 150.1], [230.8, 215.3]]];
    const s = await check([a, b], utmMultiPolygon([a, b]), { batchSize: 6 });
    assert.ok(s.tiles.skipped > 0, `${s.tiles.skipped} tiles skipped`);
  });

  test('a FeatureCollection of overlapping polygons is their union', async () => {
    const a: PxPolygon = [rect(30.3, 30.4, 120.6, 100.2)];
    const b: PxPolygon = [rect(90.2, 60.7, 170.4, 150.1)];
    const fc = { type: 'FeatureCollection', features: [a, b].map((p) => ({ type: 'Feature', properties: {}, geometry: utmPolygon(p) })) };
    await check([a, b], fc, { batchSize: 2 });
  });
});

describe('predict: regions it refuses', () => {
  /** A fresh output folder, to check that nothing is left in it. */
  function outDir(name: string): string {
    const d = join(scene.dir, name);
    mkdirSync(d);
    return d;
  }
  const opts = (out: string, region: string | object): PredictOptions => ({
    model, dynamic: scene.dynamic, static: scene.static, region, regionCrs: 'EPSG:32633', out, tile: TILE, worker: false,
  });

  test('entirely outside the raster: RegionError, no output', async () => {
    const d = outDir('outside');
    const out = join(d, 'out.tif');
    await assert.rejects(predict(opts(out, utmPolygon([rect(400.5, 300.5, 500.5, 400.5)]))), (e: Error) => {
      assert.ok(e instanceof RegionError, String(e));
      assert.match(e.message, /does not overlap the raster/);
      assert.match(e.message, /--region-crs/);
      return true;
    });
    await assert.rejects(predict({ ...opts(out, lonLatFeature([rect(-3000.5, 100.5, -2900.5, 200.5)])), regionCrs: null }), RegionError);
    assert.deepEqual(readdirSync(d), []);
  });

  test('between pixel centres: RegionError', async () => {
    const d = outDir('sliver');
    await assert.rejects(predict(opts(join(d, 'out.tif'), utmPolygon([rect(10.6, 10.6, 11.4, 11.4)]))), /contains no pixel centre/);
    assert.deepEqual(readdirSync(d), []);
  });

  test('invalid GeoJSON: RegionError naming the file and what is wrong', async () => {
    const d = outDir('invalid');
    const out = join(d, 'out.tif');
    const notJson = join(scene.dir, 'broken.geojson');
    writeFileSync(notJson, '{"type": "Polygon", "coordinates": [[[1, 2], [3, 4]');
    await assert.rejects(predict(opts(out, notJson)), (e: Error) => e instanceof RegionError && e.message.includes(notJson) && /not valid JSON/.test(e.message));
    const open = join(scene.dir, 'open-ring.geojson');
    writeFileSync(open, JSON.stringify({ type: 'Polygon', coordinates: [[[X0, Y0], [X0 + 900, Y0], [X0 + 900, Y0 - 900], [X0, Y0 - 800]]] }));
    await assert.rejects(predict(opts(out, open)), (e: Error) => e instanceof RegionError && e.message.includes(open) && /not closed/.test(e.message));
    await assert.rejects(predict(opts(out, { type: 'Point', coordinates: [X0, Y0] })), (e: Error) => e instanceof RegionError && /a Point; a region must be a Polygon/.test(e.message));
    const missing = join(scene.dir, 'no-such-region.geojson');
    await assert.rejects(predict(opts(out, missing)), (e: Error) => e instanceof RegionError && e.message.includes(missing) && /--region/.test(e.message));
    await assert.rejects(predict({ ...opts(out, utmPolygon([rect(10.3, 10.3, 50.6, 50.6)])), regionCrs: null }), (e: Error) => e instanceof RegionError && /not a longitude\/latitude/.test(e.message));
    assert.deepEqual(readdirSync(d), []);
    assert.ok(!existsSync(out));
  });
});
