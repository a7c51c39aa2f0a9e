/**
 * The job engine the shard tests run on: a private single-node Slurm cluster comes up, runs a real
 * array job (each task sees its own SLURM_ARRAY_TASK_ID and the SLURM_ARRAY_TASK_COUNT that
 * `tilecast predict --shard` reads), reports every task's exit status and output files, and goes
 * away without leaving a daemon behind. Skipped where Slurm cannot run (not Linux, not root);
 * under CI a missing or failing Slurm fails instead.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { clusterProcesses, needSlurm, trySlurm, type Cluster } from '../helpers/slurm.js';

describe('slurm engine', { skip: needSlurm() }, () => {
  let slurm: Cluster | string = 'not started';
  let work: string;

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'tilecast-slurm-work-'));
    slurm = await trySlurm();
  }, { timeout: 660_000 });

  after(async () => {
    if (typeof slurm !== 'string') await slurm.stop();
    rmSync(work, { recursive: true, force: true });
  });

  test('the cluster is up: its three daemons run', (t) => {
    if (typeof slurm === 'string') return t.skip(slurm);
    const running = clusterProcesses(slurm.dir).map((p) => p.pid).sort((a, b) => a - b);
    const { munged, slurmctld, slurmd } = slurm.pids;
    assert.deepEqual(running, [munged, slurmctld, slurmd].sort((a, b) => a - b));
  });

  test('a 4-task array job: every task sees its index and the task count', { timeout: 180_000 }, async (t) => {
    if (typeof slurm === 'string') return t.skip(slurm);
    const dir = join(work, 'array');
    const job = await slurm.runArray({
      tasks: 4,
      workdir: dir,
      env: { TILECAST_TEST_TOKEN: 'passed-through' },
      script: [
        'set -eu',
        'echo "$SLURM_ARRAY_TASK_ID $SLURM_ARRAY_TASK_COUNT $TILECAST_TEST_TOKEN" > "task-$SLURM_ARRAY_TASK_ID.txt"',
        'echo "task $SLURM_ARRAY_TASK_ID says hello"',
        'echo "task $SLURM_ARRAY_TASK_ID complains" >&2',
      ].join('\n'),
    });
    t.diagnostic(`4-task array job ${job.jobId}: ${job.elapsedMs} ms from sbatch to the end of --wait`);
    assert.equal(job.sbatchExitCode, 0);
    assert.equal(job.tasks.length, 4);
    for (const task of job.tasks) {
      const i = task.index;
      assert.equal(task.state, 'COMPLETED', `task ${i}`);
      assert.equal(task.exitCode, 0, `task ${i}`);
      assert.equal(readFileSync(join(dir, `task-${i}.txt`), 'utf8'), `${i} 4 passed-through\n`);
      assert.equal(readFileSync(task.stdout, 'utf8'), `task ${i} says hello\n`);
      assert.equal(readFileSync(task.stderr, 'utf8'), `task ${i} complains\n`);
    }
  });

  test('each task reports its own exit status', { timeout: 180_000 }, async (t) => {
    if (typeof slurm === 'string') return t.skip(slurm);
    const job = await slurm.runArray({ tasks: 3, workdir: join(work, 'exits'), script: 'exit $((SLURM_ARRAY_TASK_ID * 2))' });
    assert.deepEqual(job.tasks.map((x) => [x.exitCode, x.state]), [[0, 'COMPLETED'], [2, 'FAILED'], [4, 'FAILED']]);
    assert.equal(job.sbatchExitCode, 4, 'sbatch --wait exits with the highest task status');
  });

  test('a job that runs past its timeout is cancelled and reported', { timeout: 180_000 }, async (t) => {
    if (typeof slurm === 'string') return t.skip(slurm);
    await assert.rejects(
      slurm.runArray({ tasks: 2, workdir: join(work, 'slow'), script: 'sleep 600', timeoutMs: 3_000 }),
      /did not finish within 3000 ms; cancelled/,
    );
  });

  test('stop leaves no daemon or job step of the cluster running, and removes its folder', { timeout: 180_000 }, async (t) => {
    if (typeof slurm === 'string') return t.skip(slurm);
    const { dir } = slurm;
    const running = clusterProcesses(dir);
    assert.ok(running.length >= 3, `the daemons were running before stop: ${JSON.stringify(running)}`);
    await slurm.stop();
    // the daemons' command lines name the folder, and job step daemons carry it in their environment
    assert.deepEqual(clusterProcesses(dir), []);
    assert.equal(existsSync(dir), false);
    await slurm.stop(); // a second stop is harmless
  });
});
