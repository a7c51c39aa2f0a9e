/**
 * A real job engine for the tests: a private single-node Slurm cluster (scripts/slurm/cluster.sh)
 * that a test brings up, submits array jobs to with `sbatch --array=0-(N-1) --wait`, and stops.
 *
 *   test('shards', async (t) => {
 *     const slurm = await slurmOrSkip(t);
 *     if (!slurm) return;
 *     t.after(() => slurm.stop());
 *     const job = await slurm.runArray({ script: 'echo $SLURM_ARRAY_TASK_ID > out', tasks: 4, workdir });
 *   });
 *
 * Slurm needs Linux and root (cluster.sh installs slurmctld, slurmd, slurm-client and munge with
 * apt-get when they are missing). Where it cannot run, the test is skipped with the reason; under
 * CI (CI=true) or with TILECAST_REQUIRE_ORACLE=1 that is a failure instead.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPO_ROOT, REQUIRE_ORACLE } from './env.js';

export const CLUSTER_SH = join(REPO_ROOT, 'scripts', 'slurm', 'cluster.sh');

/** One array job to run. */
export interface ArrayJob {
  /** The batch script's body (bash); a script that starts with `#!` is used as it is. */
  script: string;
  /** Number of array tasks: `--array=0-(tasks-1)`. */
  tasks: number;
  /** Working folder of every task (`--chdir`); the script and the tasks' stdout/stderr go here too. */
  workdir: string;
  /** Extra environment for the tasks (sbatch exports its whole environment to them). */
  env?: Record<string, string>;
  /** Job name (`--job-name`); default `tilecast-test`. */
  name?: string;
  /** More sbatch options, e.g. `['--cpus-per-task=2']`. */
  sbatchArgs?: string[];
  /** Give up (and scancel the job) after this long; default 120 s. */
  timeoutMs?: number;
}

/** How one array task ended. */
export interface TaskResult {
  index: number;
  /** The task's exit status; null when it did not exit by itself (signalled, cancelled, timed out). */
  exitCode: number | null;
  /** The signal that ended it, 0 if none. */
  signal: number;
  /** Slurm's final job state: COMPLETED, FAILED, CANCELLED, TIMEOUT, OUT_OF_MEMORY, NODE_FAIL … */
  state: string;
  stdout: string;
  stderr: string;
}

export interface ArrayResult {
  jobId: string;
  /** sbatch --wait's exit status: the highest exit status of the tasks. */
  sbatchExitCode: number;
  /** One entry per task, by index. */
  tasks: TaskResult[];
  /** Wall time from submission until sbatch --wait returned, in ms. */
  elapsedMs: number;
}

export interface Cluster {
  /** The cluster's private folder: slurm.conf, munge key and socket, spool, logs. */
  readonly dir: string;
  /** Environment for Slurm's client commands (SLURM_CONF) on top of a clean process.env. */
  readonly env: NodeJS.ProcessEnv;
  /** PIDs of munged, slurmctld and slurmd as cluster.sh recorded them. */
  readonly pids: { munged: number; slurmctld: number; slurmd: number };
  runArray(job: ArrayJob): Promise<ArrayResult>;
  /** `cluster.sh down`: cancels leftover jobs, stops the three daemons, removes `dir`. Idempotent. */
  stop(): Promise<void>;
}

