/**
 * Block decompression by TIFF compression code. Every decoder's output is bounded by the block's
 * size and must be exactly that size: a stream that ends early, has bytes after its end, or
 * decodes to any other size throws a CodecError. Deflate runs on libuv's thread pool (node:zlib),
 * zstd and WebP in wasm, LZW and PackBits here, JPEG in libjpeg-turbo's wasm, LERC in the `lerc`
 * package. Predictors are undone by the caller (src/raster/predictor.ts), not here.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { inflate, type ZlibOptions } from 'node:zlib';
import { ZSTDDecoder } from 'zstddec';
import { CodecError, describeThrown } from './codec-error.js';
import { decodeJpeg } from './jpeg.js';
import { decodeLerc } from './lerc.js';
import { lzwDecode } from './lzw.js';
import { packBitsDecode } from './packbits.js';
import type { DataType } from './types.js';
import { UnsupportedError } from '../errors.js';

const inflateAsync = promisify(inflate) as unknown as (b: Uint8Array, o: ZlibOptions & { info: true }) => Promise<{ buffer: Buffer; engine: { bytesWritten: number } }>;

/** Compression names as GDAL reports them in IMAGE_STRUCTURE. */
export const COMPRESSION_NAMES: Record<number, string> = {
  1: 'NONE', 2: 'CCITTRLE', 3: 'CCITTFAX3', 4: 'CCITTFAX4', 5: 'LZW', 6: 'OJPEG', 7: 'JPEG',
  8: 'DEFLATE', 32946: 'DEFLATE', 32773: 'PACKBITS', 34712: 'JPEG2000', 34887: 'LERC',
  34925: 'LZMA', 50000: 'ZSTD', 50001: 'WEBP', 50002: 'JXL', 52546: 'JXL',
};

const SUPPORTED = new Set([1, 5, 7, 8, 32946, 32773, 34887, 50000, 50001]);

/**
 * How many times its compressed size a block can decode to, for the codecs where that is bounded
 * (deflate 1032:1, LZW < 2048:1 within one table, PackBits 64:1, zstd < 32768:1 with RLE blocks):
 * a header claiming more is damaged, and is refused before the output is allocated. JPEG, WebP and
 * LERC state the block's size in their own header, which is checked before decoding instead.
 */
export const MAX_EXPANSION: Record<number, number> = { 5: 2048, 8: 1032, 32946: 1032, 32773: 64, 50000: 32768 };

export function compressionName(code: number): string {
  return COMPRESSION_NAMES[code] ?? `code ${code}`;
}

/** Throws UnsupportedError when tilecast cannot decode this compression. */
export function checkCompression(code: number, file: string): void {
  if (!SUPPORTED.has(code)) {
    throw new UnsupportedError(
      `${file}: compression ${compressionName(code)} is not supported (supported: NONE, LZW, DEFLATE, PACKBITS, ZSTD, JPEG, WEBP, LERC); ` +
        `convert it with: gdal_translate -co COMPRESS=DEFLATE -co TILED=YES ${file} out.tif`,
      { file },
    );
  }
}

/** Whether libtiff (and so GDAL) applies the Predictor tag with this compression: LZW, deflate, zstd. */
export function usesPredictor(code: number): boolean {
  return code === 5 || code === 8 || code === 32946 || code === 50000;
}

/** What a decoder needs to know about the block layout. */
export interface BlockLayout {
  width: number;
  height: number;
  samplesPerBlock: number;
  bitsPerSample: number;
  planar: 1 | 2;
  /** Whether the file stores samples little-endian (decoders return bytes in file order). */
  littleEndian: boolean;
  /** Float samples: LERC's invalid pixels become NaN, as GDAL reads them. */
  float: boolean;
  /** Sample type (LERC checks it against its header); derived from bitsPerSample/float when absent. */
  dataType?: DataType;
  /** Pixel-interleaved, last sample an unassociated alpha (ExtraSamples 2): LERC may keep it as its mask. */
  unassociatedAlpha?: boolean;
  /** TIFF Photometric: 6 (YCbCr) asks the JPEG decoder for RGB, as GDAL does. */
  photometric?: number;
  /** YCbCrSubSampling (default 2, 2): what a YCbCr JPEG stream's first component must be sampled at. */
  ycbcrSubsampling?: readonly [number, number];
  jpegTables?: Uint8Array;
  lercParameters?: number[];
}

let zstd: Promise<ZSTDDecoder> | undefined;
function zstdDecoder(): Promise<ZSTDDecoder> {
  zstd ??= (async () => {
    const z = new ZSTDDecoder();
    await z.init();
    return z;
  })();
  return zstd;
}

