/**
 * PackBits decoding (TIFF 6, section 9) into the caller's buffer, never past it. Runs that end
 * past the input, and output longer than the buffer, throw a CodecError.
 */
import { CodecError } from './codec-error.js';

/** Decode `input` into `out`; returns the number of bytes written. */
export function packBitsDecode(input: Uint8Array, out: Uint8Array): number {
  const n = input.length;
  const cap = out.length;
  let i = 0;
  let o = 0;
  while (i < n) {
    const h = input[i++]!;
    if (h < 128) {
      const len = h + 1;
      if (i + len > n) throw new CodecError(`PackBits literal run of ${len} bytes at byte ${i - 1} runs past the end of the data (${n} bytes)`);
      if (o + len > cap) throw tooLong(cap);
      out.set(input.subarray(i, i + len), o);
      i += len;
      o += len;
    } else if (h > 128) {
      const len = 257 - h;
      if (i >= n) throw new CodecError(`PackBits repeat run at byte ${i - 1} has no byte to repeat (the data ends)`);
      if (o + len > cap) throw tooLong(cap);
      out.fill(input[i++]!, o, o + len);
      o += len;
    }
    // 128 is a no-op
  }
  return o;
}

function tooLong(cap: number): CodecError {
  return new CodecError(`PackBits data decodes to more than the ${cap} bytes the block holds`);
}
