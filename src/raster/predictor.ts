/**
 * Undo TIFF predictors on a decompressed block and bring samples to the host's (little-endian)
 * byte order. Predictor 2 (horizontal differencing) works on sample values, so bytes are swapped
 * first; predictor 3 (floating point, TIFF Technical Note 3) stores each row's bytes as planes,
 * most significant first, whatever the file's byte order.
 */
import type { DataType, TypedArray } from './types.js';
import { TYPED_ARRAY } from './types.js';

/** Reverse the byte order of every `size`-byte sample in place. */
export function swapBytes(b: Uint8Array, size: number): void {
  if (size === 2) {
    for (let i = 0; i + 1 < b.length; i += 2) { const t = b[i]!; b[i] = b[i + 1]!; b[i + 1] = t; }
  } else if (size === 4) {
    for (let i = 0; i + 3 < b.length; i += 4) {
      let t = b[i]!; b[i] = b[i + 3]!; b[i + 3] = t;
      t = b[i + 1]!; b[i + 1] = b[i + 2]!; b[i + 2] = t;
    }
  } else if (size === 8) {
    for (let i = 0; i + 7 < b.length; i += 8) {
      for (let k = 0; k < 4; k++) { const t = b[i + k]!; b[i + k] = b[i + 7 - k]!; b[i + 7 - k] = t; }
    }
  }
}

/**
 * Turn the decompressed bytes of a block (`width` samples-per-row groups of `spp` samples, `rows`
 * rows) into a typed array of `dtype` in host order, undoing `predictor`. May reuse `bytes`.
 */
export function toSamples(
  bytes: Uint8Array, dtype: DataType, littleEndian: boolean, predictor: number,
  width: number, rows: number, spp: number,
): TypedArray {
  const size = TYPED_ARRAY[dtype].BYTES_PER_ELEMENT;
  const n = width * rows * spp;
  // Own an aligned copy: decoders may hand back views at odd offsets or shared memory.
  let buf: Uint8Array = bytes.byteOffset % size === 0 && bytes.length >= n * size ? bytes.subarray(0, n * size) : copy(bytes, n * size);
  if (predictor === 3) {
    buf = undoFloatPredictor(buf, size, width, rows, spp);
  } else {
    if (!littleEndian && size > 1) swapBytes(buf, size);
  }
  if (predictor === 2) {
    // libtiff differences every type on its bits, as unsigned integers of the sample's width
    // (wrapping): unsigned views give the same bits for signed and float samples
    if (size === 8) undoHorizontal64(new BigUint64Array(buf.buffer, buf.byteOffset, n), width, rows, spp);
    else if (size === 4) undoHorizontal32(new Uint32Array(buf.buffer, buf.byteOffset, n), width, rows, spp);
    else if (size === 2) undoHorizontal16(new Uint16Array(buf.buffer, buf.byteOffset, n), width, rows, spp);
    else undoHorizontal8(buf.subarray(0, n), width, rows, spp);
  }
  return new TYPED_ARRAY[dtype](buf.buffer, buf.byteOffset, n);
}

function copy(b: Uint8Array, n: number): Uint8Array {
  const out = new Uint8Array(n);
  out.set(b.subarray(0, Math.min(n, b.length)));
  return out;
}

function undoHorizontal64(a: BigUint64Array, width: number, rows: number, spp: number): void {
  const stride = width * spp;
  for (let r = 0; r < rows; r++) {
    const row = r * stride;
    for (let i = row + spp, end = row + stride; i < end; i++) a[i] = BigInt.asUintN(64, a[i]! + a[i - spp]!);
  }
}

// One function per width, so that each loop sees a single array type (V8 compiles it to plain
// loads and stores instead of generic element access).

function undoHorizontal8(a: Uint8Array, width: number, rows: number, spp: number): void {
  const stride = width * spp;
  for (let r = 0; r < rows; r++) {
    const row = r * stride;
    for (let i = row + spp, end = row + stride; i < end; i++) a[i] = a[i]! + a[i - spp]!;
  }
}

function undoHorizontal16(a: Uint16Array, width: number, rows: number, spp: number): void {
  const stride = width * spp;
  for (let r = 0; r < rows; r++) {
    const row = r * stride;
    if (spp === 1) {
      let acc = a[row]!;
      for (let i = row + 1, end = row + stride; i < end; i++) a[i] = acc = (acc + a[i]!) & 0xffff;
    } else {
      for (let i = row + spp, end = row + stride; i < end; i++) a[i] = a[i]! + a[i - spp]!;
    }
  }
}

function undoHorizontal32(a: Uint32Array, width: number, rows: number, spp: number): void {
  const stride = width * spp;
  for (let r = 0; r < rows; r++) {
    const row = r * stride;
    for (let i = row + spp, end = row + stride; i < end; i++) a[i] = a[i]! + a[i - spp]!;
  }
}

/**
 * TIFF TN3: undo the byte differencing of each row, then regather the byte planes into samples.
 * As in libtiff, a byte is differenced against the same byte of the previous pixel: the stride is
 * the samples per pixel, not 1.
 */
function undoFloatPredictor(b: Uint8Array, size: number, width: number, rows: number, spp: number): Uint8Array {
  const samplesPerRow = width * spp;
  const rowBytes = samplesPerRow * size;
  const out = new Uint8Array(b.length);
  const words = new Uint32Array(out.buffer, 0, out.length >> 2);
  for (let r = 0; r < rows; r++) {
    const o = r * rowBytes;
    if (spp === 1) {
      let acc = b[o]!;
      for (let i = o + 1, end = o + rowBytes; i < end; i++) b[i] = acc = (acc + b[i]!) & 0xff;
    } else {
      for (let i = o + spp, end = o + rowBytes; i < end; i++) b[i] = (b[i]! + b[i - spp]!) & 0xff;
    }
    // plane k holds byte k of every sample counted from the most significant; the host is
    // little-endian, so a float32 is the word (p0 << 24 | p1 << 16 | p2 << 8 | p3) and a float64
    // the high word of planes 0..3 over the low word of planes 4..7
    const n = samplesPerRow;
    if (size === 4) {
      const w0 = o >> 2;
      for (let s = 0; s < n; s++) {
        const i = o + s;
        words[w0 + s] = ((b[i]! << 24) | (b[i + n]! << 16) | (b[i + 2 * n]! << 8) | b[i + 3 * n]!) >>> 0;
      }
    } else {
      const w0 = o >> 2;
      for (let s = 0; s < n; s++) {
        const i = o + s;
        words[w0 + 2 * s + 1] = ((b[i]! << 24) | (b[i + n]! << 16) | (b[i + 2 * n]! << 8) | b[i + 3 * n]!) >>> 0;
        words[w0 + 2 * s] = ((b[i + 4 * n]! << 24) | (b[i + 5 * n]! << 16) | (b[i + 6 * n]! << 8) | b[i + 7 * n]!) >>> 0;
      }
    }
  }
  return out;
}
