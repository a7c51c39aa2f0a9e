/**
 * Block codecs, all off the main thread and several blocks at once: deflate in libuv's
 * threadpool through node:zlib's async API (small blocks excepted, see SYNC_BELOW); zstd (the
 * WebAssembly build from the optional package @bokuweb/zstd-wasm) and LZW (a port of libtiff's
 * coder) in the codec worker pool.
 */
import { promisify } from 'node:util';
import { deflate, deflateSync } from 'node:zlib';
import { codecPool } from './codec-pool.js';
import type { Compression } from './options.js';
import { importZstd } from './zstd.js';

export interface Codec {
  /** TIFF Compression tag value. */
  readonly tiffCode: number;
  /** Compress one block. The input may be returned as is (no compression) but is never modified. */
  encode(data: Uint8Array): Promise<Uint8Array>;
}

const deflateAsync = promisify(deflate);

/**
 * Blocks smaller than this are deflated on the calling thread: a threadpool round trip costs
 * about half a millisecond, more than compressing a few kilobytes. The output is the same.
 */
const SYNC_BELOW = 32 * 1024;


/** The codec for a compression option; loads the zstd module on first use. */
export async function loadCodec(compression: Compression, level: number): Promise<Codec> {
  switch (compression) {
    case 'none':
      return {
        tiffCode: 1,
        encode: async (data) => data,
      };
    case 'deflate':
      return {
        tiffCode: 8,
        encode: async (data) => (data.length < SYNC_BELOW ? deflateSync(data, { level }) : deflateAsync(data, { level })),
      };
    case 'lzw':
      return {
        tiffCode: 5,
        encode: (data) => codecPool().encode('lzw', 0, data),
      };
    case 'zstd': {
      await importZstd();
      return {
        tiffCode: 50000,
        encode: (data) => codecPool().encode('zstd', level, data),
      };
    }
  }
}
