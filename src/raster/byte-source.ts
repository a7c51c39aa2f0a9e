/**
 * Where a raster's bytes come from. RasterSource and the TIFF parser read through a ByteSource
 * and do not care whether the bytes are in a local file (file-source.ts) or behind an HTTP(S)
 * URL read with range requests (http-source.ts); `openByteSource` picks one from the name.
 */
import { readFile } from 'node:fs/promises';
import { AbortedError, InputError } from '../errors.js';
import { FileByteSource, fileError } from './file-source.js';
import { fetchBytes, HttpByteSource, isUrl, redactUrl, type HttpOptions } from './http-source.js';

export interface ByteSource {
  /** The path or URL, as error messages show it (a URL's secrets left out). */
  readonly name: string;
  /** Size in bytes. */
  readonly size: number;
  /**
   * What changes when the content does, for a resumed run to notice a changed input: a file's
   * modification time (ms), a URL's ETag or Last-Modified ('' when the server gives neither).
   */
  readonly version: string;
  /**
   * `length` bytes at `offset`, fewer only where the source ends. The caller owns the result
   * (it may change it). Reads asked for in the same turn of the event loop may be served
   * together: an HTTP source fetches neighbouring ranges with one request.
   */
  read(offset: number, length: number): Promise<Uint8Array>;
  close(): Promise<void>;
}

export interface ByteSourceOptions {
  /** How URLs are read (timeouts, retries, requests in flight); see DEFAULT_HTTP_OPTIONS. */
  http?: HttpOptions;
  /** Abandons a whole-file download (readBytes, readText) with an AbortedError. */
  signal?: AbortSignal | null;
}

export { isUrl, redactUrl };

/** A local file (a path) or a remote one (an `http://` or `https://` URL). Throws InputError naming it. */
export function openByteSource(pathOrUrl: string, options: ByteSourceOptions = {}): Promise<ByteSource> {
  return isUrl(pathOrUrl) ? HttpByteSource.open(pathOrUrl, options.http) : FileByteSource.open(pathOrUrl);
}

/** A whole local file or URL (with the retries and errors of range reads). Throws InputError naming it. */
export async function readBytes(pathOrUrl: string, options: ByteSourceOptions = {}): Promise<Uint8Array> {
  if (isUrl(pathOrUrl)) return fetchBytes(pathOrUrl, options.http, options.signal ?? null);
  try {
    return await readFile(pathOrUrl, { signal: options.signal ?? undefined });
  } catch (err) {
    if (options.signal?.aborted) throw new AbortedError(`${pathOrUrl}: aborted`, { cause: err });
    throw fileError(pathOrUrl, err);
  }
}

/** A whole local file or URL as UTF-8 text (a GeoJSON region, a JSON config). Throws InputError naming it. */
export async function readText(pathOrUrl: string, options: ByteSourceOptions = {}): Promise<string> {
  const bytes = await readBytes(pathOrUrl, options);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (err) {
    const name = isUrl(pathOrUrl) ? redactUrl(pathOrUrl) : pathOrUrl;
    throw new InputError(`${name}: not UTF-8 text (${bytes.length} bytes); give a UTF-8 text file`, { file: name, cause: err });
  }
}
