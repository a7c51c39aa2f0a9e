/**
 * The decode job of the batch stage, as it runs on a stacking thread (a pool worker, or the main
 * thread without one): decode one input block and normalise it into its slab. Each thread opens
 * the inputs itself (its own file handles, no block cache: the scheduler sends each block once).
 * Tiles are assembled from the slabs by the feed, on the thread that owns the batch buffers.
 */
import { failpoint } from '../failpoints.js';
import { BlockCache } from '../raster/block-cache.js';
import { RasterSource } from '../raster/source.js';
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

  async close(): Promise<void> {
    await Promise.all(this.sources.map((s) => s.close()));
    this.sources = [];
  }
}
