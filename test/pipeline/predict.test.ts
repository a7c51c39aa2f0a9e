/**
 * predict end to end on a small seeded scene: batch-size / queue-depth / worker invariance,
 * agreement with a plain reference implementation, exact placement with the identity model
 * under every blend window, and GDAL reading the output.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { identityModel } from '../../scripts/models/identity.js';
import { predict, type PredictOptions, type PredictSummary } from '../../src/pipeline/predict.js';
import { needGdal } from '../helpers/env.js';
import { gdalinfoJson, gdalPixels } from '../helpers/gdal.js';
import {
  firstDifference, lonLatFeature, makeScene, PIXEL, readOutput, tempFiles, utmPolygon, writeDemoModel, X0, Y0,
  type PxPolygon, type Scene,
} from './fixtures.js';
import { inRegion, origins, referencePredict, regionWindow, type WindowKind } from './reference.js';

/** A concave pentagon (a notch on the right), vertices off the pixel-centre lattice. */
const CONCAVE: PxPolygon = [[[3.3, 2.7], [280.6, 10.2], [150.4, 90.3], [290.8, 200.6], [10.1, 210.9]]];

/** An L shape whose right and bottom edges are axis-aligned with fractions > 0.5, so the window's last column and row hold region pixels. */
const L_SHAPE: PxPolygon = [[[5.3, 7.2], [263.7, 7.2], [263.7, 100.4], [120.6, 100.4], [120.6, 201.6], [5.3, 201.6]]];

let scene: Scene;
let demo: string;

before(async () => {
  scene = await makeScene();
  demo = writeDemoModel(scene, 11);
});

after(() => scene.cleanup());

function base(out: string, extra: Partial<PredictOptions> = {}): PredictOptions {
  return {
    model: demo, dynamic: scene.dynamic, static: scene.static, region: utmPolygon(CONCAVE), regionCrs: 'EPSG:32633',
    out: join(scene.dir, out), tile: 32, stride: 16, blockSize: 64, worker: false, ...extra,
  };
}

describe('predict: same answer whatever the batching', () => {
  test('batch size 1, 3, 16, 64, queue depth 1 and 4, worker and in-thread give byte-identical files', async () => {
    const runs: { name: string; options: Partial<PredictOptions> }[] = [
      { name: 'b1', options: { batchSize: 1 } },
      { name: 'b3', options: { batchSize: 3 } },
      { name: 'b16', options: { batchSize: 16 } },
      { name: 'b64', options: { batchSize: 64 } },
      { name: 'b16-worker', options: { batchSize: 16, worker: undefined } }, // the default: a worker thread
      { name: 'b3-worker-q1', options: { batchSize: 3, worker: true, queueDepth: 1 } },
      { name: 'b3-worker-q4', options: { batchSize: 3, worker: true, queueDepth: 4 } },
    ];
    const summaries: PredictSummary[] = [];
    for (const r of runs) summaries.push(await predict(base(`inv-${r.name}.tif`, r.options)));
    const computed = summaries[0]!.tiles.computed;
    runs.forEach((r, i) => {
      const s = summaries[i]!;
      const N = r.options.batchSize!;
      assert.equal(s.batchSize, N, r.name);
      assert.equal(s.tiles.computed, computed, r.name);
      assert.equal(s.batches, Math.ceil(computed / N), r.name);
    });
    assert.ok(computed > 64, `enough tiles (${computed}) that batch 64 has several batches and a short last one`);
    assert.notEqual(computed % 64, 0);

    const first = await readOutput(join(scene.dir, 'inv-b1.tif'));
    const finite = first.bands[0]!.filter((v) => Number.isFinite(v)).length;
    assert.ok(finite > 1000, `the output has predictions (${finite} finite pixels)`);
    const bytes = readFileSync(join(scene.dir, 'inv-b1.tif'));
    for (const r of runs.slice(1)) {
      const file = join(scene.dir, `inv-${r.name}.tif`);
      const other = await readOutput(file);
      first.bands.forEach((b, k) => assert.equal(firstDifference(b, other.bands[k]!), -1, `${r.name} band ${k}: pixels differ from batch size 1`));
      assert.ok(bytes.equals(readFileSync(file)), `${r.name}: file bytes differ from batch size 1`);
    }
  });

  test('a region as wide as the raster at batch size 64 (one batch spans several tile rows) gives the batch-size-1 file', async () => {
    const region = utmPolygon([[[0.2, 0.3], [299.6, 0.3], [299.6, 219.7], [0.2, 219.7]]]);
    await predict(base('wide-b1.tif', { region, batchSize: 1 }));
    await predict(base('wide-b64.tif', { region, batchSize: 64 }));
    assert.ok(readFileSync(join(scene.dir, 'wide-b1.tif')).equals(readFileSync(join(scene.dir, 'wide-b64.tif'))));
  });
});

