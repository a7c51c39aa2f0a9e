/** `tilecast predict` as a user runs it: JSON summary, exit codes, --config with flags over it, --dry-run. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { predict } from '../../src/pipeline/predict.js';
import { REPO_ROOT } from '../helpers/env.js';
import { makeScene, readOutput, utmPolygon, type PxPolygon, type Scene, writeDemoModel } from './fixtures.js';
import { origins, regionWindow } from './reference.js';

const MAIN = join(REPO_ROOT, 'src', 'cli', 'main.ts');

function tilecast(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], { encoding: 'utf8', cwd: REPO_ROOT });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const POLYGON: PxPolygon = [[[4.6, 3.2], [150.3, 20.8], [90.4, 60.1], [140.7, 110.6], [10.2, 100.9]]];

let scene: Scene;
let model: string;
let region: string;
let inputs: string[];

before(async () => {
  scene = await makeScene({ width: 160, height: 120, T: 2, seed: 3 });
  model = writeDemoModel(scene, 4, 2);
  region = scene.write('region.geojson', JSON.stringify(utmPolygon(POLYGON)));
  inputs = ['--model', model, '--dynamic', ...scene.dynamic, '--static', ...scene.static, '--region', region, '--region-crs', 'EPSG:32633'];
});

after(() => scene.cleanup());

function folder(name: string): string {
  const d = join(scene.dir, name);
  mkdirSync(d);
  return d;
}

describe('tilecast predict', () => {
  test('--json prints the summary and exits 0; the file is the one the library writes', async () => {
    const d = folder('json');
    const out = join(d, 'cli.tif');
    const r = tilecast('predict', ...inputs, '--out', out, '--tile', '32', '--stride', '16', '--batch-size', '8', '--block-size', '32', '--json');
    assert.equal(r.code, 0, r.err);
    const s = JSON.parse(r.out);
    assert.equal(s.out, out);
    assert.equal(s.dryRun, false);
    assert.equal(s.batchSize, 8);
    assert.equal(s.outBands, 2);
    assert.deepEqual(s.window, regionWindow([POLYGON], scene.width, scene.height));
    assert.ok(s.tiles.computed > 0 && s.tiles.computed === s.tiles.total - s.tiles.skipped);
    assert.equal(s.nonFinite, 0);
    assert.deepEqual(readdirSync(d).sort(), ['cli.tif', 'cli.tif.aux.xml']);
    const lib = join(d, 'lib.tif');
    await predict({
      model, dynamic: scene.dynamic, static: scene.static, region, regionCrs: 'EPSG:32633', out: lib,
      tile: 32, stride: 16, batchSize: 8, blockSize: 32, worker: false,
    });
    assert.ok(readFileSync(out).equals(readFileSync(lib)), 'CLI and library outputs differ');
  });

  test('a bad flag value exits 2 with one line naming the flag', () => {
    const d = folder('bad-flag');
    const out = join(d, 'out.tif');
    const cases: [string[], RegExp][] = [
      [['--stride', 'abc'], /^tilecast: error: --stride expects a number, got 'abc'\n$/],
      [['--batch-size=-3'], /^tilecast: error: --batch-size must be an integer from 1 to 4096 \(tiles per forward pass\), got -3\n$/],
      [['--layout', 'NHWC'], /^tilecast: error: --layout must be NTCHW or NCHW, got 'NHWC'\n$/],
      [['--bogus'], /^tilecast: error: predict: .*--bogus.*\n$/],
    ];
    for (const [flags, message] of cases) {
      const r = tilecast('predict', ...inputs, '--out', out, '--tile', '32', ...flags);
      assert.equal(r.code, 2, `${flags.join(' ')}: ${r.err}`);
      assert.match(r.err, message);
      assert.equal(r.out, '');
    }
    const missing = tilecast('predict', '--model', model, '--out', out);
    assert.equal(missing.code, 2);
    assert.match(missing.err, /^tilecast: error: predict: --dynamic is required; see tilecast predict --help\n$/);
    assert.deepEqual(readdirSync(d), []);
  });

  test('negative values after a flag: --output-nodata -9999 --fill -1', () => {
    const d = folder('negative');
    const out = join(d, 'out.tif');
    const r = tilecast('predict', ...inputs, '--out', out, '--tile', '32', '--output-nodata', '-9999', '--fill', '-1', '--json');
    assert.equal(r.code, 0, r.err);
    assert.equal(JSON.parse(r.out).out, out);
  });

  test('a runtime error exits 1 with one line naming the file, no stack', () => {
    const d = folder('runtime');
    const gone = join(scene.dir, 'gone.tif');
    const r = tilecast('predict', '--model', model, '--dynamic', scene.dynamic[0]!, gone, '--static', ...scene.static, '--region', region, '--region-crs', 'EPSG:32633', '--out', join(d, 'out.tif'), '--tile', '32');
    assert.equal(r.code, 1);
    assert.equal(r.err, `tilecast: error: ${gone}: file not found; check the path\n`);
    assert.deepEqual(readdirSync(d), []);
  });

  test('paths in a --config file are relative to its folder; an error about one says it came from there', () => {
    const d = folder('config-relative');
    const rel = (f: string) => relative(d, f);
    const config = join(d, 'run.json');
    writeFileSync(config, JSON.stringify({
      model: rel(model), dynamic: scene.dynamic.map(rel), static: scene.static.map(rel), region: rel(region), regionCrs: 'EPSG:32633',
      classes: 'classes.tif', tile: 32, stride: 16, bandNames: ['a', 'b'],
    }));
    const r = tilecast('predict', '--config', config, '--cog', '--quiet');
    assert.equal(r.code, 0, r.err);
    assert.ok(existsSync(join(d, 'classes.tif')), 'the class map is written beside the config, not in the working folder');
    writeFileSync(config, JSON.stringify({ model: rel(model), dynamic: ['no-such-t0.tif'], region: rel(region), classes: 'c2.tif', tile: 32 }));
    const bad = tilecast('predict', '--config', config);
    assert.equal(bad.code, 1);
    assert.match(bad.err, new RegExp(`^tilecast: error: ${join(d, 'no-such-t0.tif').replace(/[.*+?^\${}()|[\]\\]/g, '\\$&')}: file not found; check the path \\(from --config ${config.replace(/[.*+?^\${}()|[\]\\]/g, '\\$&')}: its paths are relative to its folder\\)\n$`));
  });

  test('--config run.json, flags override it', async () => {
    const d = folder('config');
    const fromConfig = join(d, 'from-config.tif');
    const fromFlag = join(d, 'from-flag.tif');
    const config = join(d, 'run.json');
    writeFileSync(config, JSON.stringify({
      model, dynamic: scene.dynamic, static: scene.static, region, regionCrs: 'EPSG:32633', out: fromConfig,
      tile: 32, stride: 16, batchSize: 4, bandNames: ['a', 'b'],
    }));
    const r = tilecast('predict', '--config', config, '--out', fromFlag, '--batch-size', '8', '--stride', '32', '--json');
    assert.equal(r.code, 0, r.err);
    const s = JSON.parse(r.out);
    assert.equal(s.out, fromFlag);
    assert.equal(s.batchSize, 8);
    const w = regionWindow([POLYGON], scene.width, scene.height);
    assert.equal(s.tiles.total, origins(w.width, 32, 32).length * origins(w.height, 32, 32).length, 'stride 32 from the flag');
    assert.ok(!existsSync(fromConfig));
    assert.deepEqual((await readOutput(fromFlag)).bandDescriptions, ['a', 'b'], '--band-names from the config');
    assert.deepEqual(readdirSync(d).sort(), ['from-flag.tif', 'from-flag.tif.aux.xml', 'run.json']);

    const bad = join(d, 'bad.json');
    writeFileSync(bad, '[1, 2]');
    const b = tilecast('predict', '--config', bad);
    assert.equal(b.code, 2);
    assert.match(b.err, new RegExp(`--config ${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not a JSON object`));
  });

  test('--config with a misspelt key or a wrong type: exit 2 naming the key', () => {
    const d = folder('config-bad');
    const good = { model, dynamic: scene.dynamic, static: scene.static, region, regionCrs: 'EPSG:32633', out: join(d, 'out.tif'), tile: 32 };
    for (const [key, config] of [['batch_size', { ...good, batch_size: 4 }], ['dynamic', { ...good, dynamic: scene.dynamic[0] }]] as const) {
      const file = join(d, `${key}.json`);
      writeFileSync(file, JSON.stringify(config));
      const r = tilecast('predict', '--config', file, '--json');
      assert.equal(r.code, 2, r.err);
      assert.ok(r.err.includes(key) && r.err.includes(file), r.err);
    }
  });

  test('--dry-run prints the tile counts and writes nothing', async () => {
    const d = folder('dry');
    const out = join(d, 'out.tif');
    const r = tilecast('predict', ...inputs, '--out', out, '--tile', '32', '--stride', '16', '--dry-run');
    assert.equal(r.code, 0, r.err);
    const s = await predict({ model, dynamic: scene.dynamic, static: scene.static, region, regionCrs: 'EPSG:32633', out, tile: 32, stride: 16, dryRun: true, worker: false });
    assert.equal(s.dryRun, true);
    const w = regionWindow([POLYGON], scene.width, scene.height);
    assert.equal(s.tiles.total, origins(w.width, 32, 16).length * origins(w.height, 32, 16).length);
    assert.match(r.out, new RegExp(`^plan: window ${w.width} x ${w.height} at \\(${w.x}, ${w.y}\\); ${s.tiles.total - s.tiles.skipped} tiles to compute, ${s.tiles.skipped} skipped \\(outside the region\\) of ${s.tiles.total}\\n`));
    assert.match(r.out, /batch size 16, 2 output band\(s\), 0 stacking thread\(s\); estimated peak memory \d+ MB: batches \d+ MB, input blocks \d+ MB/);
    assert.match(r.out, /^chunks: 1 x 1 of 2048 px \(1\); \d+ tile computations, 0.0 % more than tiles for the chunk borders$/m);
    assert.deepEqual(readdirSync(d), []);
  });
});
