/** A ByteSource over a local file. */
import { open, type FileHandle } from 'node:fs/promises';
import { InputError } from '../errors.js';
import type { ByteSource } from './byte-source.js';

/** The InputError for a local file that cannot be opened or read. */
export function fileError(path: string, err: unknown): InputError {
  const code = (err as NodeJS.ErrnoException).code;
  const why = code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'is a directory, not a file' : code === 'EACCES' ? 'permission denied' : String((err as Error).message);
  return new InputError(`${path}: ${why}; check the path`, { file: path, cause: err });
}

export class FileByteSource implements ByteSource {
  private constructor(
    readonly name: string,
    readonly size: number,
    readonly version: string,
    private readonly fh: FileHandle,
    private readonly owned: boolean,
  ) {}

  /** Open `path` for reading; InputError naming it when it cannot be. */
  static async open(path: string): Promise<FileByteSource> {
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch (err) {
      throw fileError(path, err);
    }
    try {
      const st = await fh.stat();
      if (st.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
      return new FileByteSource(path, st.size, String(Math.round(st.mtimeMs)), fh, true);
    } catch (err) {
      await fh.close();
      throw fileError(path, err);
    }
  }

  /** A source over a handle the caller keeps (close() leaves it open). */
  static async fromHandle(fh: FileHandle, name: string): Promise<FileByteSource> {
    const st = await fh.stat();
    return new FileByteSource(name, st.size, String(Math.round(st.mtimeMs)), fh, false);
  }

  read(offset: number, length: number): Promise<Uint8Array> {
    return readAt(this.fh, offset, Math.max(0, Math.min(length, this.size - offset)));
  }

  async close(): Promise<void> {
    if (this.owned) await this.fh.close();
  }
}

/** `length` bytes at `offset` of an open file (fewer at its end). */
export async function readAt(fh: FileHandle, offset: number, length: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(buf, done, length - done, offset + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done === length ? buf : buf.subarray(0, done);
}
