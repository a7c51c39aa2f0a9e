/**
 * What predict writes besides the probabilities, read back by GDAL: a class map (argmax, ties to
 * the lowest class, 255 outside the region) with its colour table and category names, the
 * confidence, every output as a valid COG, and the provenance (in the file) and run record (in
 * the PAM sidecar) that gdalinfo shows.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { identityModel } from '../../scripts/models/identity.js';
import { UsageError } from '../../src/errors.js';
import { predict, type PredictOptions } from '../../src/pipeline/predict.js';
import { RasterSource } from '../../src/raster/source.js';
import { convert } from '../../src/write/convert.js';
import { merge } from '../../src/write/merge.js';
import { defaultPalette } from '../../src/write/palette.js';
import { GDAL_PYTHON, needGdal } from '../helpers/env.js';
import { gdalRead } from '../write/gdal-read.js';
import { needChromium, probePage } from '../report/chromium.js';
import { makeScene, utmPolygon, type Scene, writeDemoModel } from './fixtures.js';

const skip = needGdal();
let scene: Scene;
let model: string;
let ties: string;
let region: object;
let dirs = 0;

before(async () => {
  scene = await makeScene({ width: 160, height: 140, T: 2, seed: 51 });
  model = writeDemoModel(scene, 8);
  // output bands 1 and 2 copy the same input channel: every pixel is a tie between classes 1 and 2
  ties = scene.write('ties.onnx', identityModel({ T: scene.T, C: scene.C, channels: [[0, 0], [1, 1], [1, 1]] }));
  region = utmPolygon([[[5.5, 4.5], [150.2, 10.7], [140.3, 130.1], [60.5, 90.5], [8.8, 120.4], [5.5, 4.5]]]);
});

after(() => scene.cleanup());

function options(extra: Partial<PredictOptions> = {}): PredictOptions & { dir: string } {
  const dir = join(scene.dir, `outputs-${dirs++}`);
  mkdirSync(dir);
  return {
    model, dynamic: scene.dynamic, static: scene.static, region, regionCrs: 'EPSG:32633',
    tile: 32, stride: 16, batchSize: 8, blockSize: 32, worker: false, workers: 0, dir, ...extra,
  };
}

/** gdalinfo -json as users run it (PAM on: the sidecar is read). */
function gdalinfo(file: string): any {
  return JSON.parse(execFileSync('gdalinfo', ['-json', file], { encoding: 'utf8' }));
}

function validateCog(file: string): { errors: string[]; warnings: string[] } {
  const out = execFileSync(GDAL_PYTHON, ['-c', 'import sys, json\nfrom osgeo_utils.samples.validate_cloud_optimized_geotiff import validate\nw, e, _ = validate(sys.argv[1], full_check=True)\nprint(json.dumps({"warnings": w, "errors": e}))', file], { encoding: 'utf8' });
  return JSON.parse(out);
}

