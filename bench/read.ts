/**
 * Decode throughput of the reader on a large deflate-compressed uint16 tiled GeoTIFF, next to
 * `gdal_translate -of ENVI` of the same file. Single-threaded: run with UV_THREADPOOL_SIZE=1
 * (npm run bench does). Usage: node --import tsx bench/read.ts [--size 8192] [--json]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BlockCache } from '../src/raster/block-cache.js';
import { RasterSource } from '../src/raster/source.js';

const { values } = parseArgs({ options: { size: { type: 'string', default: '8192' }, json: { type: 'boolean' }, runs: { type: 'string', default: '3' } } });
const size = Number(values.size);
const runs = Number(values.runs);
const dir = mkdtempSync(join(tmpdir(), 'tilecast-bench-read-'));

try {
  // a smooth field plus seeded noise: compresses like real imagery (~2-3x), not like zeros
  const raw = new Uint16Array(size * size);
  let s = 12345;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      s = (s * 1103515245 + 12345) >>> 0;
      raw[y * size + x] = 1000 + Math.round(800 * Math.sin(x / 97) * Math.cos(y / 131)) + (s >>> 28);
    }
  }
  writeFileSync(join(dir, 'src.raw'), raw);
  writeFileSync(join(dir, 'src.hdr'), `ENVI\nsamples = ${size}\nlines = ${size}\nbands = 1\nheader offset = 0\nfile type = ENVI Standard\ndata type = 12\ninterleave = bsq\nbyte order = 0\n`);
  const tif = join(dir, 'in.tif');
  execFileSync('gdal_translate', ['-q', '-of', 'GTiff', '-co', 'TILED=YES', '-co', 'COMPRESS=DEFLATE', '-co', 'BLOCKXSIZE=256', '-co', 'BLOCKYSIZE=256', join(dir, 'src.raw'), tif]);
  const mb = (size * size * 2) / 2 ** 20;

  const ours: number[] = [];
  const gdal: number[] = [];
  for (let r = 0; r < runs; r++) {
    // interleave the two so machine noise hits both alike
    let t = performance.now();
    const src = await RasterSource.open(tif, { cache: new BlockCache({ budgetMB: 64 }) });
    const out = [new Float32Array(size * src.blockHeight)];
    for (let y = 0; y < size; y += src.blockHeight) {
      await src.readWindow({ x: 0, y, width: size, height: Math.min(src.blockHeight, size - y) }, { out });
    }
    await src.close();
    ours.push((performance.now() - t) / 1000);
    t = performance.now();
    execFileSync('gdal_translate', ['-q', '-of', 'ENVI', tif, join(dir, 'out.envi')], { env: { ...process.env, GDAL_NUM_THREADS: '1' } });
    gdal.push((performance.now() - t) / 1000);
  }
  const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
  const result = {
    file: `${size}x${size} uint16, deflate, 256x256 tiles, ${(statSync(tif).size / 2 ** 20).toFixed(1)} MB on disk`,
    decodedMB: Math.round(mb),
    tilecastMBps: +(mb / median(ours)).toFixed(1),
    gdalTranslateEnviMBps: +(mb / median(gdal)).toFixed(1),
    ratio: +(median(gdal) / median(ours)).toFixed(2),
    runs,
  };
  if (values.json) console.log(JSON.stringify(result));
  else console.log(`read: ${result.file}: tilecast ${result.tilecastMBps} MB/s, gdal_translate -of ENVI ${result.gdalTranslateEnviMBps} MB/s (tilecast/gdal speed ratio ${result.ratio}, medians of ${runs})`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
