/**
 * The run report: one self-contained HTML file (images inline as PNG data: URLs, styles inline,
 * no script, and a Content-Security-Policy that lets the page load nothing from anywhere else)
 * with the output quicklook and its legend, an input quicklook under the region outline and the
 * tile grid, area per class, the input statistics with their warnings, the timing split and
 * tiles/s, and provenance. Every text put into the page is escaped.
 */
import { randomBytes } from 'node:crypto';
import { rename, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { OutputError } from '../errors.js';
import type { Rgb } from '../write/palette.js';
import { toHex } from '../write/palette.js';
import { createTempFile, forgetTempFile } from '../write/temp-files.js';
import type { AreaMethod } from './areas.js';
import type { TileGrid } from './draw.js';
import { COMPUTED_COLOR, RAMP, REGION_COLOR, SKIPPED_COLOR, drawClasses, drawOutline, drawRamp, drawStretched, drawTiles, valueRange } from './draw.js';
import { escapeHtml, formatNumber, formatValue, table } from './html.js';
import { pngDataUrl } from './png.js';
import type { Quicklook } from './quicklook.js';

/** The class map's quicklook, legend and areas. */
export interface ClassMapView {
  kind: 'classes';
  /** Plane 0: class values 0..classes-1, NaN (or any other value) where there is no class. */
  quicklook: Quicklook;
  /** One name per class ('' shows as "class i"). */
  names: readonly string[];
  /** One colour per class. */
  colors: readonly Rgb[];
  /** Pixel counts and hectares per class (ClassAreas has this shape). */
  areas: { pixels: ArrayLike<number>; hectares: ArrayLike<number> | null; method: AreaMethod };
}

/** One probability band's quicklook, drawn through a colour ramp. */
export interface ProbabilityView {
  kind: 'probability';
  quicklook: Quicklook;
  /** The band shown, e.g. its description. */
  band: string;
}

/** An input's quicklook with the run's geometry drawn over it, in the input's pixel coordinates. */
export interface InputView {
  /** What the quicklook shows, e.g. "b1 of s2_2024-05.tif". */
  name: string;
  /** 1 band (grey) or 3 (red, green, blue), each stretched 2–98 %. */
  quicklook: Quicklook;
  /** Region rings ([x, y] raster pixel coordinates, as plan.region holds them). */
  region: readonly (readonly (readonly [number, number])[])[];
  tiles: TileGrid;
}

/** One input channel's statistics of the normalised values, as the pipeline computed them. */
export interface InputStatistic {
  /** The model input channel: `t<step> c<channel>` (a static band is the same at every step: `c<channel>`). */
  channel: string;
  file: string;
  /** 1-based band of the file. */
  band: number;
  mean: number;
  std: number;
  min: number;
  max: number;
  invalidPercent: number;
  warning?: string;
}

export interface Timing {
  /** Time spent per phase, in seconds; phases that run concurrently may add up to more than the total. */
  phases: readonly { name: string; seconds: number }[];
  /** Wall-clock time of the run, in seconds. */
  totalSeconds: number;
  /** Tiles computed. */
  tiles: number;
}

export interface ReportData {
  title: string;
  /** A line under the title (e.g. when the run finished). */
  subtitle?: string;
  output: ClassMapView | ProbabilityView;
  input?: InputView | null;
  statistics: readonly InputStatistic[];
  timing: Timing;
  /** Key / value pairs: versions, model, inputs, options. */
  provenance: readonly (readonly [string, string])[];
}

const CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'";

const STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 1100px; padding: 0 16px; color: #222; }
h1 { font-size: 22px; margin-bottom: 2px; } h2 { font-size: 17px; margin-top: 28px; border-bottom: 1px solid #ddd; }
.sub, .note { color: #666; }
figure { margin: 8px 0; }
figure img { max-width: 100%; height: auto; image-rendering: pixelated; background: #eee; border: 1px solid #ccc; }
table { border-collapse: collapse; margin: 8px 0; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: top; }
.num { display: block; text-align: right; font-variant-numeric: tabular-nums; }
tr.warn td { background: #fff4e5; }
.swatch { display: inline-block; width: 14px; height: 14px; border: 1px solid #555; vertical-align: middle; }
.ramp { height: 14px; width: 320px; border: 1px solid #555; }
.ramp-labels { display: flex; justify-content: space-between; width: 322px; }
code { font-size: 13px; }
`;

function swatch(c: Rgb): string {
  return `<span class="swatch" style="background:${toHex(c)}"></span>`;
}

function num(text: string): string {
  return `<span class="num">${text}</span>`;
}

function image(url: string, q: Quicklook, alt: string): string {
  return `<figure><img src="${url}" width="${q.width}" height="${q.height}" alt="${escapeHtml(alt)}"></figure>`;
}

function classSection(v: ClassMapView): string {
  const url = pngDataUrl(drawClasses(v.quicklook, v.colors));
  let total = 0;
  for (let k = 0; k < v.names.length; k++) total += v.areas.pixels[k] ?? 0;
  const rows = v.names.map((name, k) => {
    const px = v.areas.pixels[k] ?? 0;
    return [
      swatch(v.colors[k]!),
      num(String(k)),
      escapeHtml(name === '' ? `class ${k}` : name),
      num(formatNumber(px, 0)),
      num(v.areas.hectares === null ? '–' : formatNumber(v.areas.hectares[k]!, 2)),
      num(total > 0 ? formatNumber((100 * px) / total, 2) : '–'),
    ];
  });
  const note = {
    projected: 'Areas are on the map projection: pixel area from the geotransform, in the units of the CRS.',
    geographic: 'Areas are on the ellipsoid: each pixel’s area from its latitude (geographic CRS).',
    none: 'No areas: the output has no geotransform, no CRS, or CRS units that are not lengths.',
  }[v.areas.method];
  return `<section id="output">
<h2>Class map</h2>
${image(url, v.quicklook, 'class map quicklook')}
${table(['', 'value', 'class', 'pixels', 'area (ha)', '%'], rows)}
<p class="note">${escapeHtml(note)} Pixels without a class (outside the region, or without a prediction) are not counted.</p>
</section>`;
}

function probabilitySection(v: ProbabilityView): string {
  const found = valueRange(v.quicklook.planes[0]!);
  const range: [number, number] = found === null || (found[0] >= 0 && found[1] <= 1) ? [0, 1] : found;
  const url = pngDataUrl(drawRamp(v.quicklook, range));
  const stops = RAMP.map((c, i) => `${toHex(c)} ${((100 * i) / (RAMP.length - 1)).toFixed(0)}%`).join(', ');
  return `<section id="output">
<h2>Probability: ${escapeHtml(v.band)}</h2>
${image(url, v.quicklook, 'probability quicklook')}
<div class="ramp" style="background: linear-gradient(to right, ${stops})"></div>
<div class="ramp-labels"><span>${formatValue(range[0])}</span><span>${formatValue(range[1])}</span></div>
</section>`;
}

function inputSection(v: InputView): string {
  const img = drawStretched(v.quicklook);
  drawTiles(img, v.quicklook.sourceWidth, v.quicklook.sourceHeight, v.tiles);
  drawOutline(img, v.quicklook.sourceWidth, v.quicklook.sourceHeight, v.region);
  const url = pngDataUrl(img);
  const legend = [
    `${swatch(COMPUTED_COLOR)} computed tiles: ${formatNumber(v.tiles.computed.length, 0)}`,
    `${swatch(SKIPPED_COLOR)} skipped tiles: ${formatNumber(v.tiles.skipped.length, 0)}`,
    `${swatch(REGION_COLOR)} region outline`,
    `tile size ${formatNumber(v.tiles.size, 0)} px`,
  ].join(' &nbsp; ');
  return `<section id="input">
<h2>Input: ${escapeHtml(v.name)}</h2>
${image(url, v.quicklook, 'input quicklook with region and tiles')}
<p>${legend}</p>
<p class="note">Stretched from the 2 % to the 98 % value of the quicklook.</p>
</section>`;
}

function statisticsSection(stats: readonly InputStatistic[]): string {
  const rows = stats.map((s) => [
    escapeHtml(s.channel),
    escapeHtml(s.file),
    num(String(s.band)),
    num(formatValue(s.mean)),
    num(formatValue(s.std)),
    num(formatValue(s.min)),
    num(formatValue(s.max)),
    num(formatNumber(s.invalidPercent, 2)),
    escapeHtml(s.warning ?? ''),
  ]);
  const warnings = stats.filter((s) => s.warning !== undefined && s.warning !== '').length;
  return `<section id="statistics">
<h2>Input statistics</h2>
<p>${warnings === 0 ? 'No warnings.' : `${warnings} warning(s), highlighted.`}</p>
${table(['channel', 'file', 'band', 'mean', 'std', 'min', 'max', 'invalid %', 'warning'], rows, (i) => (stats[i]!.warning ? 'warn' : ''))}
</section>`;
}

function timingSection(t: Timing): string {
  const rows = t.phases.map((p) => [escapeHtml(p.name), num(formatNumber(p.seconds, 2)), num(t.totalSeconds > 0 ? formatNumber((100 * p.seconds) / t.totalSeconds, 1) : '–')]);
  rows.push(['<strong>total (wall clock)</strong>', num(formatNumber(t.totalSeconds, 2)), num('100')]);
  const rate = t.totalSeconds > 0 ? formatNumber(t.tiles / t.totalSeconds, 2) : '–';
  return `<section id="timing">
<h2>Timing</h2>
${table(['phase', 'seconds', '% of wall clock'], rows)}
<p>${formatNumber(t.tiles, 0)} tiles in ${formatNumber(t.totalSeconds, 2)} s: <strong>${rate} tiles/s</strong>.</p>
<p class="note">Phases run concurrently (reading overlaps inference), so their shares can add up to more than 100 %.</p>
</section>`;
}

function provenanceSection(items: ReportData['provenance']): string {
  const rows = items.map(([k, v]) => [escapeHtml(k), `<code>${escapeHtml(v)}</code>`]);
  return `<section id="provenance">
<h2>Provenance</h2>
${table(['', ''], rows)}
</section>`;
}

/** The report page. */
export function buildReport(data: ReportData): string {
  const parts = [
    data.output.kind === 'classes' ? classSection(data.output) : probabilitySection(data.output),
    data.input ? inputSection(data.input) : '',
    statisticsSection(data.statistics),
    timingSection(data.timing),
    provenanceSection(data.provenance),
  ];
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(data.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${escapeHtml(data.title)}</h1>
${data.subtitle ? `<p class="sub">${escapeHtml(data.subtitle)}</p>` : ''}
${parts.filter((p) => p !== '').join('\n')}
</body>
</html>
`;
}

/**
 * Write the report to `path` (`--report`) under a temporary name and rename it, so a reader never
 * sees half a page; throws OutputError naming the file and the fix.
 */
export async function writeReport(path: string, data: ReportData): Promise<void> {
  const html = buildReport(data);
  const target = resolve(path);
  const temp = join(dirname(target), `.${basename(target)}.tilecast-tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    createTempFile(temp);
    await writeFile(temp, html, { flag: 'r+' });
    await rename(temp, target);
  } catch (e) {
    await unlink(temp).catch(() => undefined);
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? `the folder ${dirname(target)} does not exist: create it or choose another path`
        : code === 'EISDIR'
          ? 'it is a folder: give a file name such as report.html'
          : code === 'EACCES' || code === 'EPERM' || code === 'EROFS'
            ? `the folder ${dirname(target)} is not writable (${code}): choose another path`
            : `${(e as Error).message}`;
    throw new OutputError(`--report ${path}: cannot write the report: ${why}`, { file: path, cause: e });
  } finally {
    forgetTempFile(temp);
  }
}