describe('predict: agrees with a plain reference implementation', () => {
  test('demo model (3×3 neighbourhood), concave region, tile 32 stride 16', async () => {
    const out = join(scene.dir, 'ref.tif');
    const s = await predict(base('ref.tif', { batchSize: 7 }));
    const ref = await referencePredict({ scene, polygons: [CONCAVE], model: demo, tile: 32, stride: 16, norm: scene.norm });
    assert.deepEqual(s.window, ref.window);
    assert.equal(s.tiles.total, ref.total);
    assert.equal(s.tiles.computed, ref.computed);
    assert.ok(s.tiles.skipped > 0, 'the concave region leaves tiles out');
    // 3 dynamic files × 3 bands + 1 static band, 5 × 4 blocks of 64 each (band-separate): each decoded at most once
    assert.ok(s.blocksDecoded > 0 && s.blocksDecoded <= 10 * 20, `${s.blocksDecoded} blocks decoded`);
    assert.equal(s.outBands, 3);
    const o = await readOutput(out);
    assert.equal(o.width, ref.window.width);
    assert.equal(o.height, ref.window.height);
    assert.deepEqual(o.geoTransform, [X0 + ref.window.x * PIXEL, PIXEL, 0, Y0 - ref.window.y * PIXEL, 0, -PIXEL]);
    assert.equal(o.epsg, 32633);
    let inside = 0;
    for (let k = 0; k < 3; k++) {
      const a = o.bands[k]!;
      const b = ref.bands[k]!;
      for (let i = 0; i < a.length; i++) {
        const at = `band ${k} pixel (${i % o.width}, ${Math.floor(i / o.width)})`;
        assert.equal(Number.isNaN(a[i]!), Number.isNaN(b[i]!), `${at}: ${a[i]} vs reference ${b[i]}`);
        if (Number.isNaN(b[i]!)) continue;
        inside++;
        // to float32 rounding: the model may round differently when it sees a batch
        assert.ok(Math.abs(a[i]! - b[i]!) <= 2 ** -22 * Math.max(Math.abs(b[i]!), 2 ** -20), `${at}: ${a[i]} vs reference ${b[i]}`);
      }
    }
    assert.ok(inside > 3 * 20000, `${inside} region values compared`);
  });
});

/** The identity model's expected output band: the input channel inside the region (fill where invalid), NaN outside. */
function expectedIdentity(polygons: PxPolygon[], t: number, c: number, fill: number, nodata = Number.NaN): { window: ReturnType<typeof regionWindow>; band: Float32Array } {
  const w = regionWindow(polygons, scene.width, scene.height);
  const src = scene.channel(t, c);
  const band = new Float32Array(w.width * w.height);
  for (let r = 0; r < w.height; r++) {
    for (let col = 0; col < w.width; col++) {
      const x = w.x + col;
      const y = w.y + r;
      const v = src[y * scene.width + x]!;
      band[r * w.width + col] = !inRegion(polygons, x, y) ? nodata : scene.isValid(c, v) ? v : fill;
    }
  }
  return { window: w, band };
}

