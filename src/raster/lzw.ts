/**
 * LZW decoding as TIFF 6 and libtiff define it: 9- to 12-bit codes read most significant bit first,
 * the code width growing one code early, a clear code first; and the old-style variant (least
 * significant bit first, width growing on time) that libtiff still reads, recognised as libtiff
 * does by its first two bytes. Output goes into the caller's buffer and never past it.
 *
 * Damage is an error, never a silent short or long block: a code that is not yet in the table, a
 * string that would overflow the buffer, a stream without an end-of-information code, and bytes
 * after that code all throw a CodecError.
 */
import { CodecError } from './codec-error.js';

const CLEAR = 256;
const EOI = 257;
const FIRST = 258;
/** libtiff's table: 4096 codes plus 1024 of slack for encoders late to send a clear code. */
const TABLE = 4096 + 1024;

// A table entry's string is the previous code's string plus one byte, so it was written to the
// output already: an entry is where it starts there and its length, and decoding it is a copy.
const start = new Int32Array(TABLE);
const length = new Uint16Array(TABLE);

/** Decode `input` into `out`; returns the number of bytes written. */
export function lzwDecode(input: Uint8Array, out: Uint8Array): number {
  const n = input.length;
  const cap = out.length;
  const compat = n >= 2 && input[0] === 0 && (input[1]! & 1) === 1;
  // the width grows when the next free code reaches 2^width - 1 (new style) or 2^width (old style)
  const early = compat ? 0 : 1;
  let pos = 0;
  let buf = 0;
  let bits = 0;
  let width = 9;
  let mask = 511;
  let free = FIRST;
  let old = -1;
  // where the previous code's string was written, and its length
  let oldStart = 0;
  let oldLen = 0;
  let o = 0;
  for (;;) {
    let code: number;
    if (compat) {
      while (bits < width) {
        if (pos >= n) throw noEoi(n);
        buf |= input[pos++]! << bits;
        bits += 8;
      }
      code = buf & mask;
      buf >>>= width;
      bits -= width;
    } else {
      while (bits < width) {
        if (pos >= n) throw noEoi(n);
        buf = ((buf << 8) | input[pos++]!) & 0xffffff;
        bits += 8;
      }
      bits -= width;
      code = (buf >>> bits) & mask;
    }
    if (code === CLEAR) {
      free = FIRST;
      width = 9;
      mask = 511;
      old = CLEAR;
      continue;
    }
    if (code === EOI) break;
    if (old === CLEAR) {
      // the first code after a clear is a literal
      if (code > 255) throw new CodecError(`LZW code ${code} follows a clear code; only literals (0-255) may`);
      if (o >= cap) throw tooLong(cap);
      out[o] = code;
      oldStart = o++;
      oldLen = 1;
      old = code;
      continue;
    }
    if (old < 0) throw new CodecError('LZW data does not start with a clear code');
    if (code > free) throw new CodecError(`LZW code ${code} is not in the table (next free code ${free})`);
    if (free >= TABLE) throw new CodecError(`LZW table overflows (${TABLE} codes without a clear code)`);
    start[free] = oldStart;
    length[free] = oldLen + 1;
    free++;
    if (free + early > mask && width < 12) {
      width++;
      mask = (1 << width) - 1;
    }
    if (code < 256) {
      if (o >= cap) throw tooLong(cap);
      out[o] = code;
      oldStart = o++;
      oldLen = 1;
    } else {
      const len = length[code]!;
      const from = start[code]!;
      if (o + len > cap) throw tooLong(cap);
      // forward copy: when the code is the entry just made, its last byte is its first (o)
      if (len > 24 && from + len <= o) out.copyWithin(o, from, from + len);
      else for (let k = 0; k < len; k++) out[o + k] = out[from + k]!;
      oldStart = o;
      oldLen = len;
      o += len;
    }
    old = code;
  }
  if (pos < n) throw new CodecError(`${n - pos} byte(s) follow the LZW end-of-information code (the stream has ${n} bytes)`);
  return o;
}

function noEoi(n: number): CodecError {
  return new CodecError(`LZW data (${n} bytes) ends without an end-of-information code`);
}

function tooLong(cap: number): CodecError {
  return new CodecError(`LZW data decodes to more than the ${cap} bytes the block holds`);
}
