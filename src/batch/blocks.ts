/**
 * Which input blocks each batch needs, when each block is first and last needed, and how many
 * normalised blocks ("slabs") must be held at once. All of it follows from the list of tiles in
 * the order they are stacked: a block is decoded and normalised once, when the first batch that
 * needs it is prepared, and its slab is freed once the last batch that needs it is stacked.
 */
import type { ChannelLayout, LayoutFile } from './layout.js';

/** Tile origins (raster pixels) in the order they are stacked. */
export interface TileList {
  x: Int32Array;
  y: Int32Array;
  /**
   * The chunk each tile is computed for, as a position in the order chunks run (non-decreasing).
   * A block is decoded once per chunk; one needed by two chunks in a row is decoded once for both.
   * Absent: all tiles belong to one chunk.
   */
  chunk?: Int32Array;
}

/** The blocks of one file one batch needs. */
export interface BatchBlocks {
  /** Decodes ("lives" of blocks, see BlockPlan.key) the batch reads, ascending. */
  lives: number[];
  /** Bounding box of their blocks: [bx0, by0, across, down]. */
  box: [number, number, number, number];
}

export interface BlockPlan {
  /** Per batch, per file. */
  batches: BatchBlocks[][];
  /** Per file, per life of a block (one decode of it): its block key (by · blocksAcross + bx). */
  key: number[][];
  /** Per file, per life: the last batch that reads it. */
  last: number[][];
  /** Per file, per life: whether it is the block's first life (the one whose pixels are counted in statistics). */
  firstLife: boolean[][];
  /** Per file: slabs to allocate so that the scheduler (with `window` batches in flight) never waits. */
  slabs: number[];
  /** Decodes per file: one per life (times the bands of a band-interleaved file). */
  decodes: number[];
}

/** Inclusive block range of a file a tile touches along one axis; null when the tile misses the raster. */
function span(origin: number, tile: number, size: number, block: number): [number, number] | null {
  const a = Math.max(origin, 0);
  const b = Math.min(origin + tile, size);
  if (a >= b) return null;
  return [Math.floor(a / block), Math.floor((b - 1) / block)];
}

/** The blocks of `file` touched by tile i. */
export function tileBlocks(file: LayoutFile, tiles: TileList, i: number, tile: number): { bx: [number, number]; by: [number, number] } | null {
  const bx = span(tiles.x[i]!, tile, file.width, file.blockWidth);
  const by = span(tiles.y[i]!, tile, file.height, file.blockHeight);
  return bx && by ? { bx, by } : null;
}

/**
 * @param window batches whose blocks may be held at once beyond the one being prepared: the
 *   batches being stacked, read ahead and decoded ahead (queue depth + lookahead + 1)
 */
export function planBlocks(layout: ChannelLayout, tiles: TileList, batchSize: number, window: number): BlockPlan {
  const n = tiles.x.length;
  const batches = Math.ceil(n / batchSize);
  const perBatch: BatchBlocks[][] = [];
  const key = layout.files.map(() => [] as number[]);
  const first = layout.files.map(() => [] as number[]);
  const last = layout.files.map(() => [] as number[]);
  const firstLife = layout.files.map(() => [] as boolean[]);
  // per file and block key: its current life and the chunk that last read it
  const current = layout.files.map(() => new Map<number, { life: number; chunk: number }>());
  for (let b = 0; b < batches; b++) {
    const row: BatchBlocks[] = [];
    layout.files.forEach((f, fi) => {
      const lives = new Set<number>();
      let bx0 = Infinity;
      let by0 = Infinity;
      let bx1 = -1;
      let by1 = -1;
      for (let i = b * batchSize; i < Math.min(n, (b + 1) * batchSize); i++) {
        const t = tileBlocks(f, tiles, i, layout.tile);
        if (t === null) continue;
        const chunk = tiles.chunk?.[i] ?? 0;
        for (let by = t.by[0]; by <= t.by[1]; by++) {
          for (let bx = t.bx[0]; bx <= t.bx[1]; bx++) {
            const k = by * f.blocksAcross + bx;
            let c = current[fi]!.get(k);
            // a block read again by a chunk that does not follow the last one to read it is decoded again
            if (c === undefined || chunk > c.chunk + 1) {
              firstLife[fi]!.push(c === undefined);
              c = { life: key[fi]!.length, chunk };
              current[fi]!.set(k, c);
              key[fi]!.push(k);
              first[fi]!.push(b);
              last[fi]!.push(b);
            }
            c.chunk = chunk;
            last[fi]![c.life] = b;
            lives.add(c.life);
          }
        }
        bx0 = Math.min(bx0, t.bx[0]);
        by0 = Math.min(by0, t.by[0]);
        bx1 = Math.max(bx1, t.bx[1]);
        by1 = Math.max(by1, t.by[1]);
      }
      row.push({ lives: [...lives].sort((p, q) => p - q), box: bx1 < 0 ? [0, 0, 0, 0] : [bx0, by0, bx1 - bx0 + 1, by1 - by0 + 1] });
    });
    perBatch.push(row);
  }
  // live at the time batch d is prepared: first <= d and last >= d - window
  const slabs = layout.files.map((_, fi) => {
    const delta = new Int32Array(batches + window + 2);
    first[fi]!.forEach((f, life) => {
      delta[f]! += 1;
      delta[last[fi]![life]! + window + 1]! -= 1;
    });
    let live = 0;
    let max = 0;
    for (let d = 0; d < batches; d++) {
      live += delta[d]!;
      max = Math.max(max, live);
    }
    return max;
  });
  const decodes = layout.files.map((f, fi) => key[fi]!.length * (f.planar === 2 ? f.bands : 1));
  return { batches: perBatch, key, last, firstLife, slabs, decodes };
}

/** Floats of one slab of `file`: every band of one block, band after band. */
export function slabFloats(file: LayoutFile): number {
  return file.bands * file.blockWidth * file.blockHeight;
}
