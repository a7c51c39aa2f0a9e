/**
 * Build tiles of a batch from normalised blocks with whole-row copies: each row of a tile's
 * channel is one `set` of a run of a slab row per block it crosses (one or two for a tile inside
 * a block column), and `fill` where the tile sticks out of the raster. Static channels are built
 * at time step 0 and copied to the others in one move. No per-pixel work happens here.
 */
import type { ChannelLayout } from './layout.js';

/** Where one file's blocks of a batch are: slab index per block of a box of blocks. */
export interface SlabMap {
  /** [bx0, by0, across, down] of the box, in blocks. */
  box: [number, number, number, number];
  /** Slab of block (bx, by) at (by − by0) · across + (bx − bx0); −1 where the batch needs none. */
  slabs: Int32Array;
}

/**
 * Write tile `slot` of `batch` ([N, T, C, H, W]) for the tile whose top-left raster pixel is
 * (tx, ty), reading file f's normalised blocks from `arenas[f]` (slab s at s · slabFloats[f]).
 */
export function assembleTile(
  batch: Float32Array, slot: number, tx: number, ty: number,
  layout: ChannelLayout, arenas: readonly Float32Array[], slabFloats: readonly number[], maps: readonly SlabMap[],
): void {
  const { tile, T, C, fill } = layout;
  const P = tile * tile;
  const base = slot * T * C * P;
  let staticChannels: [number, number] | null = null;
  for (let f = 0; f < layout.files.length; f++) {
    const file = layout.files[f]!;
    const { width, height, blockWidth: bw, blockHeight: bh, bands } = file;
    const arena = arenas[f]!;
    const map = maps[f]!;
    const [bx0, by0, across] = map.box;
    const t = file.t < 0 ? 0 : file.t;
    if (file.t < 0) staticChannels = staticChannels === null ? [file.channel, file.channel + bands] : [staticChannels[0], file.channel + bands];
    // the tile's columns inside the raster, cut at block boundaries: [bx, source column, tile column, length]
    const c0 = Math.max(tx, 0);
    const c1 = Math.min(tx + tile, width);
    const segments: number[] = [];
    for (let c = c0; c < c1;) {
      const bx = Math.floor(c / bw);
      const end = Math.min(c1, (bx + 1) * bw);
      segments.push(bx - bx0, c - bx * bw, c - tx, end - c);
      c = end;
    }
    const plane = bw * bh;
    for (let b = 0; b < bands; b++) {
      const dst0 = base + (t * C + file.channel + b) * P;
      for (let i = 0; i < tile; i++) {
        const dst = dst0 + i * tile;
        const y = ty + i;
        if (y < 0 || y >= height || segments.length === 0) {
          batch.fill(fill, dst, dst + tile);
          continue;
        }
        const by = Math.floor(y / bh);
        const rowInBlock = (y - by * bh) * bw + b * plane;
        const mapRow = (by - by0) * across;
        if (c0 > tx) batch.fill(fill, dst, dst + (c0 - tx));
        for (let s = 0; s < segments.length; s += 4) {
          const slab = map.slabs[mapRow + segments[s]!]!;
          const src = slab * slabFloats[f]! + rowInBlock + segments[s + 1]!;
          batch.set(arena.subarray(src, src + segments[s + 3]!), dst + segments[s + 2]!);
        }
        if (c1 < tx + tile) batch.fill(fill, dst + Math.max(c1 - tx, 0), dst + tile);
      }
    }
  }
  if (staticChannels !== null) {
    const [a, b] = staticChannels;
    for (let t = 1; t < T; t++) batch.copyWithin(base + (t * C + a) * P, base + a * P, base + b * P);
  }
}
