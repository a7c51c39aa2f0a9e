/**
 * The two jobs of the batch stage, as they run on a stacking thread (a pool worker or the main
 * thread): decode one input block and normalise it into its slab; assemble the tiles of a batch
 * from slabs. Each thread opens the inputs itself (its own file handles, no block cache: the
 * scheduler sends each block once).
 */
import { failpoint } from '../failpoints.js';
import { BlockCache } from '../raster/block-cache.js';
import { RasterSource } from '../raster/source.js';
import { assembleTile, type SlabMap } from './assemble.js';
import type { ChannelLayout } from './layout.js';
import { bandStats, normaliseBand, type BandStats } from './normalise.js';

export interface DecodeJob {
  file: number;
  bx: number;
  by: number;
  /** Band of a band-interleaved file (one band per block); -1: every band of a pixel-interleaved block. */
  band: number;
  slab: number;
  /** Gather the statistics of the normalised values (the first time the run decodes this block). */
  stats: boolean;
}

/** Statistics a decode gathered: per band of the file it normalised. */
export type DecodeStats = { band: number; stats: BandStats }[];

export interface AssembleJob {
  /** Tile origins, x and y interleaved, in slot order. */
  tiles: Int32Array;
  maps: SlabMap[];
}

export class StackJobs {
  private sources: RasterSource[] = [];

  /**
   * @param arenas one shared slab arena per file
   * @param slabFloats floats per slab, per file
   */
  constructor(
    private readonly layout: ChannelLayout,
    private readonly arenas: readonly Float32Array[],
    private readonly slabFloats: readonly number[],
  ) {}

  async open(): Promise<void> {
    const cache = new BlockCache({ budgetMB: 0 });
    for (const f of this.layout.files) this.sources.push(await RasterSource.open(f.path, { cache }));
  }

  /** Decode a block and write its normalised band planes into its slab; with `job.stats`, say what they hold. */
  async decode(job: DecodeJob): Promise<DecodeStats> {
    failpoint('decode');
    const file = this.layout.files[job.file]!;
    const src = this.sources[job.file]!;
    const samples = await src.block(job.bx, job.by, Math.max(job.band, 0));
    const spb = file.planar === 1 ? file.bands : 1;
    const count = samples.length / spb;
    const plane = file.blockWidth * file.blockHeight;
    const arena = this.arenas[job.file]!;
    const slab = job.slab * this.slabFloats[job.file]!;
    const bands = job.band < 0 ? Array.from({ length: file.bands }, (_, b) => b) : [job.band];
    const stats: DecodeStats = [];
    const cols = Math.min(file.blockWidth, file.width - job.bx * file.blockWidth);
    const rows = Math.min(file.blockHeight, file.height - job.by * file.blockHeight);
    for (const b of bands) {
      const c = file.channel + b;
      const out = arena.subarray(slab + b * plane, slab + b * plane + count);
      const n = { mean: this.layout.mean[c]!, std: this.layout.std[c]!, fill: this.layout.fill, nodata: file.nodata };
      normaliseBand(samples, file.dataType, spb, spb === 1 ? 0 : b, count, n, out);
      if (job.stats) stats.push({ band: b, stats: bandStats(samples, file.dataType, spb, spb === 1 ? 0 : b, n, out, file.blockWidth, cols, rows) });
    }
    return stats;
  }

  /** Fill slots 0.. of `batch` with the job's tiles. */
  assemble(batch: Float32Array, job: AssembleJob): void {
    for (let i = 0; i < job.tiles.length / 2; i++) {
      assembleTile(batch, i, job.tiles[2 * i]!, job.tiles[2 * i + 1]!, this.layout, this.arenas, this.slabFloats, job.maps);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.sources.map((s) => s.close()));
    this.sources = [];
  }
}
