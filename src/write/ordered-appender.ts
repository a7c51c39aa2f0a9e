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
        const { bytesWritten } = await this.file.writev(bufs, start);
        if (bytesWritten !== total) throw new Error(`short write: ${bytesWritten} of ${total} bytes`);
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
