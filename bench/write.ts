/**
 * Write throughput of the GeoTIFF writer against gdal_translate on the same 4096 x 4096 float32
 * raster (a seeded smooth field with noise and a NaN border, like a masked prediction).
 *
 *   node --import tsx bench/write.ts [--size 4096] [--runs 3] [--json]
 *
 * The headline pair, run interleaved: `tilecast convert` (reader + writer) and
 * `gdal_translate -co TILED=YES -co COMPRESS=DEFLATE` of the same uncompressed tiled file. The
 * other rows time the writer alone (writeBlockRow() of every block row from memory plus close()).
 * Throughput is MB (10^6 bytes) of raw pixels per second; each figure is the median of the runs.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { convert } from '../src/write/convert.js';
import type { GeoTiffWriterOptions } from '../src/write/options.js';
import { createGeoTiffWriter } from '../src/write/writer.js';
import { prng } from '../scripts/models/prng.js';

const { values } = parseArgs({ options: { size: { type: 'string', default: '4096' }, runs: { type: 'string', default: '3' }, json: { type: 'boolean' } } });
const SIZE = Number(values.size);
const BLOCK = 256;
const RUNS = Number(values.runs);

function makeImage(n: number): Float32Array {
  const rnd = prng(2024);
  const a = new Float32Array(n * n);
  const c = n / 2;
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      const inside = (x - c) ** 2 + (y - c) ** 2 < (0.48 * n) ** 2;
      a[y * n + x] = inside ? Math.sin(x / 53) * Math.cos(y / 71) * 0.4 + 0.5 + (rnd() - 0.5) * 0.01 : NaN;
    }
  }
  return a;
}

async function writeWith(file: string, image: Float32Array, options: Partial<GeoTiffWriterOptions>): Promise<number> {
  const t0 = performance.now();
  const w = await createGeoTiffWriter(file, {
    width: SIZE,
    height: SIZE,
    dataType: 'float32',
    nodata: NaN,
    blockSize: BLOCK,
    geoTransform: [500000, 10, 0, 6000000, 0, -10],
    crs: { epsg: 32632, proj4: '+proj=utm +zone=32 +datum=WGS84 +units=m +no_defs' },
    ...options,
  });
  for (let r = 0; r < w.blocksDown; r++) {
    const rows = Math.min(BLOCK, SIZE - r * BLOCK);
    await w.writeBlockRow(r, [image.subarray(r * BLOCK * SIZE, (r * BLOCK + rows) * SIZE)]);
  }
  await w.close();
  return (performance.now() - t0) / 1000;
}

function median(times: number[]): number {
  return [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tilecast-bench-write-'));
  try {
    const image = makeImage(SIZE);
    const rawMB = (SIZE * SIZE * 4) / 1e6;
    const source = join(dir, 'source.tif');
    await writeWith(source, image, { compression: 'none' });

    const rows: { what: string; seconds: number; bytes: number }[] = [];
    const ours = async (what: string, o: Partial<GeoTiffWriterOptions>): Promise<void> => {
      const file = join(dir, 'ours.tif');
      const times: number[] = [];
      for (let i = 0; i < RUNS; i++) times.push(await writeWith(file, image, o));
      rows.push({ what, seconds: median(times), bytes: statSync(file).size });
    };
    const gdal = (what: string, co: string[]): void => {
      const file = join(dir, 'gdal.tif');
      const times: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        rmSync(file, { force: true });
        const t0 = performance.now();
        execFileSync('gdal_translate', ['-q', ...co.flatMap((c) => ['-co', c]), source, file]);
        times.push((performance.now() - t0) / 1000);
      }
      rows.push({ what, seconds: median(times), bytes: statSync(file).size });
    };

    // headline: convert vs gdal_translate on the same file, interleaved
    {
      const a: number[] = [];
      const b: number[] = [];
      const mine = join(dir, 'convert.tif');
      const theirs = join(dir, 'gdal-headline.tif');
      for (let i = 0; i < RUNS; i++) {
        a.push((await convert(source, mine, { compression: 'deflate' })).seconds);
        rmSync(theirs, { force: true });
        const t0 = performance.now();
        execFileSync('gdal_translate', ['-q', '-co', 'TILED=YES', '-co', 'COMPRESS=DEFLATE', source, theirs]);
        b.push((performance.now() - t0) / 1000);
      }
      rows.push({ what: 'tilecast convert --compress deflate (predictor auto = 3)', seconds: median(a), bytes: statSync(mine).size });
      rows.push({ what: 'gdal_translate -co TILED=YES -co COMPRESS=DEFLATE', seconds: median(b), bytes: statSync(theirs).size });
    }
    await ours('tilecast writer deflate (level 6, predictor 3: auto)', {});
    await ours('tilecast deflate (level 6, no predictor)', { predictor: 'none' });
    gdal('gdal_translate ... -co PREDICTOR=3', ['TILED=YES', 'COMPRESS=DEFLATE', 'PREDICTOR=3']);
    gdal('gdal_translate ... -co PREDICTOR=3 -co NUM_THREADS=ALL_CPUS', ['TILED=YES', 'COMPRESS=DEFLATE', 'PREDICTOR=3', 'NUM_THREADS=ALL_CPUS']);
    await ours('tilecast deflate, cog: true', { cog: true });
    await ours('tilecast lzw (predictor 3)', { compression: 'lzw' });
    try {
      await ours('tilecast zstd (level 9, predictor 3)', { compression: 'zstd' });
    } catch (e) {
      console.log(`zstd skipped: ${(e as Error).message}`);
    }
    await ours('tilecast none', { compression: 'none' });

    const base = rows[0]!.seconds;
    if (values.json) {
      console.log(JSON.stringify({ size: SIZE, rawMB, runs: RUNS, rows: rows.map((r) => ({ ...r, MBps: +(rawMB / r.seconds).toFixed(1) })) }));
      return;
    }
    console.log(`${SIZE} x ${SIZE} float32 (${rawMB.toFixed(1)} MB raw), block ${BLOCK}, median of ${RUNS}, UV_THREADPOOL_SIZE=${process.env.UV_THREADPOOL_SIZE ?? 4 + ' (default)'}`);
    console.log('| writer | s | MB/s raw | output MB | time vs tilecast convert |');
    console.log('| --- | ---: | ---: | ---: | ---: |');
    for (const r of rows) {
      console.log(`| ${r.what} | ${r.seconds.toFixed(3)} | ${(rawMB / r.seconds).toFixed(1)} | ${(r.bytes / 1e6).toFixed(2)} | ${(r.seconds / base).toFixed(2)} |`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
