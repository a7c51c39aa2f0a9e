/**
 * TIFF and BigTIFF header and image file directory (IFD) encoding, little-endian.
 * An IFD is written as one buffer: the directory, then every value too large to sit in its
 * entry, each starting on an 8-byte boundary.
 */

export type FieldType = 'byte' | 'ascii' | 'short' | 'long' | 'double' | 'long8';

const TYPE_CODE: { [K in FieldType]: number } = { byte: 1, ascii: 2, short: 3, long: 4, double: 12, long8: 16 };
const TYPE_SIZE: { [K in FieldType]: number } = { byte: 1, ascii: 1, short: 2, long: 4, double: 8, long8: 8 };

export interface IfdEntry {
  tag: number;
  type: FieldType;
  /** Values; for 'ascii' the bytes including the terminating NUL (see asciiEntry). */
  values: ArrayLike<number>;
}

/** TIFF tag numbers: one table for the reader and the writer. */
export { TAG } from '../raster/tiff.js';

/** An ASCII entry: the text as Latin-1 bytes plus NUL (non-Latin-1 characters become UTF-8 bytes). */
export function asciiEntry(tag: number, text: string): IfdEntry {
  const bytes = Buffer.from(text + '\0', 'utf8');
  return { tag, type: 'ascii', values: bytes };
}

/** Byte length of a TIFF (8) or BigTIFF (16) header. */
export function headerLength(bigTiff: boolean): number {
  return bigTiff ? 16 : 8;
}

/** The file header pointing at the first IFD. */
export function encodeHeader(bigTiff: boolean, firstIfd: number): Uint8Array {
  const out = new Uint8Array(headerLength(bigTiff));
  const dv = new DataView(out.buffer);
  out[0] = 0x49;
  out[1] = 0x49;
  if (bigTiff) {
    dv.setUint16(2, 43, true);
    dv.setUint16(4, 8, true);
    dv.setUint16(6, 0, true);
    setUint64(dv, 8, firstIfd);
  } else {
    dv.setUint16(2, 42, true);
    dv.setUint32(4, firstIfd, true);
  }
  return out;
}

function align8(n: number): number {
  return Math.ceil(n / 8) * 8;
}

function dirLength(count: number, bigTiff: boolean): number {
  return bigTiff ? 8 + 20 * count + 8 : 2 + 12 * count + 4;
}

/** Byte length of encodeIfd's output for these entries. */
export function ifdByteLength(entries: readonly IfdEntry[], bigTiff: boolean): number {
  const inline = bigTiff ? 8 : 4;
  let n = align8(dirLength(entries.length, bigTiff));
  for (const e of entries) {
    const size = e.values.length * TYPE_SIZE[e.type];
    if (size > inline) n += align8(size);
  }
  return n;
}

/**
 * Encode an IFD that will be written at file offset `at`, followed by its out-of-line values.
 * `nextIfd` is the offset of the next IFD, 0 for the last one.
 */
export function encodeIfd(entries: readonly IfdEntry[], at: number, bigTiff: boolean, nextIfd: number): Uint8Array {
  const sorted = [...entries].sort((a, b) => a.tag - b.tag);
  const out = new Uint8Array(ifdByteLength(sorted, bigTiff));
  const dv = new DataView(out.buffer);
  const inline = bigTiff ? 8 : 4;
  const entrySize = bigTiff ? 20 : 12;
  const countSize = bigTiff ? 8 : 2;
  let extra = align8(dirLength(sorted.length, bigTiff));
  if (bigTiff) setUint64(dv, 0, sorted.length);
  else dv.setUint16(0, sorted.length, true);
  sorted.forEach((e, i) => {
    const p = countSize + i * entrySize;
    const size = e.values.length * TYPE_SIZE[e.type];
    dv.setUint16(p, e.tag, true);
    dv.setUint16(p + 2, TYPE_CODE[e.type], true);
    if (bigTiff) setUint64(dv, p + 4, e.values.length);
    else dv.setUint32(p + 4, e.values.length, true);
    const valuePos = bigTiff ? p + 12 : p + 8;
    if (size <= inline) {
      writeValues(dv, valuePos, e);
    } else {
      if (bigTiff) setUint64(dv, valuePos, at + extra);
      else setUint32Checked(dv, valuePos, at + extra);
      writeValues(dv, extra, e);
      extra += align8(size);
    }
  });
  const nextPos = countSize + sorted.length * entrySize;
  if (bigTiff) setUint64(dv, nextPos, nextIfd);
  else setUint32Checked(dv, nextPos, nextIfd);
  return out;
}

function writeValues(dv: DataView, pos: number, e: IfdEntry): void {
  const v = e.values;
  const n = v.length;
  switch (e.type) {
    case 'byte':
    case 'ascii':
      for (let i = 0; i < n; i++) dv.setUint8(pos + i, v[i]!);
      break;
    case 'short':
      for (let i = 0; i < n; i++) dv.setUint16(pos + 2 * i, v[i]!, true);
      break;
    case 'long':
      for (let i = 0; i < n; i++) setUint32Checked(dv, pos + 4 * i, v[i]!);
      break;
    case 'double':
      for (let i = 0; i < n; i++) dv.setFloat64(pos + 8 * i, v[i]!, true);
      break;
    case 'long8':
      for (let i = 0; i < n; i++) setUint64(dv, pos + 8 * i, v[i]!);
      break;
  }
}

function setUint32Checked(dv: DataView, pos: number, v: number): void {
  if (v > 0xffffffff) throw new RangeError(`value ${v} does not fit a classic TIFF offset (4 GiB): BigTIFF is needed`);
  dv.setUint32(pos, v, true);
}

/** Little-endian unsigned 64-bit integer from a number below 2^53. */
export function setUint64(dv: DataView, pos: number, v: number): void {
  dv.setUint32(pos, v % 0x100000000, true);
  dv.setUint32(pos + 4, Math.floor(v / 0x100000000), true);
}
