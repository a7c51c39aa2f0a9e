/**
 * TIFF / BigTIFF header and IFD parsing, with every size checked against the file before anything
 * is allocated. (geotiff.js's own parser allocates a tag's array from the count the file claims,
 * which lets a 158-byte file exhaust the heap; this one refuses instead.) Only the tags tilecast
 * reads are decoded, and the first IFD's are checked against the field types TIFF 6 and BigTIFF
 * allow for them.
 */
import type { FileHandle } from 'node:fs/promises';
import { InputError } from '../errors.js';
import type { ByteSource } from './byte-source.js';
import { FileByteSource } from './file-source.js';

/** Tag numbers tilecast reads. */
export const TAG = {
  NewSubfileType: 254,
  ImageWidth: 256,
  ImageLength: 257,
  BitsPerSample: 258,
  Compression: 259,
  Photometric: 262,
  ImageDescription: 270,
  StripOffsets: 273,
  SamplesPerPixel: 277,
  RowsPerStrip: 278,
  StripByteCounts: 279,
  PlanarConfiguration: 284,
  Predictor: 317,
  ColorMap: 320,
  TileWidth: 322,
  TileLength: 323,
  TileOffsets: 324,
  TileByteCounts: 325,
  ExtraSamples: 338,
  SampleFormat: 339,
  JPEGTables: 347,
  YCbCrSubSampling: 530,
  ModelPixelScale: 33550,
  ModelTiepoint: 33922,
  ModelTransformation: 34264,
  GeoKeyDirectory: 34735,
  GeoDoubleParams: 34736,
  GeoAsciiParams: 34737,
  GdalMetadata: 42112,
  GdalNodata: 42113,
  LercParameters: 50674,
} as const;

const TAG_NAMES = new Map<number, string>(Object.entries(TAG).map(([name, tag]) => [tag, name]));

/** Bytes per value of each TIFF field type (1..18). */
const TYPE_SIZE: Record<number, number> = {
  1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 16: 8, 17: 8, 18: 8,
};

const TYPE_NAMES: Record<number, string> = {
  1: 'BYTE', 2: 'ASCII', 3: 'SHORT', 4: 'LONG', 5: 'RATIONAL', 6: 'SBYTE', 7: 'UNDEFINED', 8: 'SSHORT',
  9: 'SLONG', 10: 'SRATIONAL', 11: 'FLOAT', 12: 'DOUBLE', 13: 'IFD', 16: 'LONG8', 17: 'SLONG8', 18: 'IFD8',
};

// Field types each tag may have, in a classic TIFF and in a BigTIFF. Unsigned integers may be
// stored in any unsigned width (libtiff reads them so); 64-bit types exist only in BigTIFF. Strip
// and tile offsets and byte counts are SHORT, LONG or LONG8 (and SLONG8, which some writers use):
// the only types libtiff reads them as when GDAL loads them on demand.
interface Kinds { classic: number[]; big: number[] }
const UINT: Kinds = { classic: [1, 3, 4], big: [1, 3, 4, 16] };
const OFFSET: Kinds = { classic: [3, 4], big: [3, 4, 16, 17] };
const REAL: Kinds = { classic: [1, 3, 4, 5, 6, 8, 9, 10, 11, 12], big: [1, 3, 4, 5, 6, 8, 9, 10, 11, 12, 16, 17] };
const ASCII: Kinds = { classic: [2], big: [2] };
const BYTES: Kinds = { classic: [7], big: [7] };
const FIELD_TYPES: Record<number, Kinds> = {
  [TAG.NewSubfileType]: UINT, [TAG.ImageWidth]: UINT, [TAG.ImageLength]: UINT, [TAG.BitsPerSample]: UINT,
  [TAG.Compression]: UINT, [TAG.Photometric]: UINT, [TAG.StripOffsets]: OFFSET, [TAG.SamplesPerPixel]: UINT,
  [TAG.RowsPerStrip]: UINT, [TAG.StripByteCounts]: OFFSET, [TAG.PlanarConfiguration]: UINT, [TAG.Predictor]: UINT, [TAG.ColorMap]: UINT,
  [TAG.TileWidth]: UINT, [TAG.TileLength]: UINT, [TAG.TileOffsets]: OFFSET, [TAG.TileByteCounts]: OFFSET,
  [TAG.ExtraSamples]: UINT, [TAG.SampleFormat]: UINT, [TAG.JPEGTables]: BYTES, [TAG.YCbCrSubSampling]: UINT,
  [TAG.ModelPixelScale]: REAL, [TAG.ModelTiepoint]: REAL, [TAG.ModelTransformation]: REAL,
  [TAG.GeoKeyDirectory]: UINT, [TAG.GeoDoubleParams]: REAL, [TAG.GeoAsciiParams]: ASCII,
  [TAG.GdalMetadata]: ASCII, [TAG.GdalNodata]: ASCII, [TAG.LercParameters]: UINT,
};
const BIG_TYPES = [16, 17, 18];
/** Tags that hold exactly one value. */
const SCALAR: readonly number[] = [
  TAG.NewSubfileType, TAG.ImageWidth, TAG.ImageLength, TAG.Compression, TAG.Photometric, TAG.SamplesPerPixel,
  TAG.RowsPerStrip, TAG.PlanarConfiguration, TAG.Predictor, TAG.TileWidth, TAG.TileLength,
];

