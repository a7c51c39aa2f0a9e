/**
 * Appends encoded blocks to a file in the order they were submitted, while their encoding runs
 * concurrently. The byte layout therefore depends only on the submission order, never on which
 * compression finished first. At most `maxInFlight` submissions are pending at once.
 */
import type { FileHandle } from 'node:fs/promises';

export class OrderedAppender {
  /** Offset where the next block goes. */
  position: number;
  /** First error of any encoding or write; once set, nothing more is written. */
  failure: unknown = undefined;
  private tail: Promise<void> = Promise.resolve();
  private readonly pending: Promise<void>[] = [];

  constructor(
    private readonly file: FileHandle,
    start: number,
    private readonly maxInFlight: number,
    /** Called before a write that would end past this offset; returns the error to fail with. */
    private readonly limit: { end: number; error: () => Error },
  ) {
    this.position = start;
  }

  /** Resolves when fewer than `maxInFlight` submissions are pending. Call it before `submit`, one caller at a time. */
  async room(): Promise<void> {
    while (this.pending.length >= this.maxInFlight) await this.pending.shift();
  }

  /**
   * Queue blocks whose bytes `parts` will give. When it is their turn, each part is written at
   * the current position and `place(i, offset, byteLength)` records where; `release` runs in
   * every case once the parts are no longer needed.
   */
  submit(parts: Promise<Uint8Array[]>, place: (i: number, offset: number, byteLength: number) => void, release: () => void): void {
    parts.catch(() => undefined);
    const done = this.tail
      .then(async () => {
        const bufs = await parts;
        if (this.failure !== undefined) return;
        let total = 0;
        for (const b of bufs) total += b.length;
        if (this.position + total > this.limit.end) throw this.limit.error();
        const start = this.position;
        let at = start;
        bufs.forEach((b, i) => {
          place(i, at, b.length);
          at += b.length;
        });
        this.position = at;
        await writeAll(this.file, bufs, start, total);
      })
      .catch((e: unknown) => {
        this.failure ??= e;
      })
      .finally(release);
    this.tail = done;
    this.pending.push(done);
  }

  /** Wait for every submitted block; throws the first failure. */
  async drain(): Promise<void> {
    await this.tail;
    this.pending.length = 0;
    if (this.failure !== undefined) throw this.failure;
  }
}

/**
 * The disk (or a quota) ran out while appending: `written` bytes of the file exist, `needed` more
 * were being written. Carries `code: 'ENOSPC'` like the system error it stands for.
 */
export class DiskFullError extends Error {
  readonly code = 'ENOSPC';
  constructor(readonly written: number, readonly needed: number, cause?: unknown) {
    super(`no space left on the device: ${needed} more bytes needed after ${written}`, cause === undefined ? undefined : { cause });
  }
}

/** writev all of `bufs` at `start`, going on after a short write; a full disk is a DiskFullError. */
export async function writeAll(file: FileHandle, bufs: Uint8Array[], start: number, total: number): Promise<void> {
  let done = 0;
  try {
    done = (await file.writev(bufs, start)).bytesWritten;
    while (done < total) {
      // a short write: the device is (nearly) full; one more try says which
      const rest = concatFrom(bufs, done);
      const { bytesWritten } = await file.write(rest, 0, rest.length, start + done);
      if (bytesWritten === 0) throw new DiskFullError(start + done, total - done);
      done += bytesWritten;
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOSPC' || code === 'EDQUOT' || code === 'EFBIG') {
      throw e instanceof DiskFullError ? e : new DiskFullError(start + done, total - done, e);
    }
    throw e;
  }
}

function concatFrom(bufs: Uint8Array[], skip: number): Uint8Array {
  const total = bufs.reduce((a, b) => a + b.length, 0) - skip;
  const out = new Uint8Array(total);
  let at = 0;
  for (const b of bufs) {
    const from = Math.min(b.length, skip);
    skip -= from;
    out.set(b.subarray(from), at);
    at += b.length - from;
  }
  return out;
}