/** Why Slurm cannot run here (not Linux, not root, no bash), or false when it can be tried. */
export function slurmUnavailable(): false | string {
  if (process.platform !== 'linux') return `Slurm tests need Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'Slurm tests need root (SlurmUser=root; cluster.sh installs packages with apt-get)';
  if (!existsSync('/bin/bash') && !existsSync('/usr/bin/bash')) return 'Slurm tests need bash';
  return false;
}

/**
 * `skip` option for node:test, like needGdal(): false when a cluster can be tried, a reason when
 * it cannot; throws under CI. That a cluster then comes up is checked by startSlurm.
 */
export function needSlurm(): false | string {
  const reason = slurmUnavailable();
  if (reason && REQUIRE_ORACLE) throw new Error(`${reason}; required under CI`);
  return reason;
}

/** A clean environment for sbatch and friends: none of a surrounding job's SLURM_* / SBATCH_* settings. */
function clientEnv(conf: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^(SLURM_|SBATCH_|SALLOC_|SRUN_|TILECAST_SLURM_)/.test(k)) env[k] = v;
  }
  env.SLURM_CONF = conf;
  env.PATH = `${env.PATH ?? '/usr/bin:/bin'}:/usr/sbin:/sbin`;
  return env;
}

function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs: number }): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolvePromise) => {
    execFile(cmd, args, { env: opts.env ?? process.env, timeout: opts.timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 << 20, encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : null) : 0;
      resolvePromise({ code, stdout, stderr });
    });
  });
}

/** Clusters not stopped yet: stopped synchronously if the process exits first. */
const live = new Set<string>();
let exitHook = false;
function stopAllOnExit(): void {
  if (exitHook) return;
  exitHook = true;
  process.on('exit', () => {
    for (const dir of live) {
      try {
        execFileSync('bash', [CLUSTER_SH, 'down', dir], { stdio: 'ignore', timeout: 30_000 });
      } catch {
        // nothing more can be done while exiting
      }
    }
  });
}

/**
 * Bring up a private cluster in a new temporary folder (`cluster.sh up DIR`) and wait until its
 * node is idle. Throws with cluster.sh's output (which has the daemons' logs) when it cannot.
 */
export async function startSlurm(opts: { upTimeoutMs?: number } = {}): Promise<Cluster> {
  const reason = slurmUnavailable();
  if (reason) throw new Error(reason);
  const dir = mkdtempSync(join(tmpdir(), 'tilecast-slurm-'));
  live.add(dir);
  stopAllOnExit();
  // the first run on a machine installs the packages: allow for apt-get
  const up = await run('bash', [CLUSTER_SH, 'up', dir], { timeoutMs: opts.upTimeoutMs ?? 600_000 });
  if (up.code !== 0) {
    await run('bash', [CLUSTER_SH, 'down', dir], { timeoutMs: 60_000 });
    live.delete(dir);
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`Slurm did not come up (cluster.sh up exited ${up.code}):\n${up.stderr}${up.stdout}`);
  }
  const conf = /export SLURM_CONF='([^']+)'/.exec(up.stdout)?.[1];
  if (conf === undefined) throw new Error(`cluster.sh up printed no SLURM_CONF:\n${up.stdout}\n${up.stderr}`);
  const pid = (name: string) => Number(readFileSync(join(dir, 'run', `${name}.pid`), 'utf8').trim());
  const env = clientEnv(conf);
  let stopped = false;
  let jobs = 0;

  const cluster: Cluster = {
    dir,
    env,
    pids: { munged: pid('munged'), slurmctld: pid('slurmctld'), slurmd: pid('slurmd') },
    runArray: (job) => runArray(dir, env, job, ++jobs),
    async stop() {
      if (stopped) return;
      stopped = true;
      const down = await run('bash', [CLUSTER_SH, 'down', dir], { timeoutMs: 120_000 });
      live.delete(dir);
      if (down.code !== 0) throw new Error(`cluster.sh down exited ${down.code}:\n${down.stderr}${down.stdout}`);
    },
  };
  return cluster;
}

/**
 * startSlurm for a test: the cluster, or undefined after marking the test skipped with the reason
 * it could not start. Under CI the failure is thrown instead.
 */
export async function slurmOrSkip(t: TestContext, opts?: { upTimeoutMs?: number }): Promise<Cluster | undefined> {
  const r = await trySlurm(opts);
  if (typeof r === 'string') {
    t.skip(r);
    return undefined;
  }
  return r;
}

/**
 * startSlurm for a `before` hook shared by several tests: the cluster, or the reason it could not
 * start (each test then calls `t.skip(reason)`). Under CI the failure is thrown instead.
 */
export async function trySlurm(opts?: { upTimeoutMs?: number }): Promise<Cluster | string> {
  try {
    return await startSlurm(opts);
  } catch (e) {
    if (REQUIRE_ORACLE) throw e;
    // a one-line reason: the first line and cluster.sh's own verdicts, not the daemons' logs
    const lines = (e as Error).message.split('\n');
    const said = lines.slice(1).filter((l) => l.startsWith('cluster.sh: ')).map((l) => l.slice('cluster.sh: '.length));
    const verdicts = said.filter((l) => l.includes('did not'));
    return [lines[0]!.replace(/:$/, ''), ...(verdicts.length > 0 ? verdicts : said.filter((l) => l.startsWith('error:')))].join('; ');
  }
}

/**
 * Live processes that belong to the cluster in `dir`: the daemons (their command lines name it)
 * and job step daemons (slurmstepd, which inherit TILECAST_SLURM_STATE=dir from slurmd). Zombies
 * waiting to be reaped do not count.
 */
export function clusterProcesses(dir: string): { pid: number; cmd: string }[] {
  const out: { pid: number; cmd: string }[] = [];
  const marker = `TILECAST_SLURM_STATE=${dir}`;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').join(' ').trim();
      let ours = cmd.includes(`${dir}/`);
      if (!ours && cmd.startsWith('slurmstepd')) {
        ours = readFileSync(`/proc/${name}/environ`, 'utf8').split('\0').includes(marker);
      }
      if (ours) out.push({ pid: Number(name), cmd });
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}

/** Parse jobcomp/filetxt lines (`Key=Value ...`) of one array job, by task index. */
function jobcompRecords(dir: string, jobId: string): Map<number, Record<string, string>> {
  const out = new Map<number, Record<string, string>>();
  const file = join(dir, 'jobcomp.log');
  if (!existsSync(file)) return out;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const rec: Record<string, string> = {};
    for (const m of line.matchAll(/(\w+)=(\S*)/g)) rec[m[1]!] = m[2]!;
    if (rec.ArrayJobId === jobId && rec.ArrayTaskId !== undefined) out.set(Number(rec.ArrayTaskId), rec);
  }
  return out;
}

async function runArray(dir: string, clientEnvBase: NodeJS.ProcessEnv, job: ArrayJob, seq: number): Promise<ArrayResult> {
  if (!Number.isInteger(job.tasks) || job.tasks < 1) throw new Error(`tasks must be a positive integer, got ${job.tasks}`);
  const workdir = resolve(job.workdir);
  mkdirSync(workdir, { recursive: true });
  const scriptFile = join(workdir, `slurm-job-${seq}.sh`);
  const body = job.script.startsWith('#!') ? job.script : `#!/bin/bash\n${job.script}\n`;
  writeFileSync(scriptFile, body, { mode: 0o755 });
  const outPattern = join(workdir, 'slurm-%A_%a.out');
  const errPattern = join(workdir, 'slurm-%A_%a.err');
  const args = [
    '--parsable', '--wait', `--array=0-${job.tasks - 1}`, `--chdir=${workdir}`, `--job-name=${job.name ?? 'tilecast-test'}`,
    `--output=${outPattern}`, `--error=${errPattern}`, ...(job.sbatchArgs ?? []), scriptFile,
  ];
  const env = { ...clientEnvBase, ...job.env };
  const timeoutMs = job.timeoutMs ?? 120_000;
  const t0 = Date.now();

  const child = spawn('sbatch', args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let jobId: string | undefined;
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    jobId ??= /^(\d+)/.exec(stdout)?.[1];
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  const code = await new Promise<number | null>((res, rej) => {
    child.on('error', rej);
    child.on('close', (c) => res(c));
  }).finally(() => clearTimeout(timer));
  const elapsedMs = Date.now() - t0;

  if (timedOut) {
    if (jobId !== undefined) await run('scancel', ['--full', jobId], { env: clientEnvBase, timeoutMs: 30_000 });
    throw new Error(`array job ${jobId ?? '(not submitted)'} did not finish within ${timeoutMs} ms; cancelled.\n` +
      `sbatch stderr: ${stderr}\n${await queueReport(clientEnvBase)}`);
  }
  if (jobId === undefined) throw new Error(`sbatch ${args.join(' ')} failed (exit ${code}):\n${stderr}${stdout}`);

  // slurmctld writes a jobcomp record as each task ends; sbatch sees the end from the same state
  let recs = jobcompRecords(dir, jobId);
  for (let i = 0; i < 50 && recs.size < job.tasks; i++) {
    await sleep(100);
    recs = jobcompRecords(dir, jobId);
  }
  const tasks: TaskResult[] = [];
  for (let index = 0; index < job.tasks; index++) {
    const rec = recs.get(index);
    const [status, sig] = (rec?.ExitCode ?? ':').split(':');
    const signal = Number(sig) || 0;
    const state = rec?.JobState ?? 'UNKNOWN';
    tasks.push({
      index,
      exitCode: (state === 'COMPLETED' || state === 'FAILED') && signal === 0 ? Number(status) : null,
      signal,
      state,
      stdout: join(workdir, `slurm-${jobId}_${index}.out`),
      stderr: join(workdir, `slurm-${jobId}_${index}.err`),
    });
  }
  return { jobId, sbatchExitCode: code ?? -1, tasks, elapsedMs };
}

async function queueReport(env: NodeJS.ProcessEnv): Promise<string> {
  const q = await run('squeue', ['-l'], { env, timeoutMs: 10_000 });
  const n = await run('sinfo', ['-N', '-l'], { env, timeoutMs: 10_000 });
  return `squeue:\n${q.stdout}${q.stderr}\nsinfo:\n${n.stdout}${n.stderr}`;
}
