/**
 * The journal of a run: which chunks are complete in its temporary outputs, so that `--resume`
 * continues after a crash, kill -9 or power loss instead of starting over.
 *
 * Beside each output `OUT` lives `.OUT.tilecast-partial` (the output being written); beside the
 * run's first output live `.OUT.tilecast-journal` and, while a run holds them, `.OUT.tilecast-lock`.
 * The journal is JSON lines: a header with the run's facts (what determines the outputs: inputs,
 * model, region, options), then one line per complete chunk with where its blocks are in each
 * partial file. A chunk's line is appended only after its blocks are on the disk (the writers'
 * checkpoints), and the journal is synced after each line; a line cut short by a crash is
 * ignored, so the journal never vouches for more than the disk holds.
 *
 * The lock names the process and machine holding it, and that process touches it every
 * LOCK_HEARTBEAT_MS: a lock is stale when its process is gone (same machine), or when its
 * heartbeat stopped LOCK_STALE_MS ago (any machine: a pre-empted node, a retried pod).
 */
import { type FileHandle, open, readFile, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { OutputError, UsageError } from '../errors.js';
import { createTempFile, forgetTempFile } from '../write/temp-files.js';
import { outputError, type WriterCheckpoint } from '../write/writer.js';

const VERSION = 1;

export interface RunFiles {
  journal: string;
  lock: string;
  /** Per output: its partial file. */
  partials: Record<string, string>;
}

/** The partial file of the output `target` (a resolved path). */
export function partialPath(target: string): string {
  return join(dirname(target), `.${basename(target)}.tilecast-partial`);
}

/** The files of a run whose outputs are `targets` (resolved paths; the first holds the journal). */
export function runFiles(targets: Readonly<Record<string, string>>): RunFiles {
  const first = Object.values(targets)[0]!;
  const base = join(dirname(first), `.${basename(first)}.tilecast`);
  const partials = Object.fromEntries(Object.entries(targets).map(([k, t]) => [k, partialPath(t)]));
  return { journal: `${base}-journal`, lock: `${base}-lock`, partials };
}

/** Where each output's blocks are at a checkpoint. */
export type Checkpoints = Record<string, WriterCheckpoint>;

/** What determines a run's output: named facts whose joint hash is the fingerprint. */
export type Facts = Record<string, string>;

interface Header {
  version: number;
  facts: Facts;
  chunks: number;
}

interface ChunkLine {
  chunk: number;
  checkpoints: Checkpoints;
}

export class Journal {
  private constructor(
    readonly files: RunFiles,
    private readonly lock: RunLock,
    private handle: FileHandle | null,
    /** Chunks complete before this run, with their checkpoints, in the order they completed. */
    readonly done: Map<number, Checkpoints>,
  ) {}

  /**
   * Take the run's lock and start a journal, or continue the one there.
   * Without `resume`, a partial run left at the target is an error naming it and `--resume`.
   * With `resume`, its facts must equal `facts` (else an error naming what differs).
   */
  static async open(
    targets: Readonly<Record<string, string>>, out: string, facts: Facts, chunks: number, resume: boolean, warn: (m: string) => void,
  ): Promise<Journal> {
    const files = runFiles(targets);
    const partials = Object.values(files.partials);
    const lock = await RunLock.take(files.lock, out);
    try {
      const existing = await readJournal(files);
      if (existing !== null && !resume) {
        const progress = existing.header ? ` (${existing.done.size} of ${existing.header.chunks} chunks complete)` : '';
        throw new OutputError(
          `${out}: a run that did not finish left ${existing.partial}${progress}: continue it with --resume, or delete ${[...partials, files.journal].join(' ')} to start over`,
          { file: out },
        );
      }
      // a journal without its header line: the run was killed before it wrote anything durable
      const header = existing?.header ?? null;
      if (existing !== null && header !== null) {
        const changed = Object.keys({ ...header.facts, ...facts }).filter((k) => header.facts[k] !== facts[k]);
        if (header.version !== VERSION || header.chunks !== chunks || changed.length > 0) {
          const what = changed.length > 0 ? changed.map((k) => `${k} was ${short(header.facts[k])}, now ${short(facts[k])}`).join('; ') : 'the chunk grid changed';
          throw new UsageError(`--resume: ${out} was started with other inputs, model or options (${what}); run without --resume after deleting ${[...partials, files.journal].join(' ')}, or resume with the same inputs and options`);
        }
        // killed while its outputs were being renamed into place: some partial file is gone
        const missing = existing.done.size > 0 ? await absent(partials) : [];
        if (missing.length > 0) {
          warn(`--resume: ${out}: the partial file ${missing.join(' ')} is gone (the run was stopped while its outputs were renamed into place); starting over`);
        } else {
          // killed before its first chunk was durable: nothing in the partial files is vouched for
          if (existing.done.size === 0) await Promise.all(partials.map((p) => unlink(p).catch(() => undefined)));
          const handle = await open(files.journal, 'a');
          return new Journal(files, lock, handle, existing.done);
        }
      }
      // a fresh run: no partial file may be there without a journal either
      await Promise.all(partials.map((p) => unlink(p).catch(() => undefined)));
      // a run that cannot be resumed takes its journal with it, however it ends
      createTempFile(files.journal, { replace: true, keep: resume });
      const handle = await open(files.journal, 'r+');
      await handle.write(`${JSON.stringify({ version: VERSION, facts, chunks } satisfies Header)}\n`);
      await handle.sync();
      return new Journal(files, lock, handle, new Map());
    } catch (e) {
      await lock.release();
      throw e;
    }
  }

  /** Record that `chunk` is complete: its blocks are on the disk at `checkpoints` (one per output). */
  async complete(chunk: number, checkpoints: Checkpoints): Promise<void> {
    await this.handle!.write(`${JSON.stringify({ chunk, checkpoints } satisfies ChunkLine)}\n`);
    await this.handle!.sync();
  }

  /** The checkpoints to restore output `key`'s partial file from, or undefined for a fresh run. */
  restore(key: string): WriterCheckpoint[] | undefined {
    return this.done.size > 0 ? [...this.done.values()].map((c) => c[key]!) : undefined;
  }

  /** The run is over: remove the journal (unless it must stay for a later --resume) and the lock. */
  async close(keep: boolean): Promise<void> {
    await this.handle?.close();
    this.handle = null;
    if (!keep) await unlink(this.files.journal).catch(() => undefined);
    forgetTempFile(this.files.journal);
    await this.lock.release();
  }
}

function short(v: string | undefined): string {
  if (v === undefined) return 'absent';
  return v.length > 60 ? `${v.slice(0, 57)}...` : v;
}

/**
 * The journal at `files`, or null when neither it nor a partial file is there; `header` is null
 * when the run was killed before its first line was durable. `partial` names a file that is there.
 */
/** The files of `paths` that do not exist. */
async function absent(paths: readonly string[]): Promise<string[]> {
  const there = await Promise.all(paths.map((p) => stat(p).then(() => true, () => false)));
  return paths.filter((_, i) => !there[i]);
}

async function readJournal(files: RunFiles): Promise<{ header: Header | null; done: Map<number, Checkpoints>; partial: string } | null> {
  const exists = (p: string) => open(p, 'r').then(async (h) => (await h.close(), true), () => false);
  let partial = files.journal;
  for (const p of Object.values(files.partials)) if (await exists(p)) partial = p;
  let text: string;
  try {
    text = await readFile(files.journal, 'utf8');
  } catch {
    return partial !== files.journal ? { header: null, done: new Map(), partial } : null;
  }
  const lines = text.split('\n');
  let header: Header;
  try {
    header = JSON.parse(lines[0]!) as Header;
  } catch {
    return { header: null, done: new Map(), partial };
  }
  const done = new Map<number, Checkpoints>();
  for (const line of lines.slice(1)) {
    if (line.trim() === '') continue;
    try {
      const l = JSON.parse(line) as ChunkLine;
      done.set(l.chunk, l.checkpoints);
    } catch {
      break; // a line cut short by a crash: nothing after it was made durable
    }
  }
  return { header, done, partial };
}

/** How often a run touches its lock. */
export const LOCK_HEARTBEAT_MS = 30_000;
/** A lock not touched for this long is stale, whatever machine holds it. */
export const LOCK_STALE_MS = 5 * 60_000;
/** Locks this process holds: a lock naming this process but not in here is a recycled process id. */
const heldLocks = new Set<string>();

/** A run's lock on its outputs, kept fresh by a heartbeat while the run holds it. */
class RunLock {
  private constructor(
    private readonly path: string,
    private readonly heartbeat: NodeJS.Timeout,
  ) {}

  /** Take the lock: refuse while another live run holds it; take over a stale one. */
  static async take(path: string, out: string): Promise<RunLock> {
    const me = `${process.pid} ${hostname()}`;
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        createTempFile(path); // whatever way the process ends, the lock goes with it
        await writeFile(path, me, { flag: 'r+' });
        heldLocks.add(path);
        const heartbeat = setInterval(() => {
          const now = new Date();
          utimes(path, now, now).catch(() => undefined);
        }, LOCK_HEARTBEAT_MS);
        heartbeat.unref();
        return new RunLock(path, heartbeat);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw outputError(e, dirname(path), out);
        const holder = await lockHolder(path);
        if (holder !== null) {
          const where = holder.host !== hostname() ? ` on ${holder.host}` : '';
          const age = Math.round(holder.ageMs / 1000);
          throw new OutputError(
            `${out}: another tilecast run (process ${holder.pid}${where}, lock touched ${age} s ago) is writing it (${path}); ` +
              `wait for it, or delete the lock if that run is gone (a lock untouched for ${LOCK_STALE_MS / 60_000} minutes is taken over)`,
            { file: out },
          );
        }
        await unlink(path).catch(() => undefined); // its run is gone: a stale lock
      }
    }
    throw new OutputError(`${out}: cannot take the lock ${path}`, { file: out });
  }

  async release(): Promise<void> {
    clearInterval(this.heartbeat);
    heldLocks.delete(this.path);
    await unlink(this.path).catch(() => undefined);
    forgetTempFile(this.path);
  }
}

/** Who holds the lock at `path`, or null when it is stale (or gone). */
async function lockHolder(path: string): Promise<{ pid: string; host: string; ageMs: number } | null> {
  const [text, info] = await Promise.all([readFile(path, 'utf8').catch(() => null), stat(path).catch(() => null)]);
  if (text === null || info === null) return null;
  const [pid = '', host = ''] = text.split(' ');
  const ageMs = Math.max(0, Date.now() - info.mtimeMs);
  if (ageMs > LOCK_STALE_MS) return null; // its heartbeat stopped
  if (host === hostname()) {
    // this process's own id without its lock: a restarted container reusing the id (often 1)
    if (Number(pid) === process.pid && !heldLocks.has(path)) return null;
    if (!(Number(pid) > 0 && isAlive(Number(pid)))) return null;
  }
  return { pid, host, ageMs };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
