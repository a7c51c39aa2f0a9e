/** What the benchmarks share: the median of timings, and a large uint16 GeoTIFF written by GDAL. */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const median = (a: readonly number[]): number => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;

/**
 * `dir`/in.tif: a size x size uint16 field, smooth plus seeded noise so it compresses like real
 * imagery (~2-3x), not like zeros; written by gdal_translate with 256 x 256 tiles and `compress`.
 */
export function writeUint16Tiff(dir: string, size: number, compress: 'DEFLATE' | 'LZW'): string {
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
  execFileSync('gdal_translate', ['-q', '-of', 'GTiff', '-co', 'TILED=YES', '-co', `COMPRESS=${compress}`, '-co', 'BLOCKXSIZE=256', '-co', 'BLOCKYSIZE=256', join(dir, 'src.raw'), tif]);
  return tif;
}