export type TagValue = number[] | string | Uint8Array;

export interface Ifd {
  /** Byte offset of this IFD in the file. */
  offset: number;
  /** Values of the tags tilecast reads (other tags are skipped). */
  tags: Map<number, TagValue>;
  /** Field type of every entry, read or not. */
  types: Map<number, number>;
}

/** A tag's name and number, e.g. "ImageWidth (256)". */
function tagName(tag: number): string {
  return `${TAG_NAMES.get(tag) ?? 'tag'} (${tag})`;
}

/** A field type's name and number, e.g. "DOUBLE (12)". */
function typeName(type: number): string {
  return `${TYPE_NAMES[type] ?? 'unknown type'} (${type})`;
}

/** A list of values for a one-line message: all of a short list, the count and the first few of a long one. */
export function summarise(values: readonly (number | string)[], max = 6): string {
  if (values.length <= max) return values.join(', ');
  return `${values.length} values: ${values.slice(0, max - 2).join(', ')}, …`;
}

export interface TiffHeader {
  littleEndian: boolean;
  bigTiff: boolean;
  fileSize: number;
  ifds: Ifd[];
}

/** At most this many IFDs are parsed (GDAL files have one per overview and mask). */
const MAX_IFDS = 256;
/** Tag payloads bigger than this are refused: no valid GeoTIFF header needs more. */
const MAX_TAG_BYTES = 512 * 1024 * 1024;

/** Bytes the header is read in: one request for the header and the IFDs of most COGs. */
export const HEADER_CHUNK = 65_536;

/**
 * Reads for the header parser, served from chunks of at least HEADER_CHUNK bytes, so that the
 * IFD entries and tag values of a file cost a few reads (a few requests over HTTP), not one per tag.
 */
class HeaderReader {
  private readonly chunks: { start: number; bytes: Buffer }[] = [];
  constructor(readonly source: ByteSource) {}

  async read(offset: number, length: number): Promise<Buffer> {
    const end = offset + length;
    for (const c of this.chunks) {
      if (offset >= c.start && end <= c.start + c.bytes.length) return c.bytes.subarray(offset - c.start, end - c.start);
    }
    const u8 = await this.source.read(offset, Math.max(length, HEADER_CHUNK));
    const bytes = Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);
    this.chunks.push({ start: offset, bytes });
    return bytes.subarray(0, Math.min(length, bytes.length));
  }
}

/**
 * Parse the header and every IFD of a TIFF, read through `source` (a ByteSource, or an open
 * FileHandle, which stays open).
 */
