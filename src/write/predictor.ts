/**
 * TIFF predictors on one band's tile (planar configuration 2, so one sample per pixel), in place.
 * 2: horizontal differencing of samples as unsigned integers of the sample width (wrapping).
 * 3: floating-point predictor (Adobe TIFF tech note 3): each row's bytes are regrouped
 *    most-significant byte first (all samples' byte 0, then byte 1, …) and then differenced bytewise.
 * Data are little-endian, the host byte order on every platform Node runs on.
 */
import type { PredictorCode } from './options.js';

/** Apply a predictor to `rows` rows of `width` samples of `bytesPerSample` bytes each. */
export function applyPredictor(
  tile: Uint8Array,
  predictor: PredictorCode,
  bytesPerSample: number,
  width: number,
  rows: number,
  scratch: Uint8Array,
): void {
  if (predictor === 2) horizontal(tile, bytesPerSample, width, rows);
  else if (predictor === 3) floatingPoint(tile, bytesPerSample, width, rows, scratch);
}

function horizontal(tile: Uint8Array, bps: number, width: number, rows: number): void {
  const n = width * rows;
  if (bps === 8) {
    const a = new BigUint64Array(tile.buffer, tile.byteOffset, n);
    for (let r = 0; r < rows; r++) {
      const s = r * width;
      for (let i = s + width - 1; i > s; i--) a[i] = a[i]! - a[i - 1]!;
    }
    return;
  }
  const a =
    bps === 1
      ? tile.subarray(0, n)
      : bps === 2
        ? new Uint16Array(tile.buffer, tile.byteOffset, n)
        : new Uint32Array(tile.buffer, tile.byteOffset, n);
  for (let r = 0; r < rows; r++) {
    const s = r * width;
    for (let i = s + width - 1; i > s; i--) a[i] = a[i]! - a[i - 1]!;
  }
}

function floatingPoint(tile: Uint8Array, bps: number, width: number, rows: number, scratch: Uint8Array): void {
  const rowBytes = width * bps;
  const tmp = scratch.subarray(0, rowBytes);
  // Rows start on multiples of 4 bytes (bps is 4 or 8 and buffers are aligned), so 32-bit words
  // can be read and written directly; little-endian, so word k of a float64 sample is its
  // low half for k = 0.
  const words = bps / 4;
  const src = new Uint32Array(tmp.buffer, tmp.byteOffset, width * words);
  for (let r = 0; r < rows; r++) {
    const off = r * rowBytes;
    const row = tile.subarray(off, off + rowBytes);
    tmp.set(row);
    // Byte plane p (0 = most significant) holds byte (bps - 1 - p) of every sample; the bytes
    // are differenced along the concatenated planes in the same pass.
    let prev = 0;
    for (let p = 0; p < bps; p++) {
      const word = words - 1 - (p >> 2);
      const shift = 24 - 8 * (p & 3);
      const base = p * width;
      for (let i = 0; i < width; i++) {
        const cur = (src[i * words + word]! >>> shift) & 0xff;
        row[base + i] = cur - prev;
        prev = cur;
      }
    }
  }
}
