/**
 * Read many files through python3-gdal in one process: metadata as GDAL reports it and every
 * band (and, when asked, every overview) as float64 pixels.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { GDAL_PYTHON } from '../helpers/env.js';

export interface GdalBand {
  /** GDAL data type name; 'Int8' also for GDAL < 3.7's signed Byte. */
  type: string;
  nodata: number | null;
  description: string;
  blockSize: [number, number];
  overviews: [number, number][];
  pixels: Float64Array;
  /** Overview pixels (when read), largest first. */
  overviewPixels: Float64Array[];
}

export interface GdalFile {
  size: [number, number];
  geoTransform: number[];
  epsg: number | null;
  metadata: Record<string, string>;
  imageStructure: Record<string, string>;
  bands: GdalBand[];
}

const PY = String.raw`
import sys, json, numpy as np
from osgeo import gdal
gdal.UseExceptions()
with_ovr = sys.argv[1] == '1'
out = []
for path in sys.argv[2:]:
    ds = gdal.Open(path)
    srs = ds.GetSpatialRef()
    epsg = None
    if srs is not None:
        code = srs.GetAuthorityCode(None)
        epsg = int(code) if code else None
    bands = []
    for i in range(1, ds.RasterCount + 1):
        b = ds.GetRasterBand(i)
        t = gdal.GetDataTypeName(b.DataType)
        signed = t == 'Byte' and b.GetMetadataItem('PIXELTYPE', 'IMAGE_STRUCTURE') == 'SIGNEDBYTE'
        def read(band):
            a = band.ReadAsArray()
            if signed: a = a.view(np.int8)
            return a.astype(np.float64)
        name = '%s.b%d.f64' % (path, i)
        read(b).tofile(name)
        ovr_files = []
        ovrs = []
        for k in range(b.GetOverviewCount()):
            o = b.GetOverview(k)
            ovrs.append([o.XSize, o.YSize])
            if with_ovr:
                oname = '%s.b%d.o%d.f64' % (path, i, k)
                read(o).tofile(oname)
                ovr_files.append(oname)
        nd = b.GetNoDataValue()
        bands.append({'type': 'Int8' if signed else t, 'nodata': None if nd is None else ('nan' if nd != nd else nd),
                      'description': b.GetDescription(), 'blockSize': b.GetBlockSize(), 'overviews': ovrs,
                      'file': name, 'ovrFiles': ovr_files})
    out.append({'size': [ds.RasterXSize, ds.RasterYSize], 'geoTransform': list(ds.GetGeoTransform()), 'epsg': epsg,
                'metadata': ds.GetMetadata() or {}, 'imageStructure': ds.GetMetadata('IMAGE_STRUCTURE') or {}, 'bands': bands})
print(json.dumps(out))
`;

function readF64(file: string): Float64Array {
  const buf = readFileSync(file);
  rmSync(file);
  return new Float64Array(buf.buffer, buf.byteOffset, buf.byteLength / 8).slice();
}

/** Read `files` with GDAL; `overviews` also reads every overview's pixels. */
export function gdalRead(files: readonly string[], overviews = false): GdalFile[] {
  const json = execFileSync(GDAL_PYTHON, ['-c', PY, overviews ? '1' : '0', ...files], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
    env: { ...process.env, GDAL_PAM_ENABLED: 'NO' },
  });
  const parsed = JSON.parse(json) as any[];
  return parsed.map((f) => ({
    size: f.size,
    geoTransform: f.geoTransform,
    epsg: f.epsg,
    metadata: f.metadata,
    imageStructure: f.imageStructure,
    bands: (f.bands as any[]).map((b) => ({
      type: b.type,
      nodata: b.nodata === 'nan' ? NaN : b.nodata,
      description: b.description,
      blockSize: b.blockSize,
      overviews: b.overviews,
      pixels: readF64(b.file),
      overviewPixels: (b.ovrFiles as string[]).map(readF64),
    })),
  }));
}

/** Run a Python snippet with GDAL's bindings (argv[1:] = args) and parse its JSON output. */
export function gdalPython(code: string, args: readonly string[]): any {
  const out = execFileSync(GDAL_PYTHON, ['-c', code, ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
    env: { ...process.env, GDAL_PAM_ENABLED: 'NO' },
  });
  return JSON.parse(out);
}
