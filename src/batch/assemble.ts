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
  // per tile row and run of columns: where the run starts in its file's arena (band 0), or -1
  const rowStart = new Float64Array(tile * 2);
  let staticChannels: [number, number] | null = null;
  for (let f = 0; f < layout.files.length; f++) {
    const file = layout.files[f]!;
    const { width, height, blockWidth: bw, blockHeight: bh, bands } = file;
    const arena = arenas[f]!;
    const map = maps[f]!;
    const [bx0, by0, across] = map.box;
    const t = file.t < 0 ? 0 : file.t;
    if (file.t < 0) staticChannels = staticChannels === null ? [file.channel, file.channel + bands] : [staticChannels[0], file.channel + bands];
    // the tile's columns inside the raster, cut where blocks meet (at most two runs for a tile
    // narrower than a block): [block column, first source column, first tile column, length]
    const c0 = Math.max(tx, 0);
    const c1 = Math.min(tx + tile, width);
    const runs: number[] = [];
    for (let c = c0; c < c1;) {
      const bx = Math.floor(c / bw);
      const end = Math.min(c1, (bx + 1) * bw);
      runs.push(bx - bx0, c - bx * bw, c - tx, end - c);
      c = end;
    }
    const nRuns = runs.length / 4;
    // resolve each row's slab once for every band of the file
    const slabSize = slabFloats[f]!;
    for (let i = 0; i < tile; i++) {
      const y = ty + i;
      const inside = y >= 0 && y < height && nRuns > 0;
      const by = inside ? Math.floor(y / bh) : 0;
      for (let k = 0; k < Math.min(nRuns, 2); k++) {
        rowStart[i * 2 + k] = inside ? map.slabs[(by - by0) * across + runs[k * 4]!]! * slabSize + (y - by * bh) * bw + runs[k * 4 + 1]! : -1;
      }
    }
    const plane = bw * bh;
    const leftFill = c0 - tx;
    const rightFill = Math.max(c1 - tx, 0);
    for (let b = 0; b < bands; b++) {
      const dst0 = base + (t * C + file.channel + b) * P;
      const band = b * plane;
      for (let i = 0; i < tile; i++) {
        const dst = dst0 + i * tile;
        if (rowStart[i * 2]! < 0) {
          batch.fill(fill, dst, dst + tile);
          continue;
        }
        if (leftFill > 0) batch.fill(fill, dst, dst + leftFill);
        for (let k = 0; k < nRuns; k++) {
          // more than two runs only for a tile wider than two blocks: resolved here
          const src = k < 2 ? rowStart[i * 2 + k]! + band : runSource(map, runs, k, ty + i, bh, bw, by0, across, slabSize) + band;
          batch.set(arena.subarray(src, src + runs[k * 4 + 3]!), dst + runs[k * 4 + 2]!);
        }
        if (rightFill < tile) batch.fill(fill, dst + rightFill, dst + tile);
      }
    }
  }
  if (staticChannels !== null) {
    const [a, b] = staticChannels;
    for (let t = 1; t < T; t++) batch.copyWithin(base + (t * C + a) * P, base + a * P, base + b * P);
  }
}

function runSource(map: SlabMap, runs: readonly number[], k: number, y: number, bh: number, bw: number, by0: number, across: number, slabSize: number): number {
  const by = Math.floor(y / bh);
  return map.slabs[(by - by0) * across + runs[k * 4]!]! * slabSize + (y - by * bh) * bw + runs[k * 4 + 1]!;
}
