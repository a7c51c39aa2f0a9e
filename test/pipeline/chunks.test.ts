/**
 * Chunked runs: the output's bytes do not depend on the chunk size, the order chunks run in, the
 * batch size or the split into shards; a run killed at any point (decode, inference, blending,
 * writing, between the disk sync and the journal, after an output is complete but before it is renamed) resumes to the same bytes, recomputing at most
 * the chunk it was in; leftovers and changed inputs are reported, never silently reused.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { prng } from '../../scripts/models/prng.js';
import { OutputError, UsageError } from '../../src/errors.js';
import { predict, type PredictOptions } from '../../src/pipeline/predict.js';
import type { PlanChunk } from '../../src/plan/plan.js';
import { merge } from '../../src/write/merge.js';
import { REPO_ROOT } from '../helpers/env.js';
import { makeScene, utmPolygon, type Scene, writeDemoModel } from './fixtures.js';

const MAIN = join(REPO_ROOT, 'src', 'cli', 'main.ts');
const SEED = Number(process.env.TILECAST_SEED ?? Math.floor(Math.random() * 2 ** 31));

let scene: Scene;
let model: string;
let region: string;
let reference: Buffer;
let dirs = 0;

/** A polygon with a hole over most of the scene: border tiles, skipped tiles and empty chunks. */
const POLYGON: [number, number][][] = [
  [[6.5, 4.5], [290.2, 12.7], [270.3, 210.1], [140.5, 150.5], [12.8, 205.4], [6.5, 4.5]],
  [[100.5, 60.5], [160.5, 60.5], [130.5, 110.5], [100.5, 60.5]],
];

function folder(): string {
  const d = join(scene.dir, `chunks-${dirs++}`);
  mkdirSync(d);
  return d;
}

function options(extra: Partial<PredictOptions> = {}): PredictOptions {
  return {
    model, dynamic: scene.dynamic, static: scene.static, region, regionCrs: 'EPSG:32633', out: join(folder(), 'out.tif'),
    tile: 32, stride: 16, batchSize: 16, blockSize: 32, worker: false, workers: 0, ...extra,
  };
}

before(async () => {
  scene = await makeScene({ width: 300, height: 220, T: 2, seed: 31 });
  model = writeDemoModel(scene, 5);
  region = scene.write('region.geojson', JSON.stringify(utmPolygon(POLYGON)));
  // the unchunked-equivalent run: one chunk holds the whole window
  const o = options({ chunk: 4096 });
  const s = await predict(o);
  assert.equal(s.chunks.total, 1);
  reference = readFileSync(o.out!);
});

after(() => scene.cleanup());

