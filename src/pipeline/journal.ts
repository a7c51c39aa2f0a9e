/**
 * The journal of a run: which chunks are complete in its temporary output, so that `--resume`
 * continues after a crash, kill -9 or power loss instead of starting over.
 *
 * Beside the target `OUT` live `.OUT.tilecast-partial` (the output being written), `.OUT.tilecast-journal`
 * and, while a run holds them, `.OUT.tilecast-lock`. The journal is JSON lines: a header with the
 * run's fingerprint (what determines the output: inputs, model, region, options), then one line
 * per complete chunk with where its blocks are in the partial file. A chunk's line is appended
 * only after its blocks are on the disk (the writer's checkpoint), and the journal is synced after
 * each line; a line cut short by a crash is ignored, so the journal never vouches for more than
 * the disk holds.
 */
import { constants, type FileHandle, open, readFile, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { OutputError, UsageError } from '../errors.js';
import { forgetTempFile, registerTempFile } from '../write/temp-files.js';
import { outputError, type WriterCheckpoint } from '../write/writer.js';

const VERSION = 1;

export interface RunFiles {
  partial: string;
  journal: string;
  lock: string;
}

/** The files of a run writing the target `target` (a resolved path). */
export function runFiles(target: string): RunFiles {
  const base = join(dirname(target), `.${basename(target)}.tilecast`);
  return { partial: `${base}-partial`, journal: `${base}-journal`, lock: `${base}-lock` };
}

/** What determines a run's output: named facts whose joint hash is the fingerprint. */
export type Facts = Record<string, string>;

interface Header {
  version: number;
  facts: Facts;
  chunks: number;
}

interface ChunkLine {
  chunk: number;
  checkpoint: WriterCheckpoint;
}

export class Journal {
  private constructor(
    readonly files: RunFiles,
    private handle: FileHandle | null,
    /** Chunks complete before this run, with their checkpoints, in the order they completed. */
    readonly done: Map<number, WriterCheckpoint>,
  ) {}

  /**
   * Take the run's lock and start a journal, or continue the one there.
   * Without `resume`, a partial run left at the target is an error naming it and `--resume`.
   * With `resume`, its facts must equal `facts` (else an error naming what differs).
   */
  static async open(target: string, out: string, facts: Facts, chunks: number, resume: boolean): Promise<Journal> {
    const files = runFiles(target);
    await lock(files.lock, out);
    try {
      const existing = await readJournal(files);
      if (existing !== null && !resume) {
        const progress = existing.header ? ` (${existing.done.size} of ${existing.header.chunks} chunks complete)` : '';
        throw new OutputError(
          `${out}: a run that did not finish left ${files.partial}${progress}: continue it with --resume, or delete ${files.partial} and ${files.journal} to start over`,
          { file: out },
        );
      }
      // a journal without its header line: the run was killed before it wrote anything durable
      const header = existing?.header ?? null;
      if (existing !== null && header !== null) {
        const changed = Object.keys({ ...header.facts, ...facts }).filter((k) => header.facts[k] !== facts[k]);
        if (header.version !== VERSION || header.chunks !== chunks || changed.length > 0) {
          const what = changed.length > 0 ? changed.map((k) => `${k} was ${short(header.facts[k])}, now ${short(facts[k])}`).join('; ') : 'the chunk grid changed';
          throw new UsageError(`--resume: ${out} was started with other inputs, model or options (${what}); run without --resume after deleting ${files.partial} and ${files.journal}, or resume with the same inputs and options`);
        }
        // killed before its first chunk was durable: nothing in the partial file is vouched for
        if (existing.done.size === 0) await unlink(files.partial).catch(() => undefined);
        const handle = await open(files.journal, 'a');
        return new Journal(files, handle, existing.done);
      }
      // a fresh run: no partial file may be there without a journal either
      await unlink(files.partial).catch(() => undefined);
      // a run that cannot be resumed takes its journal with it, however it ends
      if (!resume) registerTempFile(files.journal);
      const handle = await open(files.journal, constants.O_CREAT | constants.O_TRUNC | constants.O_WRONLY);
      await handle.write(`${JSON.stringify({ version: VERSION, facts, chunks } satisfies Header)}\n`);
      await handle.sync();
      return new Journal(files, handle, new Map());
    } catch (e) {
      await unlink(files.lock).catch(() => undefined);
      forgetTempFile(files.lock);
      throw e;
    }
  }

  /** Record that `chunk` is complete: its blocks are on the disk at `checkpoint`. */
  async complete(chunk: number, checkpoint: WriterCheckpoint): Promise<void> {
    await this.handle!.write(`${JSON.stringify({ chunk, checkpoint } satisfies ChunkLine)}\n`);
    await this.handle!.sync();
  }

  /** The checkpoints to restore the partial file from, or undefined for a fresh run. */
  get restore(): WriterCheckpoint[] | undefined {
    return this.done.size > 0 ? [...this.done.values()] : undefined;
  }

  /** The run is over: remove the journal (unless it must stay for a later --resume) and the lock. */
  async close(keep: boolean): Promise<void> {
    await this.handle?.close();
    this.handle = null;
    if (!keep) await unlink(this.files.journal).catch(() => undefined);
    forgetTempFile(this.files.journal);
    await unlink(this.files.lock).catch(() => undefined);
    forgetTempFile(this.files.lock);
  }
}

function short(v: string | undefined): string {
  if (v === undefined) return 'absent';
  return v.length > 60 ? `${v.slice(0, 57)}...` : v;
}

/**
 * The journal at `files`, or null when neither it nor a partial file is there; `header` is null
 * when the run was killed before its first line was durable.
 */
async function readJournal(files: RunFiles): Promise<{ header: Header | null; done: Map<number, WriterCheckpoint> } | null> {
  let text: string;
  try {
    text = await readFile(files.journal, 'utf8');
  } catch {
    const partial = await open(files.partial, 'r').then(async (h) => (await h.close(), true), () => false);
    return partial ? { header: null, done: new Map() } : null;
  }
  const lines = text.split('\n');
  let header: Header;
  try {
    header = JSON.parse(lines[0]!) as Header;
  } catch {
    return { header: null, done: new Map() };
  }
  const done = new Map<number, WriterCheckpoint>();
  for (const line of lines.slice(1)) {
    if (line.trim() === '') continue;
    try {
      const l = JSON.parse(line) as ChunkLine;
      done.set(l.chunk, l.checkpoint);
    } catch {
      break; // a line cut short by a crash: nothing after it was made durable
    }
  }
  return { header, done };
}

/** Take the run's lock: refuse when a live process on this machine holds it; take over a stale one. */
async function lock(path: string, out: string): Promise<void> {
  const me = `${process.pid} ${hostname()}`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const h = await open(path, 'wx');
      registerTempFile(path); // whatever way the process ends, the lock goes with it
      await h.write(me);
      await h.close();
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw outputError(e, dirname(path), out);
      const [pid, host] = (await readFile(path, 'utf8').catch(() => '')).split(' ');
      const alive = host === hostname() && Number(pid) > 0 && isAlive(Number(pid));
      if (alive || (host !== undefined && host !== hostname())) {
        throw new OutputError(
          `${out}: another tilecast run (process ${pid}${host !== hostname() ? ` on ${host}` : ''}) is writing it (${path}); wait for it, or delete the lock if that run is gone`,
          { file: out },
        );
      }
      await unlink(path).catch(() => undefined); // its process is gone: a stale lock
    }
  }
  throw new OutputError(`${out}: cannot take the lock ${path}`, { file: out });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