describe('class map, confidence, COG and provenance', { skip }, () => {
  test('the class map is the argmax of the probabilities, 255 outside the region; the confidence its winning percent', async () => {
    const o = options({ bandNames: ['water', 'forest', 'crop'] });
    const out = join(o.dir, 'p.tif');
    const classes = join(o.dir, 'c.tif');
    const confidence = join(o.dir, 'conf.tif');
    await predict({ ...o, out, classes, confidence });
    const [p, c, k] = gdalRead([out, classes, confidence]);
    const n = p!.size[0] * p!.size[1];
    let inside = 0;
    for (let i = 0; i < n; i++) {
      const probs = p!.bands.map((b) => b.pixels[i]!);
      if (probs.some(Number.isNaN)) {
        assert.equal(c!.bands[0]!.pixels[i], 255, `pixel ${i} outside the region`);
        assert.equal(k!.bands[0]!.pixels[i], 255);
        continue;
      }
      inside++;
      let best = 0;
      for (let j = 1; j < probs.length; j++) if (probs[j]! > probs[best]!) best = j;
      assert.equal(c!.bands[0]!.pixels[i], best, `pixel ${i}: class`);
      assert.equal(k!.bands[0]!.pixels[i], Math.round(Math.min(1, Math.max(0, probs[best]!)) * 100), `pixel ${i}: confidence`);
    }
    assert.ok(inside > n / 3);
    assert.equal(c!.bands[0]!.type, 'Byte');
    assert.equal(c!.bands[0]!.nodata, 255);
  });

  test('ties go to the lowest class', async () => {
    const o = options({ model: ties, norm: { mean: new Array(scene.C).fill(0), std: new Array(scene.C).fill(1) } });
    const classes = join(o.dir, 'c.tif');
    const out = join(o.dir, 'p.tif');
    await predict({ ...o, out, classes });
    const [p, c] = gdalRead([out, classes]);
    let tied = 0;
    for (let i = 0; i < p!.bands[0]!.pixels.length; i++) {
      const [a, b1, b2] = p!.bands.map((b) => b.pixels[i]!);
      if (Number.isNaN(a!)) continue;
      assert.equal(b1, b2);
      const want = a! >= b1! ? 0 : 1; // the lowest of the largest
      assert.equal(c!.bands[0]!.pixels[i], want, `pixel ${i}: ${a} vs ${b1} = ${b2}`);
      if (want === 1) tied++;
    }
    assert.ok(tied > 0, 'some pixels are ties');
  });

  test('GDAL shows the colour table and the category names; gdalinfo shows provenance and the run record', async () => {
    const o = options({ bandNames: ['water', 'forest', 'crop'], colors: '#0000ff,#00aa00,#ffcc00' });
    const classes = join(o.dir, 'c.tif');
    await predict({ ...o, classes, commandLine: 'tilecast predict --classes c.tif' });
    const info = gdalinfo(classes);
    const band = info.bands[0];
    assert.equal(band.colorInterpretation, 'Palette');
    assert.deepEqual(band.colorTable.entries.slice(0, 3), [[0, 0, 255, 255], [0, 170, 0, 255], [255, 204, 0, 255]]);
    assert.deepEqual(band.categories, ['water', 'forest', 'crop']);
    const md = info.metadata[''];
    for (const key of ['TILECAST_VERSION', 'TILECAST_MODEL', 'TILECAST_MODEL_SHA256', 'TILECAST_DYNAMIC', 'TILECAST_STATIC', 'TILECAST_REGION_SHA256', 'TILECAST_NORM', 'TILECAST_TILE', 'TILECAST_STRIDE', 'TILECAST_BLEND', 'TILECAST_FILL', 'TILECAST_LAYOUT', 'TILECAST_PLAN', 'TILECAST_COMMAND', 'TILECAST_STARTED', 'TILECAST_FINISHED']) {
      assert.ok(md[key] !== undefined && md[key] !== '', `${key} in gdalinfo's metadata`);
    }
    assert.equal(md.TILECAST_MODEL, 'demo.onnx');
    assert.match(md.TILECAST_MODEL_SHA256, /^[0-9a-f]{64}$/);
    assert.deepEqual(JSON.parse(md.TILECAST_DYNAMIC).map((d: { file: string }) => d.file), scene.dynamic.map((f) => f.split('/').pop()));
    assert.equal(md.TILECAST_COMMAND, 'tilecast predict --classes c.tif');
    assert.ok(Date.parse(md.TILECAST_FINISHED) >= Date.parse(md.TILECAST_STARTED));
    assert.deepEqual(readdirSync(o.dir).sort(), ['c.tif', 'c.tif.aux.xml']);
  });

  test('the reader, convert and merge keep a class map\'s colours and names; without the sidecar, the TIFF\'s own ColorMap', async () => {
    const o = options({ bandNames: ['water', 'forest', 'crop'], colors: '#0000ff,#00aa00,#ffcc00', chunk: 64 });
    const single = join(o.dir, 'c.tif');
    await predict({ ...o, classes: single });
    const entries = [[0, 0, 255, 255], [0, 170, 0, 255], [255, 204, 0, 255]];
    const src = await RasterSource.open(single);
    assert.deepEqual(src.colorTable?.length, 256);
    assert.deepEqual(gdalinfo(single).bands[0].colorTable.entries.slice(0, 3).map((e: number[]) => e.slice(0, 3)), src.colorTable!.slice(0, 3));
    await src.close();
    // shards merged, with and without the parts' sidecars
    for (const i of [0, 1]) await predict({ ...o, classes: join(o.dir, 'p.tif'), shard: `${i}/2` });
    const parts = [0, 1].map((i) => join(o.dir, `p.part-${i}-of-2.tif`));
    await merge(parts, join(o.dir, 'm.tif'));
    for (const p of parts) rmSync(`${p}.aux.xml`);
    await merge(parts, join(o.dir, 'm-bare.tif'));
    // convert, with and without the input's sidecar
    await convert(single, join(o.dir, 'v.tif'), { compression: 'zstd' });
    rmSync(`${single}.aux.xml`);
    await convert(single, join(o.dir, 'v-bare.tif'), { compression: 'zstd' });
    assert.ok(readFileSync(join(o.dir, 'm.tif')).equals(readFileSync(single)), 'the merged class map has the bytes of a single run');
    assert.ok(readFileSync(join(o.dir, 'm-bare.tif')).equals(readFileSync(single)), 'the TIFF\'s own ColorMap is carried without the sidecar');
    for (const f of ['m.tif', 'v.tif']) {
      const band = gdalinfo(join(o.dir, f)).bands[0];
      assert.deepEqual(band.colorTable.entries, entries, `${f}: the colour table has the classes only`);
      assert.deepEqual(band.categories, ['water', 'forest', 'crop'], f);
    }
    for (const f of ['m-bare.tif', 'v-bare.tif']) {
      const band = gdalinfo(join(o.dir, f)).bands[0];
      assert.equal(band.colorInterpretation, 'Palette', f);
      assert.deepEqual(band.colorTable.entries.slice(0, 3), entries, f);
    }
  });

  test('--cog: the probabilities, the class map and the confidence are valid COGs; class overviews are nearest', async () => {
    const o = options({ cog: true, bandNames: ['a', 'b', 'c'] });
    const files = ['p.tif', 'c.tif', 'k.tif'].map((f) => join(o.dir, f));
    await predict({ ...o, out: files[0], classes: files[1], confidence: files[2], blockSize: 16 });
    for (const f of files) {
      const v = validateCog(f);
      assert.deepEqual(v.errors, [], `${f}: ${v.errors.join('; ')}`);
    }
    const [, c] = gdalRead([files[0]!, files[1]!], true);
    const ovr = c!.bands[0]!.overviewPixels[0]!;
    assert.ok(ovr.length > 0);
    const values = new Set(ovr);
    for (const v of values) assert.ok(v === 255 || (Number.isInteger(v) && v >= 0 && v < 3), `overview value ${v} is a class`);
  });

  test('input statistics: silent on a sound input, a warning naming the file and band for a broken channel', async () => {
    const warnings: string[] = [];
    const ok = await predict({ ...options(), out: join(scene.dir, `stats-ok-${dirs}.tif`), warn: (m) => warnings.push(m) });
    assert.deepEqual(warnings, []);
    assert.equal(ok.inputs.length, scene.T * scene.dynamicBands + scene.staticBands, 'one entry per input band');
    for (const s of ok.inputs) {
      assert.ok(Math.abs(s.mean) < 3 && s.std > 0.05 && s.std < 10, `${s.file} band ${s.band}: mean ${s.mean}, std ${s.std}`);
      assert.equal(s.warning, undefined);
    }
    // a wrong normalisation of one channel: the static file's first band is off by 1000 std
    const mean = [...scene.norm.mean];
    const c = scene.dynamicBands;
    mean[c] = mean[c]! - 1000 * scene.norm.std[c]!;
    const said: string[] = [];
    const broken = await predict({ ...options(), out: join(scene.dir, `stats-bad-${dirs}.tif`), norm: { mean, std: scene.norm.std }, warn: (m) => said.push(m) });
    const flagged = broken.inputs.filter((s) => s.warning !== undefined);
    assert.equal(flagged.length, 1, said.join('\n'));
    assert.equal(flagged[0]!.file, scene.static[0]);
    assert.equal(flagged[0]!.band, 1);
    assert.match(said[0]!, new RegExp(`${scene.static[0]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} band 1 \\(model input c${c}\\) has a mean of (1000|999\\.\\d) after normalisation`));
  });

  test('--report: one self-contained page that Chromium renders with every image, the class areas and the statistics', { skip: needChromium() }, async () => {
    const o = options({ bandNames: ['water', 'forest', 'crop'] });
    const report = join(o.dir, 'run.html');
    const classes = join(o.dir, 'c.tif');
    const s = await predict({ ...o, classes, report });
    const html = readFileSync(report, 'utf8');
    for (const name of ['water', 'forest', 'crop']) assert.ok(html.includes(name), name);
    assert.ok(html.includes(scene.dynamic[0]!), 'the input drawn is named');
    for (const st of s.inputs) assert.ok(html.includes(`${st.file}`), `statistics of ${st.file}`);
    const probe = probePage(report, join(o.dir, 'probe.html'));
    assert.deepEqual(probe.errors, []);
    assert.equal(probe.images.length, 2);
    for (const img of probe.images) assert.ok(img.complete && img.width > 0 && img.height > 0, JSON.stringify(img));
    assert.deepEqual(readdirSync(o.dir).filter((f) => f.includes('tilecast')), []);
  });

  test('the class map alone: --out is optional; a model with more than 255 classes, bad colours and clashing paths are refused', async () => {
    const o = options();
    const classes = join(o.dir, 'c.tif');
    const s = await predict({ ...o, classes });
    assert.equal(s.out, classes);
    await assert.rejects(predict({ ...options(), classes: join(o.dir, 'x.tif'), colors: '#ff0000,#00ff00' }), (e: unknown) => e instanceof UsageError && /--colors lists 2 colour\(s\) for 3 classes/.test(e.message));
    await assert.rejects(predict({ ...options(), out: classes, classes }), (e: unknown) => e instanceof UsageError && /must be different files/.test(e.message));
    await assert.rejects(predict({ ...options() }), (e: unknown) => e instanceof UsageError && /--out or --classes is required/.test(e.message));
    assert.deepEqual(defaultPalette(3).length, 3);
  });
});