function shuffled<T>(a: readonly T[], seed: number): T[] {
  const r = prng(seed);
  const out = [...a];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe('the output does not depend on how the window is cut into chunks', () => {
  for (const [chunk, batchSize] of [[32, 1], [64, 16], [128, 1], [256, 16], [2048, 1]] as const) {
    test(`chunk ${chunk}, batch size ${batchSize}, chunks in shuffled order (seed ${SEED})`, async () => {
      const o = options({ chunk, batchSize, chunkOrder: (c) => shuffled(c, SEED + chunk) });
      const s = await predict(o);
      assert.ok(readFileSync(o.out!).equals(reference), `chunk ${chunk}: the bytes differ from the unchunked run (replay with TILECAST_SEED=${SEED})`);
      assert.equal(s.chunks.size, chunk);
      assert.equal(s.tiles.computed, s.chunks.tileComputations);
      if (chunk < 128) assert.ok(s.chunks.tileComputations > s.tiles.planned, 'border tiles are computed by every chunk they touch');
      assert.equal(s.blocksDecoded, s.blocksMinimum, 'each block decoded once per chunk');
    });
  }

  test('with a pool of stacking workers too', async () => {
    const o = options({ chunk: 64, workers: 2, batchSize: 7 });
    await predict(o);
    assert.ok(readFileSync(o.out!).equals(reference));
  });

  test('a chunk order that drops, repeats or invents a chunk is refused before anything is written', async () => {
    const bad = [
      (c: readonly PlanChunk[]) => c.slice(1),
      (c: readonly PlanChunk[]) => [c[0]!, ...c.slice(0, -1)],
      (c: readonly PlanChunk[]) => [{ ...c[0]! }, ...c.slice(1)],
    ];
    for (const chunkOrder of bad) {
      const o = options({ chunk: 64, chunkOrder });
      await assert.rejects(predict(o), (e: unknown) => e instanceof UsageError && /chunkOrder must return the chunks it is given, each once/.test(e.message));
      assert.equal(existsSync(o.out!), false);
    }
  });
});

describe('shards and merge', () => {
  test('three shards merged give the bytes of a single run; each shard writes only its part', async () => {
    const d = folder();
    const out = join(d, 'pred.tif');
    const summaries = [];
    for (const i of [2, 0, 1]) summaries.push(await predict(options({ chunk: 64, out, shard: `${i}/3` })));
    const parts = ['pred.part-0-of-3.tif', 'pred.part-1-of-3.tif', 'pred.part-2-of-3.tif'];
    assert.deepEqual(readdirSync(d).filter((f) => f.endsWith('.tif')).sort(), parts);
    assert.equal(summaries.reduce((a, s) => a + s.chunks.selected, 0), summaries[0]!.chunks.total, 'every chunk in one shard');
    const tiles = summaries.map((s) => s.tiles.computed);
    assert.ok(Math.max(...tiles) - Math.min(...tiles) <= Math.max(...tiles) / 2, `balanced shards: ${tiles.join(', ')} tiles`);
    const merged = join(d, 'merged.tif');
    await merge(parts.map((p) => join(d, p)), merged);
    assert.ok(readFileSync(merged).equals(reference), 'merged bytes equal the single run');
    // a shard run again overwrites its own part only
    const before = parts.map((p) => readFileSync(join(d, p)));
    await predict(options({ chunk: 64, out, shard: '1/3' }));
    parts.forEach((p, i) => assert.ok(readFileSync(join(d, p)).equals(before[i]!), `${p} is the same after shard 1 ran again`));
  });

  test('a missing part, a part of another run and a duplicate are refused with no output', async () => {
    const d = folder();
    const out = join(d, 'pred.tif');
    for (const i of [0, 1, 2, 3]) await predict(options({ chunk: 64, out, shard: `${i}/4` }));
    const other = join(d, 'other.tif');
    await predict(options({ chunk: 64, out: other, shard: '3/4', blend: 'cosine' }));
    const part = (i: number) => join(d, `pred.part-${i}-of-4.tif`);
    const merged = join(d, 'merged.tif');
    await assert.rejects(merge([part(0), part(2), part(3)], merged), (e: unknown) => e instanceof UsageError && /shard\(s\) 1 of 4 are missing/.test(e.message));
    await assert.rejects(merge([part(0), part(1), part(2), join(d, 'other.part-3-of-4.tif')], merged), (e: unknown) => e instanceof UsageError && /is a part of another run/.test(e.message));
    await assert.rejects(merge([part(0), part(1), part(2), part(2)], merged), (e: unknown) => e instanceof UsageError && /both shard 2\/4/.test(e.message));
    await assert.rejects(merge([region], merged));
    assert.equal(existsSync(merged), false);
    await merge([3, 1, 0, 2].map(part), merged);
    assert.ok(readFileSync(merged).equals(reference));
  });

  test('--shard checks its value and can take the index from the job engine', async () => {
    for (const [shard, pattern] of [['3/3', /task index must be an integer from 0 to 2/], ['1/0', /number of tasks must be/], ['x', /must be I\/N/], ['auto', /no array index in the environment/]] as const) {
      await assert.rejects(predict(options({ shard })), (e: unknown) => e instanceof UsageError && pattern.test(e.message), shard);
    }
    const { parseShard } = await import('../../src/pipeline/shards.js');
    assert.deepEqual(parseShard('auto', { SLURM_ARRAY_TASK_ID: '5', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_COUNT: '8' }), { index: 4, count: 8 });
    assert.deepEqual(parseShard('auto/6', { JOB_COMPLETION_INDEX: '2' }), { index: 2, count: 6 });
    assert.deepEqual(parseShard('auto/3', { AWS_BATCH_JOB_ARRAY_INDEX: '0' }), { index: 0, count: 3 });
  });

  test('each shard writes its own report; --cog goes to the merge, not the parts', async () => {
    const d = folder();
    const out = join(d, 'out.tif');
    const report = join(d, 'report.html');
    for (const i of [0, 1]) await predict(options({ chunk: 64, out, report, shard: `${i}/2` }));
    const files = readdirSync(d).sort();
    assert.deepEqual(files.filter((f) => f.endsWith('.html')), ['report.part-0-of-2.html', 'report.part-1-of-2.html']);
    for (const i of [0, 1]) assert.match(readFileSync(join(d, `report.part-${i}-of-2.html`), 'utf8'), new RegExp(`out\\.part-${i}-of-2\\.tif`));
    await assert.rejects(predict(options({ chunk: 64, out, shard: '0/2', cog: true })), (e: unknown) => e instanceof UsageError && /--cog with --shard: .*give --cog to the merge instead \(tilecast merge PARTS\.\.\. --out OUT --cog\)/.test(e.message));
  });
});

function cli(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], { encoding: 'utf8', cwd: REPO_ROOT, env: { ...process.env, ...env }, timeout: 120_000 });
  return { code: r.status, signal: r.signal, out: r.stdout, err: r.stderr };
}

