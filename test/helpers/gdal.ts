/** GDAL as a test oracle: run its tools and read its pixels through python3-gdal. */
import { execFileSync, spawnSync } from 'node:child_process';
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

const PY_READ_OR_ERROR = `
import sys, struct, numpy as np
from osgeo import gdal
gdal.UseExceptions()
gdal.PushErrorHandler('CPLQuietErrorHandler')
out = sys.stdout.buffer
for f in sys.argv[1:]:
    try:
        ds = gdal.Open(f)
        bands = [ds.GetRasterBand(i).ReadAsArray().astype(np.float64).tobytes() for i in range(1, ds.RasterCount + 1)]
        out.write(struct.pack('<4d', 0, ds.RasterXSize, ds.RasterYSize, ds.RasterCount))
        for b in bands: out.write(b)
    except Exception as e:
        msg = (str(e).splitlines() or [type(e).__name__])[0].encode()
        out.write(struct.pack('<4d', 1, len(msg), 0, 0) + msg + bytes(-len(msg) % 8))
`;

/** As gdalPixelsMany, but a file GDAL cannot read gives GDAL's error text instead of failing. */
export function gdalPixelsOrErrors(files: string[]): (Float64Array[] | string)[] {
  if (files.length === 0) return [];
  const buf = execFileSync(GDAL_PYTHON, ['-c', PY_READ_OR_ERROR, ...files], { maxBuffer: 2 ** 31, env: { ...process.env, GDAL_PAM_ENABLED: 'NO' } });
  const all = new Float64Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  const result: (Float64Array[] | string)[] = [];
  let at = 0;
  for (let f = 0; f < files.length; f++) {
    const [failed, w, h, count] = [all[at]!, all[at + 1]!, all[at + 2]!, all[at + 3]!];
    at += 4;
    if (failed) {
      result.push(buf.toString('utf8', at * 8, at * 8 + w));
      at += Math.ceil(w / 8);
      continue;
    }
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

/** A raster for GDAL to write with the GTiff driver: random pixels from `seed`, then `options`. */
export interface CreateSpec {
  path: string;
  width: number;
  height: number;
  bands: number;
  dtype: 'uint8' | 'int8' | 'uint16' | 'int16' | 'uint32' | 'int32' | 'float32' | 'float64';
  /** GTiff creation options, e.g. ['TILED=YES', 'COMPRESS=DEFLATE']. */
  options: string[];
  /** Seed of numpy's generator for the pixels. */
  seed: number;
  /** Nodata of every band ('nan' for NaN); a rectangle of pixels gets it. */
  nodata: number | 'nan' | null;
  /** Put nodata in a whole corner of blocks, so that with SPARSE_OK=TRUE GDAL leaves them out. */
  sparse: boolean;
  /** Sprinkle the type's extremes (and NaN, ±inf, -0 for floats) over the pixels. */
  extremes: boolean;
  /** The last band is a 0/255 alpha (give ALPHA=YES in options to mark it). */
  binaryAlpha?: boolean;
}

const PY_CREATE = `
import sys, json, numpy as np
from osgeo import gdal
gdal.UseExceptions()
T = {'uint8': (gdal.GDT_Byte, np.uint8), 'int8': (gdal.GDT_Byte, np.int8), 'uint16': (gdal.GDT_UInt16, np.uint16),
     'int16': (gdal.GDT_Int16, np.int16), 'uint32': (gdal.GDT_UInt32, np.uint32), 'int32': (gdal.GDT_Int32, np.int32),
     'float32': (gdal.GDT_Float32, np.float32), 'float64': (gdal.GDT_Float64, np.float64)}

def pixels(s):
    rng = np.random.default_rng(s['seed'])
    h, w, dt = s['height'], s['width'], T[s['dtype']][1]
    y, x = np.mgrid[0:h, 0:w]
    out = []
    for b in range(s['bands']):
        v = np.sin(x / rng.uniform(2, 40) + b) * np.cos(y / rng.uniform(2, 40)) + rng.normal(0, rng.choice([0.0, 0.01, 0.2]), (h, w))
        if np.issubdtype(dt, np.floating):
            a = (v * 10 ** rng.uniform(-3, 6)).astype(dt)
        else:
            info = np.iinfo(dt)
            span = min(float(info.max) - float(info.min), 10 ** rng.uniform(1, 10))
            mid = rng.uniform(float(info.min) + span / 2, float(info.max) - span / 2)
            a = np.clip(np.round(mid + v * span / 2), info.min, info.max).astype(dt)
        if s['extremes']:
            k = max(1, h * w // 50)
            idx = (rng.integers(0, h, k), rng.integers(0, w, k))
            if np.issubdtype(dt, np.floating):
                fi = np.finfo(dt)
                a[idx] = rng.choice(np.array([np.nan, np.inf, -np.inf, -0.0, fi.max, fi.min, fi.tiny, 0.0], dtype=dt), k)
            else:
                info = np.iinfo(dt)
                a[idx] = rng.choice(np.array([info.min, info.max, 0], dtype=dt), k)
        nd = s['nodata']
        if nd is not None:
            ndv = np.nan if nd == 'nan' else nd
            y0, x0 = rng.integers(0, h), rng.integers(0, w)
            a[y0:y0 + rng.integers(1, h + 1), x0:x0 + rng.integers(1, w + 1)] = ndv
            if s['sparse']:
                a[: (h + 1) // 2, : (w + 1) // 2] = ndv
        out.append(a)
    if s.get('binaryAlpha'):
        out[-1] = np.where(rng.random((h, w)) < 0.3, 0, 255).astype(dt)
    return out

errors = []
drv = gdal.GetDriverByName('GTiff')
for s in json.load(sys.stdin):
    try:
        gt, _ = T[s['dtype']]
        opts = s['options'] + (['PIXELTYPE=SIGNEDBYTE'] if s['dtype'] == 'int8' else [])
        ds = drv.Create(s['path'], s['width'], s['height'], s['bands'], gt, options=opts)
        for b, a in enumerate(pixels(s)):
            band = ds.GetRasterBand(b + 1)
            if s['nodata'] is not None:
                band.SetNoDataValue(float('nan') if s['nodata'] == 'nan' else float(s['nodata']))
            band.WriteArray(a)
        ds = None
        errors.append(None)
    except Exception as e:
        errors.append(str(e).splitlines()[0] if str(e) else type(e).__name__)
print(json.dumps(errors))
`;

/**
 * Have GDAL write every spec (one Python run); returns, per spec, null or GDAL's error text.
 * Files GDAL refuses to write are not there afterwards.
 */
export function gdalCreateMany(specs: CreateSpec[]): (string | null)[] {
  if (specs.length === 0) return [];
  const out = execFileSync(GDAL_PYTHON, ['-c', PY_CREATE], {
    input: JSON.stringify(specs), encoding: 'utf8', maxBuffer: 1 << 28, env: { ...process.env, GDAL_PAM_ENABLED: 'NO', CPL_LOG: '/dev/null' },
  });
  return JSON.parse(out) as (string | null)[];
}

const PY_CHECK = `
import sys, json, time
from osgeo import gdal
gdal.UseExceptions()
gdal.PushErrorHandler('CPLQuietErrorHandler')
LIMIT = float(sys.argv[1])
for f in sys.argv[2:]:
    t0 = time.time()
    try:
        ds = gdal.Open(f)
        b1 = ds.GetRasterBand(1)
        bx, by = b1.GetBlockSize()
        pixel = ds.GetMetadataItem('INTERLEAVE', 'IMAGE_STRUCTURE') == 'PIXEL'
        if bx * by * gdal.GetDataTypeSize(b1.DataType) // 8 * (ds.RasterCount if pixel else 1) > 2 ** 30:
            raise TimeoutError('skipped: blocks of over 1 GiB')
        sums = []
        for i in range(1, ds.RasterCount + 1):
            if time.time() - t0 > LIMIT:
                raise TimeoutError('skipped: GDAL took over %g s' % LIMIT)
            sums.append(ds.GetRasterBand(i).Checksum())
        print(json.dumps({'checksums': sums}), flush=True)
    except TimeoutError as e:
        print(json.dumps({'skipped': str(e)}), flush=True)
    except Exception as e:
        print(json.dumps({'error': str(e).splitlines()[0] if str(e) else type(e).__name__}), flush=True)
`;

/** What GDAL made of a file: its per-band checksums, the error it raised, or why it was not checked. */
export type GdalCheck = { checksums: number[] } | { error: string } | { skipped: string };

/**
 * What GDAL makes of each file: its per-band checksums, or the error it raises. One Python run for
 * all; a file that kills GDAL is reported as an error and the run goes on with the next file; a
 * file with blocks over 1 GiB, or that keeps GDAL busy for over `maxSeconds`, is skipped.
 */
export function gdalChecksumsMany(files: string[], maxSeconds = 3, timeoutMs = 120_000): GdalCheck[] {
  const results: GdalCheck[] = [];
  while (results.length < files.length) {
    const rest = files.slice(results.length);
    // libjpeg-turbo's SIMD IDCT differs from its C IDCT on coefficients that only damaged data
    // produces, so GDAL's pixels for such data depend on the CPU; the C path is the reference.
    const env = { ...process.env, GDAL_PAM_ENABLED: 'NO', JSIMD_FORCENONE: '1' };
    const r = spawnSync(GDAL_PYTHON, ['-u', '-c', PY_CHECK, String(maxSeconds), ...rest], { encoding: 'utf8', maxBuffer: 1 << 28, timeout: timeoutMs, env });
    const lines = (r.stdout ?? '').split('\n').filter((l) => l.startsWith('{'));
    for (const l of lines) results.push(JSON.parse(l));
    if (results.length < files.length && lines.length < rest.length) {
      if (r.status === 0 && r.signal === null) throw new Error(`GDAL checked ${lines.length} of ${rest.length} files and stopped without an error`);
      results.push({ error: `GDAL ${r.signal ? `was killed (${r.signal})` : `exited with ${r.status}`} on this file` });
    }
  }
  return results;
}