describe('predict: placement', () => {
  // (t, c); c = 3 is the static band, which every time step repeats
  const channels: [number, number][] = [[0, 0], [2, 2], [1, 1], [0, 3], [2, 3]];
  const unit = () => ({ mean: Array(scene.C).fill(0), std: Array(scene.C).fill(1) });

  for (const blend of ['pyramid', 'gaussian', 'cosine', 'constant'] as WindowKind[]) {
    test(`identity model comes back exactly with the ${blend} window, stride 12 < tile 32`, async () => {
      const model = scene.write('identity.onnx', identityModel({ T: scene.T, C: scene.C, channels }));
      const out = join(scene.dir, `place-${blend}.tif`);
      // block size 16: batches of 13 tiles span several block rows, each written mid-batch
      const s = await predict({ ...base(`place-${blend}.tif`), model, region: utmPolygon(L_SHAPE), stride: 12, blend, norm: unit(), fill: -5, batchSize: 13, blockSize: 16 });
      const o = await readOutput(out);
      const w = regionWindow([L_SHAPE], scene.width, scene.height);
      assert.deepEqual(s.window, w);
      assert.equal(s.tiles.total, origins(w.width, 32, 12).length * origins(w.height, 32, 12).length);
      assert.deepEqual([o.width, o.height], [w.width, w.height]);
      channels.forEach(([t, c], k) => {
        const e = expectedIdentity([L_SHAPE], t, c, -5);
        const d = firstDifference(o.bands[k]!, e.band);
        assert.equal(d, -1, d < 0 ? '' : `band ${k} (t ${t}, c ${c}) pixel (${d % w.width}, ${Math.floor(d / w.width)}): ${o.bands[k]![d]} expected ${e.band[d]}`);
      });
      // the window's last column and last row are region pixels, and present
      const last = (r: number, col: number) => o.bands[0]![r * w.width + col]!;
      assert.ok(Number.isFinite(last(0, w.width - 1)) && Number.isFinite(last(w.height - 1, 0)));
      assert.ok(Number.isNaN(last(w.height - 1, w.width - 1)), 'the notch of the L is outside the region');
      assert.ok(o.bands[0]!.some((v) => v === -5), 'nodata input pixels get the fill value');
    });
  }

  test('NCHW layout, stride = tile (no overlap), numeric output nodata, 16-row output blocks', async () => {
    const model = scene.write('identity-nchw.onnx', identityModel({ T: scene.T, C: scene.C, channels, layout: 'NCHW' }));
    const out = join(scene.dir, 'place-nchw.tif');
    await predict({ ...base('place-nchw.tif'), model, region: utmPolygon(L_SHAPE), layout: 'NCHW', stride: 32, norm: unit(), outputNodata: -9999, blockSize: 16, batchSize: 1 });
    const o = await readOutput(out);
    assert.equal(o.nodata, -9999);
    channels.forEach(([t, c], k) => {
      const e = expectedIdentity([L_SHAPE], t, c, 0, -9999);
      const d = firstDifference(o.bands[k]!, e.band);
      assert.equal(d, -1, d < 0 ? '' : `band ${k} pixel ${d}: ${o.bands[k]![d]} expected ${e.band[d]}`);
    });
  });
});

describe('predict: GDAL reads the output', () => {
  test('same pixels, EPSG:32633, the window geotransform, band names', { skip: needGdal() }, async () => {
    const out = join(scene.dir, 'gdal.tif');
    const s = await predict({ ...base('gdal.tif'), region: lonLatFeature(CONCAVE), regionCrs: null, bandNames: ['water', 'forest', 'crop'] });
    assert.deepEqual(tempFiles(scene.dir), []);
    const ours = await readOutput(out);
    const pixels = gdalPixels(out);
    assert.equal(pixels.length, 3);
    pixels.forEach((b, k) => assert.equal(firstDifference(Float32Array.from(b), ours.bands[k]!), -1, `band ${k}`));
    const info = gdalinfoJson(out);
    assert.deepEqual(info.size, [s.window.width, s.window.height]);
    assert.deepEqual(info.geoTransform, [X0 + s.window.x * PIXEL, PIXEL, 0, Y0 - s.window.y * PIXEL, 0, -PIXEL]);
    assert.match(info.coordinateSystem.wkt, /ID\["EPSG",32633\]\]$/);
    assert.deepEqual(info.bands.map((b: { description?: string }) => b.description), ['water', 'forest', 'crop']);
    assert.ok(info.bands.every((b: { noDataValue?: unknown }) => b.noDataValue === 'NaN'), JSON.stringify(info.bands[0]));
    assert.ok(existsSync(out));
  });
});
