/**
 * The signals a scheduler sends (SIGTERM from `timeout`, `docker stop`, Slurm and Kubernetes;
 * SIGHUP; Ctrl-C's SIGINT) stop every command the same way: exit 128 + the signal number, the
 * temporary file removed, an existing output untouched; a second signal during that cleanup
 * still leaves nothing behind.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { identityModel } from '../../scripts/models/identity.js';
import { prng } from '../../scripts/models/prng.js';
import { REPO_ROOT } from '../helpers/env.js';
import { makeScene, PIXEL, utmPolygon, writeRaster, X0, Y0, type Scene } from '../pipeline/fixtures.js';

const MAIN = join(REPO_ROOT, 'src', 'cli', 'main.ts');

let scene: Scene;
let predictArgs: string[];
let big: string;
let runs = 0;

before(async () => {
  // long enough that every run is still going when it is signalled: ~35000 tiles of one per batch
  scene = await makeScene({ width: 800, height: 800, T: 2, seed: 9 });
  const model = scene.write('identity.onnx', identityModel({ T: scene.T, C: scene.C, channels: [[0, 0]] }));
  const region = scene.write('region.geojson', JSON.stringify(utmPolygon([[[0, 0], [800, 0], [800, 800], [0, 800], [0, 0]]])));
  predictArgs = ['predict', '--model', model, '--dynamic', ...scene.dynamic, '--static', ...scene.static, '--region', region,
    '--region-crs', 'EPSG:32633', '--tile', '32', '--stride', '4', '--batch-size', '1'];
  // a 2048² float32 raster of noise for convert (deflate level 9 of noise takes seconds)
  const n = 2048;
  const rand = prng(3);
  const band = Float32Array.from({ length: n * n }, () => rand());
  big = join(scene.dir, 'big.tif');
  await writeRaster(big, { width: n, height: n, dataType: 'float32', bands: [band], geoTransform: [X0, PIXEL, 0, Y0, 0, -PIXEL], nodata: null, blockSize: 256 });
});

after(() => scene.cleanup());

/**
 * Start `tilecast args`, wait until its temporary file exists in `dir`, send the signals (the
 * second after `gap` ms), and resolve with the exit code and stderr.
 */
async function signalled(args: string[], dir: string, signals: NodeJS.Signals[], gap = 0): Promise<{ code: number | null; err: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let running = true;
  void exited.then(() => (running = false));
  const deadline = Date.now() + 60_000;
  while (running && !readdirSync(dir).some((f) => f.includes('.tilecast-')) && Date.now() < deadline) await sleep(5);
  assert.ok(running, `the command ended before it could be signalled: ${err}`);
  for (const [i, s] of signals.entries()) {
    if (i > 0) await sleep(gap);
    child.kill(s);
  }
  return { code: await exited, err };
}

function folderWithOldOutput(): { dir: string; out: string } {
  const dir = join(scene.dir, `signal-${runs++}`);
  mkdirSync(dir);
  const out = join(dir, 'out.tif');
  writeFileSync(out, 'the previous output');
  return { dir, out };
}

describe('predict stops cleanly on every signal a scheduler sends', () => {
  for (const [signal, code] of [['SIGTERM', 143], ['SIGHUP', 129], ['SIGINT', 130]] as const) {
    test(`${signal}: exit ${code}, no temporary file, the old output untouched`, async () => {
      const { dir, out } = folderWithOldOutput();
      const r = await signalled([...predictArgs, '--out', out], dir, [signal]);
      assert.equal(r.code, code, r.err);
      assert.match(r.err, new RegExp(`${signal} received`));
      assert.deepEqual(readdirSync(dir), ['out.tif'], 'only the old output');
      assert.equal(readFileSync(out, 'utf8'), 'the previous output');
    });
  }

  test('a second SIGINT during the cleanup still leaves nothing behind', async () => {
    const { dir, out } = folderWithOldOutput();
    const r = await signalled([...predictArgs, '--out', out], dir, ['SIGINT', 'SIGINT'], 1);
    assert.equal(r.code, 130, r.err);
    assert.deepEqual(readdirSync(dir), ['out.tif']);
    assert.equal(readFileSync(out, 'utf8'), 'the previous output');
  });
});

