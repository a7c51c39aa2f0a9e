/**
 * A sanity check of the model input: per-channel statistics of the normalised values (gathered
 * as each input block is normalised, each block counted once, every 8th row), and a warning naming the file and
 * band when a channel is absurd for a normalised input: a misread file, a wrong --norm, a band
 * that is all nodata.
 */
import type { ChannelLayout } from '../batch/layout.js';
import type { BandStats } from '../batch/normalise.js';
import type { InputStatistic } from '../report/report.js';

export type { InputStatistic };

/** What counts as absurd after normalisation. */
export const SANITY = { maxAbsMean: 10, maxStd: 100, maxInvalidPercent: 99 } as const;

/**
 * @param normalised whether a normalisation is in effect: without one, the model takes raw values
 *   and only the checks that need none (one value, all invalid) apply
 */
export function inputStatistics(layout: ChannelLayout, stats: readonly (readonly BandStats[])[], normalised: boolean): InputStatistic[] {
  const out: InputStatistic[] = [];
  layout.files.forEach((f, fi) => {
    for (let b = 0; b < f.bands; b++) {
      const [pixels, invalid, sum, sq, min, max] = stats[fi]![b]!;
      if (pixels === 0) continue;
      const valid = pixels - invalid;
      const mean = valid > 0 ? sum / valid : NaN;
      const std = valid > 0 ? Math.sqrt(Math.max(0, sq / valid - mean * mean)) : NaN;
      const invalidPercent = (100 * invalid) / pixels;
      const c = f.channel + b;
      const s: InputStatistic = {
        channel: f.t < 0 ? `c${c}` : `t${f.t} c${c}`, file: f.path, band: b + 1, mean, std,
        min: valid > 0 ? min : NaN, max: valid > 0 ? max : NaN, invalidPercent,
      };
      const why = absurd(s, valid, normalised);
      if (why !== null) s.warning = `${f.path} band ${b + 1} (model input ${s.channel}) ${why}: check that the file is read right, its nodata, and the normalisation (--norm)`;
      out.push(s);
    }
  });
  return out;
}

function absurd(s: InputStatistic, valid: number, normalised: boolean): string | null {
  if (s.invalidPercent > SANITY.maxInvalidPercent) return `is ${s.invalidPercent.toFixed(1)} % invalid (nodata, NaN or outside the raster)`;
  if (valid > 1 && s.min === s.max) return `holds one value only (${s.min}${normalised ? ' after normalisation' : ''})`;
  if (!normalised) return null;
  if (Math.abs(s.mean) > SANITY.maxAbsMean) return `has a mean of ${s.mean.toPrecision(4)} after normalisation (expected near 0)`;
  if (s.std > SANITY.maxStd) return `has a standard deviation of ${s.std.toPrecision(4)} after normalisation (expected near 1)`;
  if (!Number.isFinite(s.mean) || !Number.isFinite(s.std)) return 'holds values too large to normalise (Inf)';
  return null;
}
