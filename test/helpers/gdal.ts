/** GDAL as a test oracle: run its tools and read its pixels through python3-gdal. */
import { execFileSync } from 'node:child_process';
import { GDAL_PYTHON } from './env.js';

/** Run a GDAL command-line tool; throws with its stderr on failure. */
export function gdal(tool: string, args: string[]): string {
  return execFileSync(tool, args, { encoding: 'utf8', env: { ...process.env, GDAL_PAM_ENABLED: 'NO' }, maxBuffer: 1 << 30 });
}

/** `gdalinfo -json` (with checksums when asked) parsed. */
export function gdalinfoJson(file: string, checksum = false): any {
  return JSON.parse(gdal('gdalinfo', ['-json', ...(checksum ? ['-checksum'] : []), file]));
}

const PY_READ = `
import sys, struct, numpy as np
from osgeo import gdal
gdal.UseExceptions()
out = sys.stdout.buffer
for f in sys.argv[1:]:
    ds = gdal.Open(f)
    out.write(struct.pack('<3d', ds.RasterXSize, ds.RasterYSize, ds.RasterCount))
    for i in range(1, ds.RasterCount + 1):
        out.write(ds.GetRasterBand(i).ReadAsArray().astype(np.float64).tobytes())
`;

/** Every band of each file as GDAL decodes it, as float64 planes (row-major); one Python run. */
export function gdalPixelsMany(files: string[]): Float64Array[][] {
  if (files.length === 0) return [];
  const buf = execFileSync(GDAL_PYTHON, ['-c', PY_READ, ...files], { maxBuffer: 2 ** 31, env: { ...process.env, GDAL_PAM_ENABLED: 'NO' } });
  const all = new Float64Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  const result: Float64Array[][] = [];
  let at = 0;
  for (let f = 0; f < files.length; f++) {
    const [w, h, count] = [all[at]!, all[at + 1]!, all[at + 2]!];
    at += 3;
    const bands: Float64Array[] = [];
    for (let b = 0; b < count; b++, at += w * h) bands.push(all.subarray(at, at + w * h));
    result.push(bands);
  }
  return result;
}

/** Every band of a file as GDAL decodes it, as float64 planes (row-major). */
export function gdalPixels(file: string): Float64Array[] {
  return gdalPixelsMany([file])[0]!;
}