describe('two signals at any moment leave nothing behind', () => {
  const seed = Number(process.env.TILECAST_SEED ?? Math.floor(Math.random() * 2 ** 31));
  // from before the handlers are installed, through the lock, journal and partial file being
  // created, to the first batches: the second signal's cleanup must know every file that exists
  const rand = prng(seed);
  const moments = Array.from({ length: 6 }, () => [Math.floor(rand() * 2500), Math.floor(rand() * 4)] as const);
  test(`SIGINT twice at seeded moments after start (seed ${seed}): ${moments.map(([d, g]) => `${d}+${g} ms`).join(', ')}`, async () => {
    for (const [delay, gap] of moments) {
      const { dir, out } = folderWithOldOutput();
      const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...predictArgs, '--out', out, '--report', join(dir, 'r.html')], { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('exit', (code, signal) => resolve([code, signal])));
      await sleep(delay);
      child.kill('SIGINT');
      await sleep(gap);
      child.kill('SIGINT');
      const [code, signal] = await exited;
      // before tilecast's handlers are installed, the default action ends the process
      assert.ok(code === 130 || signal === 'SIGINT', `seed ${seed}, ${delay}+${gap} ms: exit ${code} ${signal}: ${err}`);
      assert.deepEqual(readdirSync(dir), ['out.tif'], `seed ${seed}, ${delay}+${gap} ms: only the old output`);
      assert.equal(readFileSync(out, 'utf8'), 'the previous output');
    }
  });
});

describe('with --resume, a signal keeps what is complete for the next run', () => {
  test('SIGTERM mid-run: exit 143, the partial output and journal stay; --resume finishes it', async () => {
    const dir = join(scene.dir, `signal-${runs++}`);
    mkdirSync(dir);
    const out = join(dir, 'out.tif');
    const args = [...predictArgs.map((a) => (a === '4' ? '16' : a)), '--chunk', '256', '--out', out, '--resume'];
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const journal = join(dir, '.out.tif.tilecast-journal');
    const deadline = Date.now() + 60_000;
    // wait for two complete chunks in the journal
    while (Date.now() < deadline && (!existsSync(journal) || readFileSync(journal, 'utf8').split('\n').length < 4)) await sleep(5);
    child.kill('SIGTERM');
    assert.equal(await exited, 143, err);
    assert.deepEqual(readdirSync(dir).sort(), ['.out.tif.tilecast-journal', '.out.tif.tilecast-partial']);
    const done = readFileSync(journal, 'utf8').trim().split('\n').length - 1;
    const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args, '--json', '--quiet'], { cwd: REPO_ROOT, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).chunks.resumed, done);
    assert.deepEqual(readdirSync(dir).sort(), ['out.tif', 'out.tif.aux.xml']);
  });
});

describe('convert stops cleanly too', () => {
  for (const [signal, code] of [['SIGTERM', 143], ['SIGINT', 130]] as const) {
    test(`${signal}: exit ${code}, no temporary file`, async () => {
      const { dir, out } = folderWithOldOutput();
      const r = await signalled(['convert', big, out, '--compress', 'deflate', '--level', '9', '--block', '64'], dir, [signal]);
      assert.equal(r.code, code, r.err);
      assert.deepEqual(readdirSync(dir), ['out.tif']);
      assert.equal(readFileSync(out, 'utf8'), 'the previous output');
    });
  }

  test('SIGINT twice in a row during convert leaves nothing', async () => {
    const { dir, out } = folderWithOldOutput();
    const r = await signalled(['convert', big, out, '--compress', 'deflate', '--level', '9', '--block', '64'], dir, ['SIGINT', 'SIGINT'], 0);
    assert.equal(r.code, 130, r.err);
    assert.deepEqual(readdirSync(dir), ['out.tif']);
  });
});
