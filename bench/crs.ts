/**
 * Cost of the EPSG registry: the first lookup of a code in a process (one small JSON file read,
 * parsed and checked with proj4js), a cached lookup, and opening a raster in a national grid
 * (British National Grid) next to one in UTM. Each first lookup runs in a fresh process so that
 * nothing is cached. Usage: node --import tsx bench/crs.ts [--runs 20] [--json]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { crsFromEpsg } from '../src/raster/crs.js';
import { RasterSource } from '../src/raster/source.js';
import { createGeoTiffWriter } from '../src/write/writer.js';
import { median } from './fixtures.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '20' }, json: { type: 'boolean' }, child: { type: 'string' } } });

/** In a child: time the first crsFromEpsg (or the first open of a file) in this process. */
if (values.child !== undefined) {
  const [what, arg] = values.child.split(':') as [string, string];
  const t = performance.now();
  if (what === 'lookup') crsFromEpsg(Number(arg));
  else await (await RasterSource.open(arg)).close();
  process.stdout.write(String(performance.now() - t));
  process.exit(0);
}

const runs = Number(values.runs);
const child = (arg: string) => Number(execFileSync(process.execPath, ['--import', 'tsx', import.meta.filename, '--child', arg], { encoding: 'utf8' }));

const dir = mkdtempSync(join(tmpdir(), 'tilecast-bench-crs-'));
try {
  const files: Record<string, string> = {};
  for (const code of [32630, 27700]) {
    const path = join(dir, `${code}.tif`);
    const w = await createGeoTiffWriter(path, { width: 256, height: 256, bandCount: 1, dataType: 'uint16', geoTransform: [400000, 10, 0, 300000, 0, -10], crs: crsFromEpsg(code), nodata: 0, blockSize: 256, compression: 'deflate' });
    await w.writeBlockRow(0, [new Uint16Array(256 * 256)]);
    await w.close();
    files[code] = path;
  }
  const result: Record<string, number> = {};
  for (const code of [32630, 27700, 28992, 5514]) result[`first lookup EPSG:${code} (ms)`] = median(Array.from({ length: runs }, () => child(`lookup:${code}`)));
  for (const code of [32630, 27700]) result[`first open, file in EPSG:${code} (ms)`] = median(Array.from({ length: runs }, () => child(`open:${files[code]}`)));
  const t = performance.now();
  for (let i = 0; i < 100000; i++) crsFromEpsg(27700);
  result['cached lookup (µs)'] = ((performance.now() - t) / 100000) * 1000;
  if (values.json) console.log(JSON.stringify(result));
  else for (const [k, v] of Object.entries(result)) console.log(`${k.padEnd(40)} ${v.toFixed(3)}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