export async function readTiffHeader(source: ByteSource | FileHandle, file: string): Promise<TiffHeader> {
  const bytes = 'fd' in source ? await FileByteSource.fromHandle(source, file) : source;
  const fileSize = bytes.size;
  const fh = new HeaderReader(bytes);
  const head = await fh.read(0, 16);
  if (head.length < 8) {
    throw new InputError(`${file}: not a TIFF file (only ${fileSize} bytes)`, { file });
  }
  const order = head.toString('latin1', 0, 2);
  if (order !== 'II' && order !== 'MM') {
    throw new InputError(`${file}: not a TIFF file (starts with ${JSON.stringify(head.toString('latin1', 0, 4))}, expected "II*" or "MM*"); give a GeoTIFF`, { file });
  }
  const le = order === 'II';
  const magic = le ? head.readUInt16LE(2) : head.readUInt16BE(2);
  let bigTiff: boolean;
  let first: number;
  if (magic === 42) {
    bigTiff = false;
    first = le ? head.readUInt32LE(4) : head.readUInt32BE(4);
  } else if (magic === 43) {
    if (head.length < 16) throw new InputError(`${file}: truncated BigTIFF header`, { file });
    const offsetSize = le ? head.readUInt16LE(4) : head.readUInt16BE(4);
    if (offsetSize !== 8) throw new InputError(`${file}: BigTIFF header gives offsets of ${offsetSize} bytes, expected 8; the file is damaged`, { file });
    bigTiff = true;
    first = Number(le ? head.readBigUInt64LE(8) : head.readBigUInt64BE(8));
  } else {
    throw new InputError(`${file}: not a TIFF file (version ${magic}, expected 42 or 43)`, { file });
  }

  const ifds: Ifd[] = [];
  const seen = new Set<number>();
  // Tag data of a valid file lies in distinct parts of it; twice the file (plus some slack for
  // writers that share arrays between IFDs) bounds what a damaged header makes us decode.
  const budget = { bytes: 2 * fileSize + (1 << 20) };
  let next = first;
  while (next !== 0) {
    if (seen.has(next)) throw new InputError(`${file}: IFD chain loops back to offset ${next}; the file is damaged`, { file });
    if (ifds.length >= MAX_IFDS) throw new InputError(`${file}: more than ${MAX_IFDS} IFDs; the file is damaged`, { file });
    seen.add(next);
    const ifd = await readIfd(fh, file, next, le, bigTiff, fileSize, budget);
    ifds.push(ifd.ifd);
    next = ifd.next;
  }
  if (ifds.length === 0) throw new InputError(`${file}: TIFF has no image (first IFD offset is 0)`, { file });
  checkFieldTypes(ifds[0]!, file, bigTiff);
  return { littleEndian: le, bigTiff, fileSize, ifds };
}

/**
 * Every tag tilecast reads from the image's IFD has a field type TIFF 6 / BigTIFF allows for it,
 * and scalar tags hold one value; otherwise an InputError naming the tag and what was found.
 */
export function checkFieldTypes(ifd: Ifd, file: string, bigTiff: boolean): void {
  for (const [tag, type] of ifd.types) {
    const kinds = FIELD_TYPES[tag];
    if (kinds === undefined) continue;
    const allowed = bigTiff ? kinds.big : kinds.classic;
    if (!allowed.includes(type)) {
      const want = allowed.map((t) => TYPE_NAMES[t]).join(' or ');
      const why = !bigTiff && BIG_TYPES.includes(type) ? ' (a BigTIFF-only type in a classic TIFF)' : '';
      throw new InputError(`${file}: tag ${tagName(tag)} has field type ${typeName(type)}${why}, expected ${want}; the file is damaged`, { file });
    }
    const v = ifd.tags.get(tag);
    const count = typeof v === 'string' ? 1 : v?.length ?? 0;
    if (count === 0 || (SCALAR.includes(tag) && count !== 1)) {
      throw new InputError(`${file}: tag ${tagName(tag)} holds ${count} values, expected ${SCALAR.includes(tag) ? 'one' : 'at least one'}; the file is damaged`, { file });
    }
  }
}

