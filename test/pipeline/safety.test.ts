/**
 * Never destructive: an output that names an input (by any path, hard or symbolic link), a device
 * or another non-regular file is refused before anything is read; a symbolic link is written
 * through; every numeric option is checked against its real limit before any file is opened;
 * a run whose memory estimate exceeds the machine is refused; the region is clipped to the
 * raster before it is projected; a self-crossing region is warned about.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, linkSync, lstatSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { identityModel } from '../../scripts/models/identity.js';
import { OutputError, RegionError, TilecastError, UsageError } from '../../src/errors.js';
import { predict, type PredictOptions } from '../../src/pipeline/predict.js';
import { convert } from '../../src/write/convert.js';
import { REPO_ROOT } from '../helpers/env.js';
import { makeScene, readOutput, tempFiles, utmPolygon, type Scene } from './fixtures.js';

const MAIN = join(REPO_ROOT, 'src', 'cli', 'main.ts');

function tilecast(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], { encoding: 'utf8', cwd: REPO_ROOT });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

let scene: Scene;
let model: string;
let region: string;
let norm: string;
let dirs = 0;

before(async () => {
  scene = await makeScene({ width: 120, height: 100, T: 2, seed: 11 });
  model = scene.write('identity.onnx', identityModel({ T: scene.T, C: scene.C, channels: [[0, 0], [1, 2]] }));
  region = scene.write('region.geojson', JSON.stringify(utmPolygon([[[5.5, 4.5], [110.2, 8.7], [90.3, 95.1], [8.8, 80.4]]])));
  norm = scene.write('norm.json', JSON.stringify(scene.norm));
});

after(() => scene.cleanup());

function base(extra: Partial<PredictOptions> = {}): PredictOptions {
  const dir = join(scene.dir, `run-${dirs++}`);
  mkdirSync(dir);
  return {
    model, dynamic: scene.dynamic, static: scene.static, region, regionCrs: 'EPSG:32633', out: join(dir, 'out.tif'),
    tile: 32, stride: 16, batchSize: 4, worker: false, ...extra,
  };
}

async function rejects(p: Promise<unknown>, cls: new (...a: never[]) => TilecastError, ...parts: string[]): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${String(e)}`);
    for (const part of parts) assert.ok(e.message.includes(part), `${JSON.stringify(e.message)} should include ${JSON.stringify(part)}`);
    assert.ok(!e.message.includes('\n'), 'one line');
    return true;
  });
}

describe('an output that would destroy an input is refused before anything is read', () => {
  const inputs = (): [string, string][] => [
    [scene.dynamic[1]!, '--dynamic'], [scene.static[0]!, '--static'], [region, '--region'], [model, '--model'], [norm, '--norm'],
  ];

  test('the same path, a relative spelling, a hard link and a symbolic link to each input', async () => {
    for (const [input, flag] of inputs()) {
      const before = readFileSync(input);
      const o = base({ norm });
      const hard = join(scene.dir, `hard-${dirs}.bin`);
      linkSync(input, hard);
      const soft = join(scene.dir, `soft-${dirs}.tif`);
      symlinkSync(input, soft);
      for (const out of [input, relative(process.cwd(), join(scene.dir, '.', 'x', '..', relative(scene.dir, input))), hard, soft]) {
        await rejects(predict({ ...o, out }), OutputError, input, flag, 'would destroy it');
      }
      assert.ok(readFileSync(input).equals(before), `${input} is unchanged`);
      assert.deepEqual(tempFiles(scene.dir), [], 'no temporary file');
    }
  });

  test('the CLI exits 1 naming the input; the input is intact', () => {
    const before = readFileSync(scene.static[0]!);
    const r = tilecast('predict', '--model', model, '--dynamic', ...scene.dynamic, '--static', ...scene.static, '--region', region,
      '--region-crs', 'EPSG:32633', '--tile', '32', '--out', scene.static[0]!);
    assert.equal(r.code, 1, r.err);
    assert.match(r.err, /^tilecast: error: --out .* is the input .* \(--static\): writing there would destroy it; choose another output path\n$/);
    assert.ok(readFileSync(scene.static[0]!).equals(before));
  });

  test('convert refuses to overwrite its input', async () => {
    const input = scene.dynamic[0]!;
    const before = readFileSync(input);
    await rejects(convert(input, input), OutputError, input, 'would destroy it');
    assert.ok(readFileSync(input).equals(before));
  });
});

describe('outputs that are not regular files', () => {
  test('a device, a named pipe and a folder are refused; the device stays a device', async () => {
    const fifo = join(scene.dir, 'pipe');
    execFileSync('mkfifo', [fifo]);
    await rejects(predict(base({ out: '/dev/null' })), OutputError, '/dev/null', 'is a device');
    await rejects(predict(base({ out: fifo })), OutputError, fifo, 'is a named pipe');
    await rejects(convert(scene.dynamic[0]!, '/dev/null'), OutputError, 'is a device');
    assert.ok(lstatSync('/dev/null').isCharacterDevice(), '/dev/null is still a device');
    assert.ok(lstatSync(fifo).isFIFO());
  });

  test('a symbolic link is written through: the link stays and its target holds the output', async () => {
    const o = base();
    const target = join(scene.dir, `target-${dirs}.tif`);
    writeFileSync(target, 'old');
    const link = join(scene.dir, `link-${dirs}.tif`);
    symlinkSync(target, link);
    await predict({ ...o, out: link });
    assert.ok(lstatSync(link).isSymbolicLink(), 'still a link');
    const viaLink = await readOutput(link);
    const direct = await readOutput(target);
    assert.deepEqual([viaLink.width, viaLink.height], [direct.width, direct.height]);
    assert.ok(viaLink.width > 0);
  });

  test('a dangling symbolic link is refused', async () => {
    const link = join(scene.dir, 'dangling.tif');
    symlinkSync(join(scene.dir, 'nowhere', 'x.tif'), link);
    await rejects(predict(base({ out: link })), OutputError, link, 'does not exist');
  });
});

describe('numeric options are checked against their real limits before any file is opened', () => {
  test('the CLI exits 2 with the flag and its limit, even when the inputs do not exist', () => {
    const missing = ['--model', 'no.onnx', '--dynamic', 'no.tif', '--region', 'no.geojson', '--out', join(scene.dir, 'x.tif')];
    const cases: [string[], RegExp][] = [
      [['--queue-depth', '1000000'], /--queue-depth must be an integer from 1 to 64 .*got 1000000/],
      [['--threads', '100000'], /--threads must be an integer from 0 to \d+ .*got 100000/],
      [['--batch-size', '1e9'], /--batch-size must be an integer from 1 to 4096 .*got 1000000000/],
      [['--tile', '100000'], /--tile must be an integer from 1 to 8192 .*got 100000/],
      [['--workers', '-1'], /--workers must be an integer from 0 to \d+ .*got -1/],
      [['--block-size', '1000000'], /--block-size must be an integer from 16 to 65536 .*got 1000000/],
      [['--block-size', '40'], /--block-size must be a multiple of 16 .*got 40/],
      [['--stride', '200', '--tile', '64'], /--stride must be an integer from 1 to 64 .*got 200/],
      [['--batch-size', '1e9', '--dry-run'], /--batch-size must be an integer from 1 to 4096/],
    ];
    for (const [flags, message] of cases) {
      const r = tilecast('predict', ...missing, ...flags);
      assert.equal(r.code, 2, `${flags.join(' ')}: ${r.err}`);
      assert.match(r.err, message);
      assert.equal(r.err.split('\n').length, 2, 'one line');
    }
  });

  test('a run whose memory estimate exceeds the available memory is refused with the estimate and the option to change', async () => {
    // 4 tiles of 8192² fit one buffer; 65 such buffers (queue depth 64) fit no test machine
    const o = base({ tile: 8192, stride: 8192, batchSize: 4, queueDepth: 64 });
    await rejects(predict(o), UsageError, 'of memory but', 'available', '--batch-size 4', '--queue-depth 64');
    await rejects(predict({ ...o, batchSize: 4096, queueDepth: 1 }), UsageError, 'more than one buffer can hold', '--batch-size');
    await rejects(predict({ ...o, dryRun: true }), UsageError, 'of memory but');
  });
});

describe('regions', () => {
  test('a whole-world region over a UTM raster covers the whole raster', async () => {
    const world = { type: 'Polygon', coordinates: [[[-180, -90], [180, -90], [180, 90], [-180, 90], [-180, -90]]] };
    const o = base({ region: world, regionCrs: null });
    const s = await predict(o);
    assert.deepEqual(s.window, { x: 0, y: 0, width: scene.width, height: scene.height });
    assert.equal(s.tiles.skipped, 0);
    const out = await readOutput(o.out!);
    assert.ok(out.bands[0]!.every((v, i) => !Number.isNaN(v) || !scene.isValid(0, scene.channel(0, 0)[i]!)), 'every pixel is in the region');
  });

  test('a region far away from the raster is refused as not overlapping, naming the region', async () => {
    const far = { type: 'Polygon', coordinates: [[[100, 10], [101, 10], [101, 11], [100, 11], [100, 10]]] };
    await rejects(predict(base({ region: far, regionCrs: null })), RegionError, 'does not overlap');
  });

  test('a bow-tie is warned about, naming the polygon and where it crosses', async () => {
    const bowtie = utmPolygon([[[10.5, 10.5], [100.5, 90.5], [100.5, 10.5], [10.5, 90.5], [10.5, 10.5]]]);
    const warnings: string[] = [];
    const s = await predict(base({ region: bowtie, warn: (m) => warnings.push(m) }));
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0]!, /polygon 1 crosses itself near \[.*\]; .* ogr2ogr -makevalid/);
    assert.deepEqual(s.warnings, warnings);
    const clean: string[] = [];
    await predict(base({ warn: (m) => clean.push(m) }));
    assert.deepEqual(clean, [], 'a simple polygon gives no warning');
  });
});

test('no stray files were left in the scene folder', () => {
  assert.deepEqual(readdirSync(scene.dir).filter((f) => f.includes('tilecast-tmp')), []);
  assert.ok(existsSync(scene.dynamic[0]!));
});
