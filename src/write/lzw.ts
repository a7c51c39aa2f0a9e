/**
 * TIFF LZW (compression 5): MSB-first codes of 9 to 12 bits, Clear 256, EndOfInformation 257,
 * code width switching one code early, as libtiff writes and reads it.
 */

const CLEAR = 256;
const EOI = 257;
const FIRST = 258;
/** libtiff resets the table when the next free code reaches this. */
const TABLE_FULL = 4094;
const HASH_SIZE = 1 << 14;

/**
 * Open-addressing hash of (prefix code << 8 | byte) -> code, shared by every call (encoding is
 * synchronous) and cleared by bumping the generation stamp.
 */
const table = { keys: new Int32Array(HASH_SIZE), codes: new Uint16Array(HASH_SIZE), stamp: new Uint32Array(HASH_SIZE) };
let generation = 0;

/** Compress a buffer with TIFF LZW. */
export function lzwEncode(src: Uint8Array): Uint8Array {
  // Worst case: every byte its own 12-bit code, plus Clear codes and EOI.
  const out = new Uint8Array(Math.ceil(src.length * 1.5) + 64);
  let o = 0;
  let acc = 0;
  let accBits = 0;
  let nbits = 9;
  let maxcode = 511;
  let free = FIRST;
  const { keys, codes, stamp } = table;

  const put = (code: number): void => {
    acc = (acc << nbits) | code;
    accBits += nbits;
    while (accBits >= 8) {
      accBits -= 8;
      out[o++] = (acc >>> accBits) & 0xff;
    }
    acc &= (1 << accBits) - 1;
  };
  const reset = (): void => {
    if (generation === 0xffffffff) {
      table.stamp.fill(0);
      generation = 0;
    }
    generation++;
    free = FIRST;
    nbits = 9;
    maxcode = 511;
  };
  const afterAdd = (): void => {
    if (free === TABLE_FULL) {
      put(CLEAR);
      reset();
    } else if (free > maxcode) {
      nbits++;
      maxcode = (1 << nbits) - 1;
    }
  };

  reset();
  put(CLEAR);
  if (src.length > 0) {
    let ent = src[0]!;
    for (let i = 1; i < src.length; i++) {
      const c = src[i]!;
      const key = (ent << 8) | c;
      let h = Math.imul(key, 0x9e3779b1) >>> 18;
      let found = -1;
      while (stamp[h] === generation) {
        if (keys[h] === key) {
          found = codes[h]!;
          break;
        }
        h = (h + 1) & (HASH_SIZE - 1);
      }
      if (found >= 0) {
        ent = found;
        continue;
      }
      put(ent);
      stamp[h] = generation;
      keys[h] = key;
      codes[h] = free++;
      ent = c;
      afterAdd();
    }
    put(ent);
    // The decoder adds one more entry after reading the last code: EOI is written at its width.
    free++;
    afterAdd();
  }
  put(EOI);
  if (accBits > 0) out[o++] = (acc << (8 - accBits)) & 0xff;
  return out.subarray(0, o);
}
