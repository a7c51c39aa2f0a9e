/**
 * Cloud Optimized GeoTIFF finalisation. The full-resolution blocks were streamed to a data file;
 * here each overview level is built block by block from the level above (read back from that
 * file, 2x2 blocks at a time, so memory does not grow with the image), appended to the same file,
 * and then the COG is written as GDAL's COG driver lays it out:
 * header, GDAL's structural metadata ("ghost header"), every IFD with its arrays, then the blocks
 * from the smallest overview to full resolution, each level in row-major block order (the bands
 * of one block next to each other), each block preceded by its size as uint32 and followed by a
 * repeat of its last 4 bytes.
 */
import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import { createTempFile } from './temp-files.js';
import type { DataType } from '../raster/types.js';
import type { BlockCoder } from './block-coder.js';
import type { DownsampleSpec } from './downsample.js';
import { downsampleQuadrant } from './downsample.js';
import { encodeHeader, encodeIfd, headerLength, ifdByteLength } from './ifd.js';
import type { Level } from './levels.js';
import type { OrderedAppender } from './ordered-appender.js';
import type { ImageSpec } from './tiff-entries.js';
import { imageEntries } from './tiff-entries.js';
import type { TypedArray } from './typed.js';
import { viewOf } from './typed.js';

/** Where one level's blocks are in the data file; index band * blocksPerBand + row * across + col. */
export interface LevelBlocks {
  level: Level;
  offsets: Float64Array;
  /** Stored byte counts; 0 for a block never written. */
  counts: Float64Array;
}

export interface OverviewContext {
  /** The data file (readable). */
  file: FileHandle;
  appender: OrderedAppender;
  coder: BlockCoder;
  dataType: DataType;
  bandCount: number;
  blockSize: number;
  downsample: DownsampleSpec;
  /** Value a block never written reads as (nodata, else 0). */
  fill: number;
  /** Throws when the write was aborted. */
  checkAborted(): void;
}

async function readExactly(file: FileHandle, offset: number, length: number): Promise<Uint8Array> {
  const buf = new Uint8Array(length);
  const { bytesRead } = await file.read(buf, 0, length, offset);
  if (bytesRead !== length) throw new Error(`short read at ${offset}: ${bytesRead} of ${length} bytes`);
  return buf;
}

/** Build the overview level `dst` from `src`, appending its blocks in row-major order. */
export async function buildOverview(ctx: OverviewContext, src: LevelBlocks, dst: Level): Promise<LevelBlocks> {
  const { blockSize: bs, bandCount, coder } = ctx;
  const srcPerBand = src.level.across * src.level.down;
  const dstPerBand = dst.across * dst.down;
  const out: LevelBlocks = {
    level: dst,
    offsets: new Float64Array(dstPerBand * bandCount),
    counts: new Float64Array(dstPerBand * bandCount),
  };
  const samples = bs * bs;

  for (let by = 0; by < dst.down; by++) {
    for (let bx = 0; bx < dst.across; bx++) {
      const quads: { qx: number; qy: number; index: number }[] = [];
      for (let qy = 0; qy < 2; qy++) {
        for (let qx = 0; qx < 2; qx++) {
          const sx = 2 * bx + qx;
          const sy = 2 * by + qy;
          if (sx < src.level.across && sy < src.level.down) quads.push({ qx, qy, index: sy * src.level.across + sx });
        }
      }
      // Bands are written together, so a block never written is missing in every band.
      if (quads.every((q) => src.counts[q.index] === 0)) continue;
      await ctx.appender.room();
      ctx.checkAborted();
      const dw = Math.min(bs, dst.width - bx * bs);
      const dh = Math.min(bs, dst.height - by * bs);
      const raws: Uint8Array[] = [];
      const encodeBand = async (band: number): Promise<Uint8Array> => {
        const raw = coder.take();
        raws.push(raw);
        const target = viewOf(ctx.dataType, raw, samples);
        target.fill(ctx.fill);
        for (const q of quads) {
          const i = band * srcPerBand + q.index;
          const sx = 2 * bx + q.qx;
          const sy = 2 * by + q.qy;
          const sw = Math.min(bs, src.level.width - sx * bs);
          const sh = Math.min(bs, src.level.height - sy * bs);
          let source: TypedArray | null = null;
          let tmp: Uint8Array | null = null;
          if (src.counts[i]! > 0) {
            const stored = await readExactly(ctx.file, src.offsets[i]!, src.counts[i]!);
            tmp = coder.take();
            await coder.decode(stored, tmp);
            source = viewOf(ctx.dataType, tmp, samples);
          }
          downsampleQuadrant(target, source, ctx.fill, q.qx, q.qy, sw, sh, dw, dh, ctx.downsample);
          if (tmp !== null) coder.give(tmp);
        }
        return coder.encode(raw);
      };
      const bands: Promise<Uint8Array>[] = [];
      for (let b = 0; b < bandCount; b++) bands.push(encodeBand(b));
      const tile = by * dst.across + bx;
      ctx.appender.submit(
        Promise.all(bands),
        (band, offset, length) => {
          out.offsets[band * dstPerBand + tile] = offset;
          out.counts[band * dstPerBand + tile] = length;
        },
        () => {
          for (const r of raws) coder.give(r);
        },
      );
    }
  }
  await ctx.appender.drain();
  return out;
}

