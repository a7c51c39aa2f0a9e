/**
 * JPEG-in-TIFF decoding with libjpeg-turbo compiled to WebAssembly, driven through its TurboJPEG
 * functions: the library, IDCT (accurate integer) and upsampling (fancy) that GDAL decodes with, so
 * the pixels are GDAL's, bit for bit. The wasm comes from the package @cwasm/jpeg-turbo and is
 * loaded the first time a JPEG block is read.
 *
 * libjpeg reports errors by longjmp, which this build turns into a JavaScript exception thrown
 * through the wasm stack; the instance is thrown away after any failure, so a damaged block never
 * leaves a broken decoder for the next one. Warnings (a truncated or corrupt stream) are errors
 * here too.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { CodecError } from './codec-error.js';

/** Package shipping libjpeg-turbo's wasm. */
export const JPEG_PACKAGE = '@cwasm/jpeg-turbo';

// TurboJPEG constants (turbojpeg.h)
const TJCS_RGB = 0;
const TJCS_YCBCR = 1;
const TJCS_GRAY = 2;
const TJCS_CMYK = 3;
const TJPF_RGB = 0;
const TJPF_GRAY = 6;
const TJPF_CMYK = 11;
const TJFLAG_ACCURATEDCT = 4096;
const COLORSPACE_NAMES = ['RGB', 'YCbCr', 'grey', 'CMYK', 'YCCK'];

/** The WebAssembly API as far as it is used here (the project's TypeScript lib has no DOM types). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: object };
  RuntimeError: new () => Error;
}
const WASM = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

interface TurboJpeg {
  memory: { buffer: ArrayBuffer };
  malloc(n: number): number;
  free(p: number): void;
  tjInitDecompress(): number;
  tjDestroy(h: number): number;
  tjDecompressHeader3(h: number, src: number, n: number, w: number, hgt: number, sub: number, cs: number): number;
  tjDecompress2(h: number, src: number, n: number, dst: number, w: number, pitch: number, hgt: number, pf: number, flags: number): number;
}

class LongJump extends Error {}

let compiled: object | undefined;
let instance: TurboJpeg | undefined;

function wasmModule(): object {
  if (compiled === undefined) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(createRequire(import.meta.url).resolve(`${JPEG_PACKAGE}/jpeg-turbo.wasm`));
    } catch (cause) {
      throw new CodecError(`JPEG needs the package ${JPEG_PACKAGE}, which is not installed`, { unsupported: true, fix: `run npm install ${JPEG_PACKAGE}`, cause });
    }
    compiled = new WASM.Module(bytes);
  }
  return compiled;
}

function turboJpeg(): TurboJpeg {
  if (instance !== undefined) return instance;
  let memory: { buffer: ArrayBuffer } | undefined;
  const u32 = (p: number, v: number) => new DataView(memory!.buffer).setUint32(p, v, true);
  const imports = {
    env: {
      setjmp: () => 0,
      longjmp: () => {
        throw new LongJump('libjpeg error');
      },
    },
    // libc's stdio: messages are dropped (the caller sees a failed decode instead), never printed
    wasi_snapshot_preview1: {
      environ_sizes_get: (count: number, size: number) => (u32(count, 0), u32(size, 0), 0),
      environ_get: () => 0,
      proc_exit: () => {
        throw new LongJump('libjpeg exit');
      },
      fd_close: () => 0,
      fd_seek: () => 70,
      fd_write: (_fd: number, iovs: number, count: number, written: number) => {
        const view = new DataView(memory!.buffer);
        let total = 0;
        for (let i = 0; i < count; i++) total += view.getUint32(iovs + i * 8 + 4, true);
        view.setUint32(written, total, true);
        return 0;
      },
    },
  };
  const exports = new WASM.Instance(wasmModule(), imports).exports as unknown as TurboJpeg;
  memory = exports.memory;
  instance = exports;
  return exports;
}

/** What the block must decode to. */
export interface JpegTarget {
  width: number;
  /** Accepted heights: the block's rows (and, for a last strip, also the rows inside the image). */
  heights: readonly number[];
  /** Samples per pixel in the block: 1, 3 or 4. */
  components: number;
  /** The TIFF says YCbCr: the stream must be YCbCr and is converted to RGB, as GDAL asks libjpeg to. */
  ycbcr: boolean;
  /** YCbCrSubSampling (horizontal, vertical): the first component's sampling factors when YCbCr. */
  subsampling: readonly [number, number];
}

/**
 * Decode one JPEG block (the file's JPEGTables spliced in front of it) to interleaved 8-bit samples.
 * Returns `width * height * components` bytes, `height` one of `target.heights`.
 */
export function decodeJpeg(block: Uint8Array, tables: Uint8Array | undefined, target: JpegTarget): Uint8Array {
  const stream = splice(block, tables);
  checkSampling(stream, target);
  const tj = turboJpeg();
  let ok = false;
  try {
    const out = decodeWith(tj, stream, target);
    ok = true;
    return out;
  } catch (err) {
    if (err instanceof CodecError) throw err;
    if (err instanceof LongJump || err instanceof WASM.RuntimeError) {
      throw new CodecError('the JPEG stream is corrupt (libjpeg-turbo stopped with an error)', { cause: err });
    }
    throw err;
  } finally {
    // after a failure the wasm stack and heap are in an unknown state: start afresh next time
    if (!ok) instance = undefined;
  }
}