async function readIfd(
  fh: HeaderReader, file: string, offset: number, le: boolean, big: boolean, fileSize: number, budget: { bytes: number },
): Promise<{ ifd: Ifd; next: number }> {
  const countSize = big ? 8 : 2;
  const entrySize = big ? 20 : 12;
  const inlineSize = big ? 8 : 4;
  if (offset + countSize > fileSize) {
    throw new InputError(`${file}: IFD offset ${offset} is past the end of the file (${fileSize} bytes); the file is truncated or damaged`, { file });
  }
  const cbuf = await fh.read(offset, countSize);
  const n = big ? Number(le ? cbuf.readBigUInt64LE(0) : cbuf.readBigUInt64BE(0)) : (le ? cbuf.readUInt16LE(0) : cbuf.readUInt16BE(0));
  const dirBytes = n * entrySize + (big ? 8 : 4);
  if (offset + countSize + dirBytes > fileSize) {
    throw new InputError(`${file}: IFD at ${offset} claims ${n} entries, more than the file holds; the file is truncated or damaged`, { file });
  }
  const dir = await fh.read(offset + countSize, dirBytes);
  const u16 = (b: Buffer, o: number) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
  const u32 = (b: Buffer, o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const u64 = (b: Buffer, o: number) => Number(le ? b.readBigUInt64LE(o) : b.readBigUInt64BE(o));

  const tags = new Map<number, TagValue>();
  const types = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const e = i * entrySize;
    const tag = u16(dir, e);
    const type = u16(dir, e + 2);
    if (!TAG_NAMES.has(tag) || types.has(tag)) continue; // a tag tilecast does not read (or a duplicate: the first counts)
    types.set(tag, type);
    const count = big ? u64(dir, e + 4) : u32(dir, e + 4);
    const size = TYPE_SIZE[type];
    if (size === undefined) continue; // unknown field type: TIFF says skip it (checkFieldTypes refuses it)
    const bytes = count * size;
    if (bytes > MAX_TAG_BYTES || bytes > fileSize) {
      throw new InputError(`${file}: tag ${tagName(tag)} claims ${count} values (${bytes} bytes) in a ${fileSize}-byte file; the file is damaged`, { file });
    }
    let data: Buffer;
    const valueAt = e + (big ? 12 : 8);
    if (bytes <= inlineSize) {
      data = dir.subarray(valueAt, valueAt + bytes);
    } else {
      const at = big ? u64(dir, valueAt) : u32(dir, valueAt);
      if (at + bytes > fileSize) {
        throw new InputError(`${file}: tag ${tagName(tag)} data (${bytes} bytes at offset ${at}) runs past the end of the file (${fileSize} bytes); the file is truncated or damaged`, { file });
      }
      budget.bytes -= bytes;
      if (budget.bytes < 0) {
        throw new InputError(`${file}: the IFDs' tag data add up to more than twice the file's ${fileSize} bytes; the file is damaged`, { file });
      }
      data = await fh.read(at, bytes);
    }
    tags.set(tag, decodeValues(data, type, count, le));
  }
  const nextAt = n * entrySize;
  const next = big ? u64(dir, nextAt) : u32(dir, nextAt);
  return { ifd: { offset, tags, types }, next };
}

function decodeValues(b: Buffer, type: number, count: number, le: boolean): TagValue {
  switch (type) {
    case 2: {
      const end = b.indexOf(0);
      return b.toString('latin1', 0, end < 0 ? b.length : end);
    }
    case 7:
      return new Uint8Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
    default: {
      const out = new Array<number>(count);
      for (let i = 0; i < count; i++) out[i] = readOne(b, type, i, le);
      return out;
    }
  }
}

function readOne(b: Buffer, type: number, i: number, le: boolean): number {
  switch (type) {
    case 1: return b[i]!;
    case 6: return b.readInt8(i);
    case 3: return le ? b.readUInt16LE(i * 2) : b.readUInt16BE(i * 2);
    case 8: return le ? b.readInt16LE(i * 2) : b.readInt16BE(i * 2);
    case 4: case 13: return le ? b.readUInt32LE(i * 4) : b.readUInt32BE(i * 4);
    case 9: return le ? b.readInt32LE(i * 4) : b.readInt32BE(i * 4);
    case 5: {
      const n = le ? b.readUInt32LE(i * 8) : b.readUInt32BE(i * 8);
      const d = le ? b.readUInt32LE(i * 8 + 4) : b.readUInt32BE(i * 8 + 4);
      return n / d;
    }
    case 10: {
      const n = le ? b.readInt32LE(i * 8) : b.readInt32BE(i * 8);
      const d = le ? b.readInt32LE(i * 8 + 4) : b.readInt32BE(i * 8 + 4);
      return n / d;
    }
    case 11: return le ? b.readFloatLE(i * 4) : b.readFloatBE(i * 4);
    case 12: return le ? b.readDoubleLE(i * 8) : b.readDoubleBE(i * 8);
    case 16: case 18: return Number(le ? b.readBigUInt64LE(i * 8) : b.readBigUInt64BE(i * 8));
    case 17: return Number(le ? b.readBigInt64LE(i * 8) : b.readBigInt64BE(i * 8));
    default: return 0;
  }
}

/** Numeric values of a tag, or undefined when absent. */
export function nums(ifd: Ifd, tag: number): number[] | undefined {
  const v = ifd.tags.get(tag);
  return Array.isArray(v) ? v : undefined;
}

/** First numeric value of a tag, or the fallback. */
export function num(ifd: Ifd, tag: number, fallback: number): number {
  const v = nums(ifd, tag);
  return v !== undefined && v.length > 0 ? v[0]! : fallback;
}

export function str(ifd: Ifd, tag: number): string | undefined {
  const v = ifd.tags.get(tag);
  return typeof v === 'string' ? v : undefined;
}

