/**
 * The run report (`--report FILE.html`), made after the outputs are in place, from the outputs
 * themselves (so a resumed run's report covers every chunk): a decimated quicklook of the class
 * map (or of the first probability band; from an overview where there is one, e.g. with --cog), the class areas from one pass over the class map, a
 * quicklook of the first input band under the region outline and the tile grid, the input
 * statistics, the timing and the provenance. Memory: a block row of the class map and the
 * quicklooks (at most 1024 px a side).
 */
import { axisOrigins, type Plan } from '../plan/plan.js';
import { BlockCache } from '../raster/block-cache.js';
import { RasterSource } from '../raster/source.js';
import type { Crs } from '../raster/types.js';
import { ClassAreas } from '../report/areas.js';
import { readQuicklook } from '../report/quicklook.js';
import { writeReport, type ReportData } from '../report/report.js';
import type { ClassStyle } from './outputs.js';
import type { InputStatistic } from './sanity.js';

export interface ReportInput {
  path: string;
  plan: Plan;
  crs: Crs;
  /** The class map and its style, or null when only probabilities were written. */
  classes: { path: string; style: ClassStyle } | null;
  /** The probability output, when written. */
  probabilities: { path: string; bandName: string } | null;
  /** The input whose first band is drawn under the region and tiles. */
  input: string;
  statistics: readonly InputStatistic[];
  timing: { phases: { name: string; seconds: number }[]; totalSeconds: number; tiles: number };
  provenance: Readonly<Record<string, string>>;
  title: string;
}

/** The tiles of the grid the plan did not keep (outside the region). */
function skippedTiles(plan: Plan): { x: number; y: number }[] {
  const kept = new Set(plan.tiles.map((t) => `${t.x},${t.y}`));
  const out: { x: number; y: number }[] = [];
  for (const oy of axisOrigins(plan.window.height, plan.tile, plan.stride)) {
    for (const ox of axisOrigins(plan.window.width, plan.tile, plan.stride)) {
      const t = { x: plan.window.x + ox, y: plan.window.y + oy };
      if (!kept.has(`${t.x},${t.y}`)) out.push(t);
    }
  }
  return out;
}

export async function runReport(r: ReportInput): Promise<void> {
  const cache = new BlockCache({ budgetMB: 64 });
  let output: ReportData['output'];
  if (r.classes !== null) {
    const src = await RasterSource.open(r.classes.path, { cache });
    try {
      const quicklook = await readQuicklook([src, ...(await src.overviews())], [0]);
      const areas = new ClassAreas(r.classes.style.names.length, src.geoTransform, r.crs);
      const rows = src.blockHeight;
      const values = new Uint8Array(src.width * rows);
      for (let y = 0; y < src.height; y += rows) {
        const h = Math.min(rows, src.height - y);
        const { data } = await src.readWindow({ x: 0, y, width: src.width, height: h }, { bands: [0], validity: false });
        const plane = data[0]!;
        for (let i = 0; i < src.width * h; i++) values[i] = plane[i]!;
        areas.add(y, src.width, h, values.subarray(0, src.width * h));
      }
      output = { kind: 'classes', quicklook, names: r.classes.style.names, colors: r.classes.style.colors, areas };
    } finally {
      await src.close();
    }
  } else {
    const src = await RasterSource.open(r.probabilities!.path, { cache });
    try {
      output = { kind: 'probability', quicklook: await readQuicklook([src, ...(await src.overviews())], [0]), band: r.probabilities!.bandName };
    } finally {
      await src.close();
    }
  }
  const input = await RasterSource.open(r.input, { cache });
  let inputView: ReportData['input'];
  try {
    inputView = {
      name: `band 1 of ${r.input}`, quicklook: await readQuicklook([input, ...(await input.overviews())], [0]), region: r.plan.region.flat(),
      tiles: { size: r.plan.tile, computed: r.plan.tiles, skipped: skippedTiles(r.plan) },
    };
  } finally {
    await input.close();
  }
  await writeReport(r.path, {
    title: r.title, subtitle: r.provenance.TILECAST_FINISHED ? `finished ${r.provenance.TILECAST_FINISHED}` : '',
    output, input: inputView, statistics: r.statistics, timing: r.timing,
    provenance: Object.entries(r.provenance),
  });
}