interface ImageDataLike { data: Uint8ClampedArray; width: number; height: number }
let webpDecode: Promise<(b: ArrayBuffer) => Promise<ImageDataLike>> | undefined;
function webpDecoder(): Promise<(b: ArrayBuffer) => Promise<ImageDataLike>> {
  webpDecode ??= (async () => {
    // libwebp's emscripten glue builds an ImageData, which Node lacks.
    const g = globalThis as { ImageData?: unknown };
    g.ImageData ??= class {
      constructor(public data: Uint8ClampedArray, public width: number, public height: number) {}
    };
    const mod = await import('@jsquash/webp/decode.js');
    const require = createRequire(import.meta.url);
    const wasm = readFileSync(require.resolve('@jsquash/webp/codec/dec/webp_dec.wasm'));
    const wasmApi = (globalThis as unknown as { WebAssembly: { compile(b: Uint8Array): Promise<never> } }).WebAssembly;
    await mod.init(await wasmApi.compile(wasm));
    return mod.default as unknown as (b: ArrayBuffer) => Promise<ImageDataLike>;
  })();
  return webpDecode;
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

/**
 * Decompress one block to `expectedBytes` bytes (the full block), or to `shortBytes` when given
 * (a last strip that holds only the rows inside the image; libtiff accepts both). Returns the raw
 * sample bytes in file order; any other outcome throws a CodecError.
 */
export async function decompress(code: number, bytes: Uint8Array, expectedBytes: number, layout: BlockLayout, shortBytes = expectedBytes): Promise<Uint8Array> {
  const out = await decode(code, bytes, expectedBytes, layout, shortBytes);
  if (out.length !== expectedBytes && out.length !== shortBytes) {
    const want = shortBytes === expectedBytes ? `${expectedBytes}` : `${shortBytes} or ${expectedBytes}`;
    throw new CodecError(`the block decodes to ${out.length} bytes, expected ${want}`);
  }
  return out;
}

async function decode(code: number, bytes: Uint8Array, expectedBytes: number, layout: BlockLayout, shortBytes: number): Promise<Uint8Array> {
  switch (code) {
    case 1:
      return bytes;
    case 5:
      return bounded(lzwDecode, bytes, expectedBytes);
    case 32773:
      return bounded(packBitsDecode, bytes, expectedBytes);
    case 8:
    case 32946:
      return inflateAll(bytes, expectedBytes);
    case 50000:
      return zstdAll(bytes, expectedBytes);
    case 7: {
      if (layout.bitsPerSample !== 8) throw new CodecError(`JPEG blocks of ${layout.bitsPerSample}-bit samples are not supported (8-bit only)`, { unsupported: true });
      return decodeJpeg(bytes, layout.jpegTables, {
        width: layout.width, heights: heights(layout, expectedBytes, shortBytes),
        components: layout.samplesPerBlock, ycbcr: layout.photometric === 6, subsampling: layout.ycbcrSubsampling ?? [2, 2],
      });
    }
    case 50001:
      return decodeWebp(bytes, layout, heights(layout, expectedBytes, shortBytes));
    case 34887:
      return decodeLercBlock(bytes, expectedBytes, layout, shortBytes);
    default:
      throw new CodecError(`compression ${compressionName(code)} is not supported`, { unsupported: true });
  }
}

/** Block heights that give `expectedBytes` or `shortBytes`. */
function heights(layout: BlockLayout, expectedBytes: number, shortBytes: number): number[] {
  const row = layout.width * layout.samplesPerBlock * (layout.bitsPerSample / 8);
  return [...new Set([expectedBytes / row, shortBytes / row])];
}

function bounded(decoder: (input: Uint8Array, out: Uint8Array) => number, bytes: Uint8Array, capacity: number): Uint8Array {
  const out = new Uint8Array(capacity);
  return out.subarray(0, decoder(bytes, out));
}

/** A whole zlib stream of at most `maxBytes` decoded bytes, with nothing after its end. */
export async function inflateAll(bytes: Uint8Array, maxBytes: number): Promise<Uint8Array> {
  let r: { buffer: Buffer; engine: { bytesWritten: number } };
  try {
    r = await inflateAsync(bytes, { info: true, maxOutputLength: Math.max(maxBytes, 1), chunkSize: Math.min(Math.max(maxBytes, 1024), 1 << 20) });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ERR_BUFFER_TOO_LARGE' ? `it decodes to more than the ${maxBytes} bytes the block holds`
      : e.code === 'Z_BUF_ERROR' ? 'the stream ends early (truncated)'
        : `the stream is corrupt (zlib: ${describeThrown(err, 'no reason given')})`;
    throw new CodecError(`deflate data (${bytes.length} bytes) cannot be decoded: ${why}`, { cause: err });
  }
  const used = r.engine.bytesWritten;
  if (used < bytes.length) throw new CodecError(`${bytes.length - used} byte(s) follow the end of the deflate stream (${used} of ${bytes.length} bytes used)`);
  return new Uint8Array(r.buffer.buffer, r.buffer.byteOffset, r.buffer.byteLength);
}

/** Whole zstd frames decoding to `expectedBytes`, or fewer (a short last strip): anything else throws. */
export async function zstdAll(bytes: Uint8Array, expectedBytes: number): Promise<Uint8Array> {
  const z = await zstdDecoder();
  // zstddec returns ZSTD's error codes as sizes instead of throwing: an empty or odd result
  const out = z.decode(bytes, expectedBytes);
  if ((out.length === 0 && expectedBytes > 0) || out.length > expectedBytes) {
    throw new CodecError(`zstd data (${bytes.length} bytes) is corrupt, truncated, followed by other bytes, or decodes to more than the ${expectedBytes} bytes the block holds`);
  }
  return out;
}

/** LERC, optionally wrapped in deflate or zstd as LercParameters says; samples in file byte order. */
async function decodeLercBlock(bytes: Uint8Array, expectedBytes: number, layout: BlockLayout, shortBytes: number): Promise<Uint8Array> {
  // a LERC blob is never much larger than the raw samples: mask, block headers
  const maxBlob = expectedBytes * 2 + 4096;
  const wrap = layout.lercParameters?.[1] ?? 0;
  let blob = bytes;
  if (wrap === 1) blob = await inflateAll(bytes, maxBlob);
  else if (wrap === 2) blob = await zstdAll(bytes, maxBlob);
  else if (wrap !== 0) throw new CodecError(`LERC with additional compression ${wrap} is not supported (none, deflate or zstd)`, { unsupported: true });
  return decodeLerc(blob, {
    width: layout.width, heights: heights(layout, expectedBytes, shortBytes), samples: layout.samplesPerBlock,
    dataType: layout.dataType ?? dataTypeOf(layout), alpha: layout.unassociatedAlpha ?? false,
  });
}

function dataTypeOf(layout: BlockLayout): DataType {
  return (layout.float ? `float${layout.bitsPerSample}` : `uint${layout.bitsPerSample}`) as DataType;
}

/** WebP: the header's size must be the block's before decoding; RGB(A) samples out. */
async function decodeWebp(bytes: Uint8Array, layout: BlockLayout, rows: number[]): Promise<Uint8Array> {
  const spp = layout.samplesPerBlock;
  if (layout.bitsPerSample !== 8 || (spp !== 3 && spp !== 4)) {
    throw new CodecError(`WebP blocks of ${spp} ${layout.bitsPerSample}-bit sample(s) per pixel are not supported (3 or 4 8-bit samples)`, { unsupported: true });
  }
  const size = webpSize(bytes);
  if (size.width !== layout.width || !rows.includes(size.height)) {
    throw new CodecError(`the WebP image is ${size.width}x${size.height} pixels, the block is ${layout.width}x${rows.join(' or ')}`);
  }
  const decode = await webpDecoder();
  let img: ImageDataLike;
  try {
    img = await decode(toArrayBuffer(bytes));
  } catch (err) {
    throw new CodecError(`the WebP data is corrupt (${describeThrown(err, 'libwebp gave no reason')})`, { cause: err });
  }
  const n = img.width * img.height;
  if (img.width !== size.width || img.height !== size.height || img.data.length !== n * 4) {
    throw new CodecError(`the WebP image decoded to ${img.width}x${img.height} pixels, its header says ${size.width}x${size.height}`);
  }
  if (spp === 4) return new Uint8Array(img.data.buffer, img.data.byteOffset, n * 4);
  const out = new Uint8Array(n * 3);
  for (let i = 0, j = 0; i < n * 4; i += 4, j += 3) {
    out[j] = img.data[i]!;
    out[j + 1] = img.data[i + 1]!;
    out[j + 2] = img.data[i + 2]!;
  }
  return out;
}

/** Width and height from a WebP file's RIFF header (VP8, VP8L or VP8X), checking its length. */
export function webpSize(b: Uint8Array): { width: number; height: number } {
  const tag = (at: number) => String.fromCharCode(...b.subarray(at, at + 4));
  if (b.length < 30 || tag(0) !== 'RIFF' || tag(8) !== 'WEBP') throw new CodecError('the block is not a WebP image (no RIFF/WEBP header)');
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const riff = v.getUint32(4, true) + 8;
  if (riff > b.length) throw new CodecError(`the WebP image claims ${riff} bytes but the block has ${b.length}; it is truncated`);
  if (riff < b.length) throw new CodecError(`${b.length - riff} byte(s) follow the WebP image (${riff} bytes)`);
  const chunk = tag(12);
  if (chunk === 'VP8X') return { width: 1 + (v.getUint32(24, true) & 0xffffff), height: 1 + (v.getUint32(27, true) & 0xffffff) };
  if (chunk === 'VP8L') {
    if (b[20] !== 0x2f) throw new CodecError('the WebP lossless header is corrupt');
    const bits = v.getUint32(21, true);
    return { width: 1 + (bits & 0x3fff), height: 1 + ((bits >>> 14) & 0x3fff) };
  }
  if (chunk === 'VP8 ') {
    if (b[23] !== 0x9d || b[24] !== 0x01 || b[25] !== 0x2a) throw new CodecError('the WebP lossy header is corrupt');
    return { width: v.getUint16(26, true) & 0x3fff, height: v.getUint16(28, true) & 0x3fff };
  }
  throw new CodecError(`the WebP image has an unknown first chunk ${JSON.stringify(chunk)}`);
}
