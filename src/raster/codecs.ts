/**
 * Block decompression by TIFF compression code. Deflate and zstd are decoded here with a bound on
 * the output size (node:zlib runs on libuv's thread pool, so several blocks inflate in parallel);
 * LZW, PackBits, JPEG and LERC use geotiff.js's decoders; WebP uses libwebp compiled to wasm.
 * Predictors are undone by the caller (src/raster/predictor.ts), not here.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { inflate, inflateSync } from 'node:zlib';
import { getDecoder } from 'geotiff';
import { ZSTDDecoder } from 'zstddec';
import { UnsupportedError } from '../errors.js';
import { swapBytes } from './predictor.js';

const inflateAsync = promisify(inflate);

/** Compression names as GDAL reports them in IMAGE_STRUCTURE. */
export const COMPRESSION_NAMES: Record<number, string> = {
  1: 'NONE', 2: 'CCITTRLE', 3: 'CCITTFAX3', 4: 'CCITTFAX4', 5: 'LZW', 6: 'OJPEG', 7: 'JPEG',
  8: 'DEFLATE', 32946: 'DEFLATE', 32773: 'PACKBITS', 34712: 'JPEG2000', 34887: 'LERC',
  34925: 'LZMA', 50000: 'ZSTD', 50001: 'WEBP', 50002: 'JXL', 52546: 'JXL',
};

const SUPPORTED = new Set([1, 5, 7, 8, 32946, 32773, 34887, 50000, 50001]);

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
  jpegTables?: Uint8Array;
  lercParameters?: number[];
}

let zstd: ZSTDDecoder | undefined;
let zstdReady: Promise<void> | undefined;
async function zstdDecoder(): Promise<ZSTDDecoder> {
  if (!zstd) {
    zstd = new ZSTDDecoder();
    zstdReady = zstd.init();
  }
  await zstdReady;
  return zstd;
}

interface ImageDataLike { data: Uint8ClampedArray; width: number; height: number }
let webpDecode: ((b: ArrayBuffer) => Promise<ImageDataLike>) | undefined;
async function webpDecoder(): Promise<(b: ArrayBuffer) => Promise<ImageDataLike>> {
  if (!webpDecode) {
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
    webpDecode = mod.default as unknown as (b: ArrayBuffer) => Promise<ImageDataLike>;
  }
  return webpDecode;
}

type GeotiffDecoder = { decodeBlock(b: ArrayBuffer): ArrayBuffer | Promise<ArrayBuffer> };
const geotiffDecoders = new Map<string, Promise<GeotiffDecoder>>();
function geotiffDecoder(code: number, layout: BlockLayout): Promise<GeotiffDecoder> {
  const key = `${code}:${layout.width}:${layout.height}:${layout.bitsPerSample}:${layout.samplesPerBlock}:${layout.planar}`;
  let d = geotiffDecoders.get(key);
  // JPEG and LERC decoders carry per-file tables: never share them between files.
  if (!d || code === 7 || code === 34887) {
    d = getDecoder(code, {
      tileWidth: layout.width,
      tileHeight: layout.height,
      predictor: 1,
      bitsPerSample: new Array(layout.samplesPerBlock).fill(layout.bitsPerSample),
      planarConfiguration: layout.planar,
      samplesPerPixel: layout.samplesPerBlock,
      JPEGTables: layout.jpegTables,
      LercParameters: layout.lercParameters,
    } as never) as unknown as Promise<GeotiffDecoder>;
    if (code !== 7 && code !== 34887) geotiffDecoders.set(key, d);
  }
  return d;
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

/**
 * Decompress one block. `expectedBytes` bounds the output: decoders that could be made to
 * allocate more (deflate, zstd) are stopped there. Returns the raw sample bytes in file order.
 */
export async function decompress(code: number, bytes: Uint8Array, expectedBytes: number, layout: BlockLayout): Promise<Uint8Array> {
  switch (code) {
    case 1:
      return bytes;
    case 8:
    case 32946: {
      const out = await inflateAsync(bytes, { maxOutputLength: Math.max(expectedBytes, 1), chunkSize: Math.max(expectedBytes, 64 * 1024) });
      return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    }
    case 50000: {
      const z = await zstdDecoder();
      const out = z.decode(bytes, expectedBytes);
      // zstddec returns ZSTD's error codes as out-of-range sizes instead of throwing.
      if (out.length > expectedBytes) throw new Error('zstd stream is corrupt');
      return out;
    }
    case 50001: {
      const decode = await webpDecoder();
      const img = await decode(toArrayBuffer(bytes));
      const n = img.width * img.height;
      const spp = layout.samplesPerBlock;
      if (spp === 4) return new Uint8Array(img.data.buffer, img.data.byteOffset, n * 4);
      const out = new Uint8Array(n * spp);
      for (let i = 0; i < n; i++) for (let s = 0; s < spp; s++) out[i * spp + s] = img.data[i * 4 + s]!;
      return out;
    }
    case 34887:
      return decodeLerc(bytes, expectedBytes, layout);
    default: {
      const dec = await geotiffDecoder(code, layout);
      const out = await dec.decodeBlock(toArrayBuffer(bytes));
      return new Uint8Array(out);
    }
  }
}

interface LercBlock { pixels: ArrayLike<number>[] & { buffer?: ArrayBufferLike }[]; mask: Uint8Array | null }
interface LercModule { decode(b: ArrayBuffer, o: { returnPixelInterleavedDims: boolean }): LercBlock }
let lerc: Promise<LercModule> | undefined;

/**
 * LERC (optionally wrapped in deflate or zstd, as LercParameters says). Pixels LERC marks invalid
 * are NaN for float samples, as GDAL reads them, and 0 otherwise.
 */
async function decodeLerc(bytes: Uint8Array, expectedBytes: number, layout: BlockLayout): Promise<Uint8Array> {
  lerc ??= import('lerc').then((m) => ((m as { default?: LercModule }).default ?? m) as LercModule);
  const mod = await lerc;
  let blob = bytes;
  const wrap = layout.lercParameters?.[1] ?? 0;
  if (wrap === 1) blob = inflateSync(bytes, { maxOutputLength: expectedBytes * 2 + 4096 });
  else if (wrap === 2) blob = (await zstdDecoder()).decode(bytes, expectedBytes * 2 + 4096);
  else if (wrap !== 0) throw new UnsupportedError(`LERC with additional compression ${wrap} is not supported`);
  const r = mod.decode(toArrayBuffer(blob), { returnPixelInterleavedDims: layout.planar === 1 });
  const px = r.pixels[0] as unknown as Float32Array;
  if (r.mask && layout.float) {
    const per = layout.planar === 1 ? layout.samplesPerBlock : 1;
    for (let i = 0; i < r.mask.length; i++) if (r.mask[i] === 0) px.fill(NaN, i * per, (i + 1) * per);
  }
  const out = new Uint8Array(px.buffer, px.byteOffset, px.byteLength);
  if (!layout.littleEndian && px.BYTES_PER_ELEMENT > 1) swapBytes(out, px.BYTES_PER_ELEMENT);
  return out;
}
