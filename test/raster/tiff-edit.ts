/**
 * Test helper: where a TIFF's first-IFD entries and blocks are, and small edits to them, to build
 * damaged and hostile files from good ones.
 */

export interface Entry {
  /** Byte position of the 12- (20-) byte entry. */
  at: number;
  tag: number;
  type: number;
  count: number;
  /** Position of the value (when inline) or of the offset to it. */
  valueAt: number;
  inline: boolean;
}

export interface Block {
  offset: number;
  count: number;
  /** Position and width of the block's byte count in the file. */
  countAt: number;
  countSize: number;
  /** Position and width of the block's offset in the file. */
  offsetAt: number;
  offsetSize: number;
}

export interface Layout {
  le: boolean;
  big: boolean;
  entries: Entry[];
  blocks: Block[];
}

/** Bytes per value of each TIFF field type. */
export const FIELD_SIZE: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 16: 8, 17: 8, 18: 8 };

/** The first IFD's entries and the blocks it lists; null when the header is unreadable. */
export function walk(b: Buffer): Layout | null {
  if (b.length < 16) return null;
  const le = b.toString('latin1', 0, 2) === 'II';
  const u16 = (o: number) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
  const u32 = (o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const u64 = (o: number) => Number(le ? b.readBigUInt64LE(o) : b.readBigUInt64BE(o));
  const big = u16(2) === 43;
  const ifd = big ? u64(8) : u32(4);
  if (ifd + 8 > b.length) return null;
  const n = big ? u64(ifd) : u16(ifd);
  const first = ifd + (big ? 8 : 2);
  const esize = big ? 20 : 12;
  if (first + n * esize > b.length) return null;
  const entries: Entry[] = [];
  for (let i = 0; i < n; i++) {
    const at = first + i * esize;
    const type = u16(at + 2);
    const count = big ? u64(at + 4) : u32(at + 4);
    const valueAt = at + (big ? 12 : 8);
    const inline = count * (FIELD_SIZE[type] ?? 1) <= (big ? 8 : 4);
    entries.push({ at, tag: u16(at), type, count, valueAt, inline });
  }
  const values = (e: Entry | undefined): { value: number; at: number; size: number }[] => {
    if (!e || !FIELD_SIZE[e.type] || e.count > 1e6) return [];
    const size = FIELD_SIZE[e.type]!;
    const base = e.inline ? e.valueAt : big ? u64(e.valueAt) : u32(e.valueAt);
    const out = [];
    for (let i = 0; i < e.count && base + (i + 1) * size <= b.length; i++) {
      const at = base + i * size;
      out.push({ value: size === 2 ? u16(at) : size === 4 ? u32(at) : size === 8 ? u64(at) : b[at]!, at, size });
    }
    return out;
  };
  const find = (...tags: number[]) => entries.find((e) => tags.includes(e.tag));
  const offsets = values(find(273, 324));
  const counts = values(find(279, 325));
  const blocks = offsets.map((o, i) => ({
    offset: o.value, offsetAt: o.at, offsetSize: o.size, count: counts[i]?.value ?? 0, countAt: counts[i]?.at ?? -1, countSize: counts[i]?.size ?? 0,
  })).filter((x) => x.countAt >= 0 && x.count > 0 && x.offset + x.count <= b.length);
  return { le, big, entries, blocks };
}

/** Write an unsigned value of `size` bytes at `at` in the file's byte order. */
export function put(b: Buffer, le: boolean, at: number, size: number, v: number): void {
  if (at < 0 || at + size > b.length) return;
  if (size === 1) b[at] = v & 0xff;
  else if (size === 2) le ? b.writeUInt16LE(v & 0xffff, at) : b.writeUInt16BE(v & 0xffff, at);
  else if (size === 4) le ? b.writeUInt32LE(v >>> 0, at) : b.writeUInt32BE(v >>> 0, at);
  else le ? b.writeBigUInt64LE(BigInt(Math.max(0, Math.floor(v))), at) : b.writeBigUInt64BE(BigInt(Math.max(0, Math.floor(v))), at);
}

/** The entry of `tag` in the first IFD (throws when there is none). */
export function entry(t: Layout, tag: number): Entry {
  const e = t.entries.find((x) => x.tag === tag);
  if (!e) throw new Error(`no tag ${tag} in the file`);
  return e;
}