describe('resume', () => {
  const args = (out: string) => [
    'predict', '--model', model, '--dynamic', ...scene.dynamic, '--static', ...scene.static, '--region', region, '--region-crs', 'EPSG:32633',
    '--tile', '32', '--stride', '16', '--block-size', '32', '--chunk', '64', '--batch-size', '5', '--workers', '0', '--out', out, '--json', '--quiet',
  ];

  test('killed at 12 seeded points, --resume gives the same bytes, recomputing at most the chunk in progress', async () => {
    const r = prng(SEED);
    // how often each point is passed in a whole run: tiles, batches, block rows, chunks, decodes
    const whole = await predict(options({ chunk: 64, batchSize: 5 }));
    const passes: Record<string, number> = { blend: whole.tiles.computed, infer: whole.batches, write: blockRows, synced: whole.chunks.total, decode: whole.blocksDecoded, close: 1 };
    const points = ['decode', 'infer', 'blend', 'write', 'synced', 'close'];
    for (let k = 0; k < 12; k++) {
      const point = points[k % points.length]!;
      const at = 1 + Math.floor(r() * Math.max(1, passes[point]! - 1));
      const d = folder();
      const out = join(d, 'out.tif');
      const killed = cli([...args(out), '--resume'], { TILECAST_FAILPOINT: `${point}:${at}` });
      assert.equal(killed.signal, 'SIGKILL', `${point}:${at} (seed ${SEED}): the run was not killed: ${killed.err}`);
      assert.equal(existsSync(out), false);
      const journal = readFileSync(join(d, '.out.tif.tilecast-journal'), 'utf8').trim().split('\n').slice(1).filter((l) => l.endsWith('}'));
      const resumed = cli([...args(out), '--resume']);
      assert.equal(resumed.code, 0, resumed.err);
      const s = JSON.parse(resumed.out);
      assert.equal(s.chunks.resumed, journal.length, 'the chunks in the journal are not computed again');
      assert.equal(s.chunks.computed + s.chunks.resumed, s.chunks.total);
      if (point === 'blend') {
        // tiles blended before the kill, less those of the chunks the journal kept: the chunk in progress
        const kept = journal.reduce((a, l) => a + chunkTiles[JSON.parse(l).chunk as number]!, 0);
        assert.ok(at - 1 - kept <= Math.max(...chunkTiles), `${at - 1 - kept} tiles recomputed, more than one chunk (${Math.max(...chunkTiles)})`);
        assert.equal(s.tiles.computed, whole.tiles.computed - kept, 'the resumed run computes the other chunks only');
      }
      assert.ok(readFileSync(out).equals(reference), `${point}:${at} (seed ${SEED}): the resumed output differs from an uninterrupted run`);
      assert.deepEqual(readdirSync(d).sort(), ['out.tif', 'out.tif.aux.xml'], 'no partial file, journal or lock left');
    }
  });

  /** Tiles of each chunk of the plan the CLI runs, and the block rows over all chunks. */
  let chunkTiles: number[] = [];
  let blockRows = 0;
  before(async () => {
    const { makePlan } = await import('../../src/plan/plan.js');
    const { parseRegion, regionToPixels } = await import('../../src/plan/region.js');
    const { crsFromEpsg } = await import('../../src/raster/crs.js');
    const px = regionToPixels(parseRegion(readFileSync(region, 'utf8'), region), { rasterCrs: crsFromEpsg(32633), regionCrs: crsFromEpsg(32633), geoTransform: scene.geoTransform });
    const plan = makePlan({ width: scene.width, height: scene.height, geoTransform: scene.geoTransform, region: px, tile: 32, stride: 16, blockSize: 32, chunkSize: 64 });
    chunkTiles = plan.chunks.list.map((c) => c.tiles.length);
    blockRows = plan.chunks.list.reduce((a, c) => a + c.rows.length, 0);
  });

  test('a leftover partial run is reported with its path and --resume; --resume with changed inputs is refused', async () => {
    const d = folder();
    const out = join(d, 'out.tif');
    const killed = cli(args(out), { TILECAST_FAILPOINT: 'synced:3' });
    assert.equal(killed.signal, 'SIGKILL');
    const again = cli(args(out));
    assert.equal(again.code, 1);
    assert.match(again.err, /^tilecast: error: .*out\.tif: a run that did not finish left .*\.out\.tif\.tilecast-partial \(2 of \d+ chunks complete\): continue it with --resume, or delete .* to start over\n$/);
    // a dynamic input rewritten since: refused, naming what changed
    const copy = join(d, 't1.tif');
    copyFileSync(scene.dynamic[1]!, copy);
    const changed = args(out).map((a) => (a === scene.dynamic[1] ? copy : a));
    const refused = cli([...changed, '--resume']);
    assert.equal(refused.code, 2, refused.err);
    assert.match(refused.err, /--resume: .* was started with other inputs, model or options \(inputs was .*\)/);
    const tile = cli([...args(out), '--resume', '--blend', 'cosine']);
    assert.equal(tile.code, 2);
    assert.match(tile.err, /TILECAST_BLEND was pyramid, now cosine/);
    utimesSync(copy, new Date(), new Date());
    const ok = cli([...args(out), '--resume']);
    assert.equal(ok.code, 0, ok.err);
    assert.ok(readFileSync(out).equals(reference));
  });

  test('killed between renaming one output and the next, --resume starts over with a warning and gives the same bytes', async () => {
    const ref = folder();
    await predict(options({ chunk: 64, batchSize: 5, out: join(ref, 'out.tif'), classes: join(ref, 'classes.tif') }));
    const d = folder();
    const out = join(d, 'out.tif');
    const both = [...args(out), '--classes', join(d, 'classes.tif'), '--resume'];
    const killed = cli(both, { TILECAST_FAILPOINT: 'close:2' });
    assert.equal(killed.signal, 'SIGKILL', killed.err);
    assert.ok(existsSync(out), 'the first output was renamed into place');
    const resumed = cli(both);
    assert.equal(resumed.code, 0, resumed.err);
    assert.match(resumed.err, /warning: --resume: .*out\.tif: the partial file .*\.out\.tif\.tilecast-partial is gone \(the run was stopped while its outputs were renamed into place\); starting over/);
    for (const f of ['out.tif', 'classes.tif']) assert.ok(readFileSync(join(d, f)).equals(readFileSync(join(ref, f))), f);
    assert.deepEqual(readdirSync(d).sort(), ['classes.tif', 'classes.tif.aux.xml', 'out.tif', 'out.tif.aux.xml']);
  });

  test('a live run\'s lock is refused; a stale one (process gone, heartbeat stopped, this process\'s recycled id) is taken over', async () => {
    const d = folder();
    const out = join(d, 'out.tif');
    const lock = join(d, '.out.tif.tilecast-lock');
    const gone = spawnSync(process.execPath, ['-e', '']).pid!; // a process id that just ended
    const old = new Date(Date.now() - 6 * 60_000);
    const cases: { holder: string; mtime?: Date; live: RegExp | null }[] = [
      { holder: `${process.ppid} ${hostname()}`, live: /another tilecast run \(process \d+, lock touched \d+ s ago\) is writing it/ },
      { holder: '4242 node-7.cluster', live: /another tilecast run \(process 4242 on node-7\.cluster, lock touched \d+ s ago\).*a lock untouched for 5 minutes is taken over/ },
      { holder: '4242 node-7.cluster', mtime: old, live: null },
      { holder: `${process.ppid} ${hostname()}`, mtime: old, live: null },
      { holder: `${gone} ${hostname()}`, live: null },
      { holder: `${process.pid} ${hostname()}`, live: null },
    ];
    for (const c of cases) {
      writeFileSync(lock, c.holder);
      if (c.mtime) utimesSync(lock, c.mtime, c.mtime);
      if (c.live) {
        await assert.rejects(predict(options({ out })), (e: unknown) => e instanceof OutputError && c.live!.test(e.message), c.holder);
        assert.deepEqual(readdirSync(d), ['.out.tif.tilecast-lock'], 'the live run\'s lock stays, nothing else is written');
        assert.equal(readFileSync(lock, 'utf8'), c.holder);
      } else {
        await predict(options({ out }));
        assert.ok(readFileSync(out).equals(reference), c.holder);
        assert.deepEqual(readdirSync(d).sort(), ['out.tif', 'out.tif.aux.xml'], `${c.holder}: the stale lock is gone`);
        rmSync(out);
        rmSync(`${out}.aux.xml`);
      }
    }
  });

  test('an interrupted run without --resume cleans up; with --resume it keeps what is complete', async () => {
    const d = folder();
    const out = join(d, 'out.tif');
    writeFileSync(join(d, 'keep.txt'), 'x');
    // a model that fails on its sixth batch
    const { ModelError } = await import('../../src/errors.js');
    let calls = 0;
    const backend = {
      info: { path: 'fake.onnx', device: 'cpu' as const, props: {}, inputs: [{ name: 'x', type: 'float32', shape: ['N', scene.T, scene.C, 32, 32] }], outputs: [{ name: 'y', type: 'float32', shape: ['N', 3, 32, 32] }] },
      run: async (input: Float32Array, dims: readonly number[]) => {
        if (++calls === 6) throw new ModelError('fake.onnx: failed');
        return { input, output: new Float32Array(dims[0]! * 3 * 32 * 32).fill(0.5), dims: [dims[0]!, 3, 32, 32] };
      },
      close: async () => {},
    };
    await assert.rejects(predict(options({ out, chunk: 64, batchSize: 5, backend, norm: scene.norm })), (e: unknown) => e instanceof ModelError);
    assert.deepEqual(readdirSync(d), ['keep.txt'], 'without --resume nothing is left');
    calls = 0;
    await assert.rejects(predict(options({ out, chunk: 64, batchSize: 5, backend, norm: scene.norm, resume: true })), (e: unknown) => e instanceof ModelError);
    assert.deepEqual(readdirSync(d).sort(), ['.out.tif.tilecast-journal', '.out.tif.tilecast-partial', 'keep.txt'], 'with --resume the partial run stays');
    await assert.rejects(predict(options({ out, chunk: 64 })), (e: unknown) => e instanceof OutputError && /--resume/.test(e.message));
  });
});