const GHOST_PAYLOAD =
  'LAYOUT=IFDS_BEFORE_DATA\nBLOCK_ORDER=ROW_MAJOR\nBLOCK_LEADER=SIZE_AS_UINT4\n' +
  'BLOCK_TRAILER=LAST_4_BYTES_REPEATED\nKNOWN_INCOMPATIBLE_EDITION=NO\n ';
const GHOST = `GDAL_STRUCTURAL_METADATA_SIZE=${String(GHOST_PAYLOAD.length).padStart(6, '0')} bytes\n${GHOST_PAYLOAD}`;

interface CogLayout {
  ifdPositions: number[];
  dataStart: number;
  /** Final offsets per level. */
  offsets: Float64Array[];
  total: number;
}

function layoutCog(spec: ImageSpec, levels: readonly LevelBlocks[], bigTiff: boolean): CogLayout {
  let pos = headerLength(bigTiff) + GHOST.length;
  pos += pos % 2;
  const ifdPositions: number[] = [];
  levels.forEach((l, k) => {
    ifdPositions.push(pos);
    pos += ifdByteLength(imageEntries(spec, l.level.width, l.level.height, l.offsets, l.counts, bigTiff, k > 0), bigTiff);
  });
  const dataStart = pos;
  const offsets = levels.map((l) => new Float64Array(l.offsets.length));
  for (let k = levels.length - 1; k >= 0; k--) {
    const { level, counts } = levels[k]!;
    const perBand = level.across * level.down;
    for (let t = 0; t < perBand; t++) {
      for (let b = 0; b < spec.bandCount; b++) {
        const i = b * perBand + t;
        const n = counts[i]!;
        if (n === 0) continue;
        offsets[k]![i] = pos + 4;
        pos += n + 8;
      }
    }
  }
  return { ifdPositions, dataStart, offsets, total: pos };
}

const CLASSIC_LIMIT = 0xffffffff;

/**
 * Write the COG to `target` (created, must not exist) from the blocks in `data`.
 * `bigTiff`: true/false, or null to choose from the exact size. Returns whether BigTIFF was used,
 * or throws `tooLarge()` when classic TIFF was required and the file is over 4 GiB.
 */
export async function writeCog(
  target: string,
  data: FileHandle,
  spec: ImageSpec,
  levels: readonly LevelBlocks[],
  bigTiff: boolean | null,
  tooLarge: () => Error,
  checkAborted: () => void,
): Promise<boolean> {
  let big = bigTiff ?? false;
  let layout = layoutCog(spec, levels, big);
  if (layout.total > CLASSIC_LIMIT && !big) {
    if (bigTiff === false) throw tooLarge();
    big = true;
    layout = layoutCog(spec, levels, big);
  }
  const head = new Uint8Array(layout.dataStart);
  head.set(encodeHeader(big, layout.ifdPositions[0]!), 0);
  head.set(Buffer.from(GHOST, 'latin1'), headerLength(big));
  levels.forEach((l, k) => {
    const next = k + 1 < levels.length ? layout.ifdPositions[k + 1]! : 0;
    const entries = imageEntries(spec, l.level.width, l.level.height, layout.offsets[k]!, l.counts, big, k > 0);
    head.set(encodeIfd(entries, layout.ifdPositions[k]!, big, next), layout.ifdPositions[k]!);
  });

  let maxCount = 0;
  for (const l of levels) for (const n of l.counts) if (n > maxCount) maxCount = n;
  const buf = Buffer.allocUnsafe(Math.max(4 << 20, maxCount + 8));
  createTempFile(target);
  const out = await open(target, 'r+');
  try {
    await out.write(head, 0, head.length, 0);
    let filePos = layout.dataStart;
    let fill = 0;
    const flush = async (): Promise<void> => {
      if (fill === 0) return;
      await out.write(buf, 0, fill, filePos);
      filePos += fill;
      fill = 0;
    };
    for (let k = levels.length - 1; k >= 0; k--) {
      checkAborted();
      const { level, offsets, counts } = levels[k]!;
      const perBand = level.across * level.down;
      for (let t = 0; t < perBand; t++) {
        for (let b = 0; b < spec.bandCount; b++) {
          const i = b * perBand + t;
          const n = counts[i]!;
          if (n === 0) continue;
          if (fill + n + 8 > buf.length) await flush();
          buf.writeUInt32LE(n, fill);
          const { bytesRead } = await data.read(buf, fill + 4, n, offsets[i]!);
          if (bytesRead !== n) throw new Error(`short read of a block at ${offsets[i]}: ${bytesRead} of ${n} bytes`);
          const end = fill + 4 + n;
          if (n >= 4) buf.copyWithin(end, end - 4, end);
          else buf.fill(0, end, end + 4);
          fill = end + 4;
        }
      }
    }
    await flush();
    if (filePos !== layout.total) throw new Error(`COG layout mismatch: wrote ${filePos} bytes, planned ${layout.total}`);
  } finally {
    await out.close();
  }
  return big;
}
