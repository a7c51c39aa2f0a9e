/** `tilecast info FILE|URL [--json] [--checksum]` */
import { basename } from 'node:path';
import { rasterInfo, type RasterInfo } from '../raster/info.js';
import { UsageError } from '../errors.js';
import { registerCrsDefinition } from '../raster/crs.js';
import { parseFlags, toJson, type Command } from './run.js';

export const infoCommand: Command = {
  name: 'info',
  summary: 'describe a GeoTIFF: size, bands, type, blocks, compression, CRS, bounds, nodata, metadata',
  usage: `usage: tilecast info FILE|URL [--json] [--checksum] [--crs-def EPSG:N=DEF ...]

  FILE or an http(s) URL (read with range requests). Prints the file's metadata items and those
  of its sidecar FILE.aux.xml (for a tilecast prediction: its provenance and run record).

  --json       machine-readable output
  --checksum   GDAL's per-band checksum (as gdalinfo -checksum prints it)
  --crs-def    define an EPSG code the registry lacks: 'EPSG:N=<proj4 string>' (repeatable)`,
  abortable: false,
  async run(argv) {
    const { values, positionals } = parseFlags('info', argv, {
      json: { type: 'boolean' },
      checksum: { type: 'boolean' },
      'crs-def': { type: 'string', multiple: true },
    });
    for (const d of values['crs-def'] ?? []) registerCrsDefinition(d, '--crs-def');
    if (positionals.length !== 1) throw new UsageError(`info: expected one FILE, got ${positionals.length}; usage: tilecast info FILE [--json] [--checksum]`);
    const info = await rasterInfo(positionals[0]!, { checksum: values.checksum ?? false });
    process.stdout.write(values.json ? `${toJson(info)}\n` : formatInfo(info));
    return 0;
  },
};

function formatInfo(i: RasterInfo): string {
  const lines = [
    `File: ${i.file}`,
    `Size: ${i.width} x ${i.height}, ${i.bands} band(s) of ${i.dataType}`,
    `Blocks: ${i.blockSize[0]} x ${i.blockSize[1]} (${i.tiled ? 'tiled' : 'stripped'}, ${i.interleave} interleaved)`,
    `Compression: ${i.compression}${i.predictor !== 1 ? `, predictor ${i.predictor}` : ''}${i.bigTiff ? ', BigTIFF' : ''}, ${i.byteOrder}-endian`,
    `CRS: ${i.epsg !== null ? `EPSG:${i.epsg}` : i.crsError ? `not usable (${i.crsError})` : i.proj4 ? 'custom' : 'none'}`,
  ];
  if (i.proj4) lines.push(`  proj4: ${i.proj4}`);
  if (i.geoTransform) {
    const g = i.geoTransform;
    lines.push(`Origin: (${g[0]}, ${g[3]})`, `Pixel size: (${g[1]}, ${g[5]})${g[2] !== 0 || g[4] !== 0 ? `, rotation (${g[2]}, ${g[4]})` : ''}`);
    lines.push(`Bounds: [${i.bounds!.join(', ')}]`);
  } else {
    lines.push('Georeferencing: none');
  }
  lines.push(`NoData: ${i.nodata === null ? 'none' : i.nodata}`);
  lines.push(`Overviews: ${i.overviews}`);
  const items = Object.entries(i.metadata);
  if (items.length > 0) lines.push('Metadata:', ...items.flatMap(([k, v]) => formatItem(k, v)));
  const run = Object.entries(i.sidecarMetadata);
  if (run.length > 0) lines.push(`Metadata in ${basename(i.sidecar ?? 'the sidecar')}:`, ...run.flatMap(([k, v]) => formatItem(k, v)));
  i.bandDescriptions.forEach((d, b) => {
    const ck = i.checksums ? ` checksum=${i.checksums[b]}` : '';
    if (d || ck) lines.push(`Band ${b + 1}:${d ? ` ${d}` : ''}${ck}`);
  });
  if (i.colorTableEntries !== undefined) lines.push(`Band 1 colour table: ${i.colorTableEntries} entries`);
  if (i.categoryNames !== undefined) {
    lines.push(`Band 1 categories (${i.categoryNames.length}):`, ...wrap(i.categoryNames.map((n, v) => `${v}=${n === '' ? '(none)' : n}`).join(', '), WIDTH, '  '));
  }
  return `${lines.join('\n')}\n`;
}

/** Width long metadata values are wrapped to. */
const WIDTH = 100;
/** Items of a JSON list printed before the rest is left out. */
const MAX_LIST_ITEMS = 8;

/**
 * A metadata item as lines: `  KEY=VALUE` when it fits; a long JSON list one item per line (the
 * first MAX_LIST_ITEMS, then how many more), a long JSON object one key per line, anything else
 * wrapped at spaces (or cut where there is none).
 */
export function formatItem(key: string, value: string, width = WIDTH): string[] {
  const line = `  ${key}=${value}`;
  // a short value stays beside its key (even a key too long for the width)
  if ((line.length <= width || value.length <= 20) && !value.includes('\n')) return [line];
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    parsed = undefined;
  }
  if (Array.isArray(parsed)) {
    const shown = parsed.slice(0, MAX_LIST_ITEMS).flatMap((v) => wrap(JSON.stringify(v), width, '    '));
    const more = parsed.length > MAX_LIST_ITEMS ? [`    … ${parsed.length - MAX_LIST_ITEMS} more (--json lists all)`] : [];
    return [`  ${key}=[${parsed.length} item${parsed.length === 1 ? '' : 's'}]`, ...shown, ...more];
  }
  if (parsed !== null && typeof parsed === 'object') {
    const n = Object.keys(parsed).length;
    return [`  ${key}={${n} key${n === 1 ? '' : 's'}}`, ...Object.entries(parsed).flatMap(([k, v]) => wrap(`${k}: ${JSON.stringify(v)}`, width, '    ', '      '))];
  }
  return wrap(value.replace(/\s*\n\s*/g, ' '), width, `  ${key}=`, '    ');
}

/** `text` after `first` on lines of at most `width` characters, the next ones indented by `rest`; breaks at spaces or commas when it can. */
function wrap(text: string, width: number, first: string, rest = first): string[] {
  const out: string[] = [];
  let prefix = first;
  let s = text;
  if (first.length > width / 2 && first.length + s.length > width) {
    // a long key: the value starts on the next line
    out.push(first.trimEnd());
    prefix = rest;
  }
  while (prefix.length + s.length > width) {
    const room = Math.max(1, width - prefix.length);
    const cut = Math.max(s.lastIndexOf(' ', room), s.lastIndexOf(',', room - 1) + 1);
    const at = cut > room / 3 ? cut : room;
    out.push(prefix + s.slice(0, at).trimEnd());
    s = s.slice(at).trimStart();
    prefix = rest;
  }
  out.push(prefix + s);
  return out;
}
