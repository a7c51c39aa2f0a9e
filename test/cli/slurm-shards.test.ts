/**
 * Shards on a real job engine: a 4-task Slurm array job runs `tilecast predict --shard auto`
 * (each task takes its index and the task count from Slurm), `tilecast merge` joins the parts, and
 * the merged file has the bytes of a single-process run. Skipped where Slurm cannot run (not
 * Linux, not root); under CI a missing or failing Slurm fails instead.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { REPO_ROOT } from '../helpers/env.js';
import { needSlurm, trySlurm, type Cluster } from '../helpers/slurm.js';
import { makeScene, utmPolygon, type Scene, writeDemoModel } from '../pipeline/fixtures.js';

const MAIN = join(REPO_ROOT, 'src', 'cli', 'main.ts');

describe('shards as a Slurm array job', { skip: needSlurm() }, () => {
  let slurm: Cluster | string = 'not started';
  let scene: Scene;
  let args: string[];

  before(async () => {
    scene = await makeScene({ width: 300, height: 220, T: 2, seed: 41 });
    const model = writeDemoModel(scene, 3);
    const region = scene.write('region.geojson', JSON.stringify(utmPolygon([[[4.5, 3.5], [295.5, 9.5], [280.5, 215.5], [9.5, 210.5], [4.5, 3.5]]])));
    args = ['predict', '--model', model, '--dynamic', ...scene.dynamic, '--static', ...scene.static, '--region', region, '--region-crs', 'EPSG:32633',
      '--tile', '32', '--stride', '16', '--block-size', '32', '--chunk', '64', '--workers', '0', '--quiet'];
    slurm = await trySlurm();
  }, { timeout: 660_000 });

  after(async () => {
    if (typeof slurm !== 'string') await slurm.stop();
    scene?.cleanup();
  });

  test('4 shards from SLURM_ARRAY_TASK_ID, merged: the bytes of a single run', { timeout: 300_000 }, async (t) => {
    if (typeof slurm === 'string') return t.skip(slurm);
    const single = join(scene.dir, 'single.tif');
    const t0 = performance.now();
    const one = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args, '--out', single], { encoding: 'utf8', cwd: REPO_ROOT });
    const singleMs = performance.now() - t0;
    assert.equal(one.status, 0, one.stderr);

    const parts = join(scene.dir, 'parts');
    mkdirSync(parts);
    const quoted = [...args, '--out', join(parts, 'pred.tif'), '--shard', 'auto'].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
    const job = await slurm.runArray({ tasks: 4, workdir: parts, script: `set -eu\ncd '${REPO_ROOT}'\n'${process.execPath}' --import tsx '${MAIN}' ${quoted}` });
    t.diagnostic(`single process: ${singleMs.toFixed(0)} ms; 4 shards as Slurm job ${job.jobId}: ${job.elapsedMs} ms from sbatch to the end (2 cores: no speed-up is expected)`);
    for (const task of job.tasks) assert.equal(task.exitCode, 0, `task ${task.index}: ${readFileSync(task.stderr, 'utf8')}`);
    const files = readdirSync(parts).filter((f) => f.endsWith('.tif')).sort();
    assert.deepEqual(files, [0, 1, 2, 3].map((i) => `pred.part-${i}-of-4.tif`), 'each task wrote its own part');

    const merged = join(scene.dir, 'merged.tif');
    const m = spawnSync(process.execPath, ['--import', 'tsx', MAIN, 'merge', ...files.map((f) => join(parts, f)), '--out', merged], { encoding: 'utf8', cwd: REPO_ROOT });
    assert.equal(m.status, 0, m.stderr);
    assert.ok(readFileSync(merged).equals(readFileSync(single)), 'the merged file has the bytes of the single run');

    // without part 2, merge names it and writes nothing
    const missing = spawnSync(process.execPath, ['--import', 'tsx', MAIN, 'merge', ...files.filter((f) => !f.includes('-2-')).map((f) => join(parts, f)), '--out', join(scene.dir, 'm2.tif')], { encoding: 'utf8', cwd: REPO_ROOT });
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /shard\(s\) 2 of 4 are missing/);
  });
});
