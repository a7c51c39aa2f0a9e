/** GDAL as a test oracle: run its tools and read its pixels through python3-gdal. */
import { execFileSync } from 'node:child_process';

/** Run a GDAL command-line tool; throws with its stderr on failure. */
export function gdal(tool: string, args: string[]): string {
  return execFileSync(tool, args, { encoding: 'utf8', env: { ...process.env, GDAL_PAM_ENABLED: 'NO' }, maxBuffer: 1 << 30 });
}

/** `gdalinfo -json` (with checksums when asked) parsed. */
export function gdalinfoJson(file: string, checksum = false): any {
  return JSON.parse(gdal('gdalinfo', ['-json', ...(checksum ? ['-checksum'] : []), file]));
}

const PY_READ = `
import sys, numpy as np
from osgeo import gdal
gdal.UseExceptions()
ds = gdal.Open(sys.argv[1])
out = sys.stdout.buffer
for i in range(1, ds.RasterCount + 1):
    a = ds.GetRasterBand(i).ReadAsArray().astype(np.float64)
    out.write(a.tobytes())
`;

/** Every band of a file as GDAL decodes it, as float64 planes (row-major). */
export function gdalPixels(file: string): Float64Array[] {
  const info = gdalinfoJson(file);
  const [w, h] = info.size as [number, number];
  const buf = execFileSync('python3', ['-c', PY_READ, file], { maxBuffer: 1 << 31, env: { ...process.env, GDAL_PAM_ENABLED: 'NO' } });
  const all = new Float64Array(buf.buffer, buf.byteOffset, buf.byteLength / 8);
  const n = w * h;
  const bands: Float64Array[] = [];
  for (let b = 0; b * n < all.length; b++) bands.push(all.slice(b * n, (b + 1) * n));
  return bands;
}