function decodeWith(tj: TurboJpeg, stream: Uint8Array, target: JpegTarget): Uint8Array {
  const src = tj.malloc(stream.length);
  const meta = tj.malloc(16);
  const handle = tj.tjInitDecompress();
  if (src === 0 || meta === 0 || handle === 0) throw new CodecError('the JPEG decoder is out of memory');
  new Uint8Array(tj.memory.buffer, src, stream.length).set(stream);
  if (tj.tjDecompressHeader3(handle, src, stream.length, meta, meta + 4, meta + 8, meta + 12) !== 0) {
    throw new CodecError('the JPEG header is corrupt');
  }
  const [width, height, , colorspace] = new Int32Array(tj.memory.buffer, meta, 4);
  if (width !== target.width || !target.heights.includes(height!)) {
    throw new CodecError(`the JPEG stream is ${width}x${height} pixels, the block is ${target.width}x${target.heights.join(' or ')}`);
  }
  const pf = pixelFormat(colorspace!, target);
  const n = width * height! * target.components;
  const dst = tj.malloc(n);
  if (dst === 0) throw new CodecError(`the JPEG decoder cannot allocate ${n} bytes`);
  if (tj.tjDecompress2(handle, src, stream.length, dst, width, 0, height!, pf, TJFLAG_ACCURATEDCT) !== 0) {
    throw new CodecError('the JPEG stream is corrupt or truncated (libjpeg-turbo reported an error or a warning)');
  }
  const out = new Uint8Array(tj.memory.buffer, dst, n).slice();
  tj.free(dst);
  tj.free(meta);
  tj.free(src);
  tj.tjDestroy(handle);
  return out;
}

/** TurboJPEG pixel format giving GDAL's samples, or a CodecError when GDAL's would differ. */
function pixelFormat(colorspace: number, t: JpegTarget): number {
  const cs = COLORSPACE_NAMES[colorspace] ?? `colour space ${colorspace}`;
  if (t.components === 1 && colorspace === TJCS_GRAY) return TJPF_GRAY;
  // YCbCr TIFFs are converted to RGB; RGB TIFFs hold an RGB stream, not converted
  if (t.components === 3 && colorspace === (t.ycbcr ? TJCS_YCBCR : TJCS_RGB)) return TJPF_RGB;
  if (t.components === 4 && colorspace === TJCS_CMYK) return TJPF_CMYK;
  if (t.components === 3 && (colorspace === TJCS_YCBCR || colorspace === TJCS_RGB)) {
    throw new CodecError(`the JPEG stream is ${cs} but the TIFF says ${t.ycbcr ? 'YCbCr' : 'not YCbCr'}; GDAL would not convert it as libjpeg does`, { unsupported: true });
  }
  throw new CodecError(`a ${cs} JPEG stream in a block of ${t.components} sample(s) per pixel is not supported`, { unsupported: true });
}

/**
 * libtiff's rule (GDAL refuses other streams): in pixel-interleaved blocks the first component is
 * sampled as YCbCrSubSampling says (1x1 unless YCbCr) and the others 1x1; a band's own block is 1x1.
 */
function checkSampling(stream: Uint8Array, t: JpegTarget): void {
  const factors = samplingFactors(stream);
  const [h, v] = t.ycbcr && t.components > 1 ? t.subsampling : [1, 1];
  if (!factors.every(([a, b], c) => (c === 0 ? a === h && b === v : a === 1 && b === 1))) {
    const found = factors.map(([a, b]) => `${a}x${b}`).join(', ');
    throw new CodecError(`the JPEG stream's sampling factors (${found}) are not those the TIFF gives (${h}x${v} for the first component, 1x1 for the others)`);
  }
}

/** Horizontal and vertical sampling factors of each component, from the start-of-frame marker. */
function samplingFactors(s: Uint8Array): [number, number][] {
  let i = 2;
  while (i + 4 <= s.length) {
    if (s[i] !== 0xff) throw new CodecError(`the JPEG stream is corrupt (no marker at byte ${i})`);
    const m = s[i + 1]!;
    if (m === 0xff) {
      i++;
      continue;
    }
    if (m === 0xda || m === 0xd9) break;
    const len = (s[i + 2]! << 8) | s[i + 3]!;
    // SOF0..SOF15, except DHT (C4), JPG (C8) and DAC (CC)
    if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) {
      const n = s[i + 9] ?? 0;
      if (n === 0 || i + 10 + 3 * n > s.length) break;
      return Array.from({ length: n }, (_, c) => {
        const f = s[i + 11 + 3 * c]!;
        return [f >> 4, f & 15];
      });
    }
    i += 2 + len;
  }
  throw new CodecError('the JPEG stream has no usable start-of-frame marker');
}

/** The block's stream with the shared tables (JPEGTables: SOI, tables, EOI) put in front of it. */
function splice(block: Uint8Array, tables: Uint8Array | undefined): Uint8Array {
  const n = block.length;
  if (n < 4 || block[0] !== 0xff || block[1] !== 0xd8) throw new CodecError('the block does not start with a JPEG start-of-image marker');
  if (block[n - 2] !== 0xff || block[n - 1] !== 0xd9) throw new CodecError('the JPEG stream does not end with an end-of-image marker (truncated or followed by other bytes)');
  if (tables === undefined || tables.length === 0) return block;
  const t = tables.length;
  if (t < 4 || tables[0] !== 0xff || tables[1] !== 0xd8 || tables[t - 2] !== 0xff || tables[t - 1] !== 0xd9) {
    throw new CodecError('the JPEGTables tag is not a JPEG tables stream (start and end markers missing)');
  }
  const out = new Uint8Array(t - 2 + n - 2);
  out.set(tables.subarray(0, t - 2), 0);
  out.set(block.subarray(2), t - 2);
  return out;
}
