/**
 * Decode throughput of the reader on a large deflate-compressed uint16 tiled GeoTIFF, next to
 * `gdal_translate -of ENVI` of the same file. Single-threaded: run with UV_THREADPOOL_SIZE=1
 * (npm run bench does). Usage: node --import tsx bench/read.ts [--size 8192] [--json]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BlockCache } from '../src/raster/block-cache.js';
import { RasterSource } from '../src/raster/source.js';
import { median, writeUint16Tiff } from './fixtures.js';

const { values } = parseArgs({ options: { size: { type: 'string', default: '8192' }, json: { type: 'boolean' }, runs: { type: 'string', default: '3' } } });
const size = Number(values.size);
const runs = Number(values.runs);
const dir = mkdtempSync(join(tmpdir(), 'tilecast-bench-read-'));

try {
  const tif = writeUint16Tiff(dir, size, 'DEFLATE');
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
