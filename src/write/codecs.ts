/**
 * Block codecs, all off the main thread and several blocks at once: deflate in libuv's
 * threadpool through node:zlib's async API (small blocks excepted, see SYNC_BELOW); zstd (the
 * WebAssembly build from the optional package @bokuweb/zstd-wasm) and LZW (a port of libtiff's
 * coder) in the codec worker pool.
 */
import { promisify } from 'node:util';
import { deflate, deflateSync, inflate, inflateSync } from 'node:zlib';
import { codecPool } from './codec-pool.js';
import type { Compression } from './options.js';
import { importZstd } from './zstd.js';

export interface Codec {
  /** TIFF Compression tag value. */
  readonly tiffCode: number;
  /** Compress one block. The input may be returned as is (no compression) but is never modified. */
  encode(data: Uint8Array): Promise<Uint8Array>;
  /** Decompress one block into exactly `byteLength` bytes. */
  decode(data: Uint8Array, byteLength: number): Promise<Uint8Array>;
}

const deflateAsync = promisify(deflate);
const inflateAsync = promisify(inflate);

/**
 * Blocks smaller than this are deflated on the calling thread: a threadpool round trip costs
 * about half a millisecond, more than compressing a few kilobytes. The output is the same.
 */
const SYNC_BELOW = 32 * 1024;

function lengthCheck(out: Uint8Array, byteLength: number, what: string): Uint8Array {
  if (out.length !== byteLength) throw new Error(`${what} block decoded to ${out.length} bytes, expected ${byteLength}`);
  return out;
}

/** The codec for a compression option; loads the zstd module on first use. */
export async function loadCodec(compression: Compression, level: number): Promise<Codec> {
  switch (compression) {
    case 'none':
      return {
        tiffCode: 1,
        encode: async (data) => data,
        decode: async (data, byteLength) => lengthCheck(data, byteLength, 'uncompressed'),
      };
    case 'deflate':
      return {
        tiffCode: 8,
        encode: async (data) => (data.length < SYNC_BELOW ? deflateSync(data, { level }) : deflateAsync(data, { level })),
        decode: async (data, byteLength) =>
          lengthCheck(byteLength < SYNC_BELOW ? inflateSync(data) : await inflateAsync(data), byteLength, 'deflate'),
      };
    case 'lzw':
      return {
        tiffCode: 5,
        encode: (data) => codecPool().run('encode', 'lzw', 0, data),
        decode: (data, byteLength) => codecPool().run('decode', 'lzw', 0, data, byteLength),
      };
    case 'zstd': {
      await importZstd();
      return {
        tiffCode: 50000,
        encode: (data) => codecPool().run('encode', 'zstd', level, data),
        decode: async (data, byteLength) => lengthCheck(await codecPool().run('decode', 'zstd', level, data), byteLength, 'zstd'),
      };
    }
  }
}
