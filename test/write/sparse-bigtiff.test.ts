/**
 * A 200000 x 200000 float32 raster (160 GB of pixels) with a few blocks written: the file is
 * BigTIFF, a few megabytes (the block offset and byte-count arrays), and GDAL reads the written
 * blocks back exactly and the rest as nodata.
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { createGeoTiffWriter } from '../../src/write/writer.js';
import { needGdal } from '../helpers/env.js';
import { firstDifference, prng, tempDir } from './fixtures.js';
import { gdalPython } from './gdal-read.js';

const PY_WINDOWS = String.raw`
import sys, json, numpy as np
from osgeo import gdal
gdal.UseExceptions()
ds = gdal.Open(sys.argv[1])
b = ds.GetRasterBand(1)
out = {'size': [ds.RasterXSize, ds.RasterYSize], 'nodata': str(b.GetNoDataValue()), 'windows': []}
for spec in sys.argv[2:]:
    x, y, w, h = map(int, spec.split(','))
    a = b.ReadAsArray(x, y, w, h).astype(np.float64)
    out['windows'].append([None if v != v else float(v) for v in a.ravel()])
print(json.dumps(out))
`;

test('a 200000 x 200000 sparse float32 BigTIFF: small file, written blocks exact, the rest nodata', { skip: needGdal() }, async (t) => {
  const dir = tempDir('write-sparse');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'huge.tif');
  const size = 200000;
  const bs = 256;
  const w = await createGeoTiffWriter(file, {
    width: size,
    height: size,
    dataType: 'float32',
    nodata: NaN,
    geoTransform: [0, 10, 0, 2000000, 0, -10],
    crs: { epsg: 3035, proj4: '+proj=laea +lat_0=52 +lon_0=10 +x_0=4321000 +y_0=3210000 +ellps=GRS80 +units=m +no_defs' },
    blockSize: bs,
  });
  assert.equal(w.bigTiff, true, "bigTiff 'auto' chooses BigTIFF for 160 GB of pixels");
  assert.equal(w.blocksAcross, 782);
  const rnd = prng(7);
  const blocks: [number, number][] = [
    [0, 0],
    [400, 123],
    [781, 781],
  ];
  const data = new Map<string, Float32Array>();
  for (const [c, r] of blocks) {
    const cw = Math.min(bs, size - c * bs);
    const ch = Math.min(bs, size - r * bs);
    const a = new Float32Array(cw * ch);
    for (let i = 0; i < a.length; i++) a[i] = (rnd() - 0.5) * 1000;
    data.set(`${c},${r}`, a);
    await w.writeBlock(c, r, [a]);
  }
  await w.close();
  const bytes = statSync(file).size;
  assert.ok(bytes < 16 * 2 ** 20, `file is ${bytes} bytes`);
  assert.equal(readFileSync(file).readUInt16LE(2), 43, 'BigTIFF magic');

  const windows = [...blocks.map(([c, r]) => {
    const cw = Math.min(bs, size - c * bs);
    const ch = Math.min(bs, size - r * bs);
    return `${c * bs},${r * bs},${cw},${ch}`;
  }), `${100 * bs + 5},${50 * bs + 7},40,30`];
  const out = gdalPython(PY_WINDOWS, [file, ...windows]) as { size: number[]; nodata: string; windows: (number | null)[][] };
  assert.deepEqual(out.size, [size, size]);
  assert.equal(out.nodata, 'nan');
  blocks.forEach(([c, r], i) => {
    const got = Float64Array.from(out.windows[i]!, (v) => (v === null ? NaN : v));
    assert.equal(firstDifference(data.get(`${c},${r}`)!, got), null, `block (${c}, ${r})`);
  });
  const empty = out.windows[blocks.length]!;
  assert.equal(empty.length, 1200);
  assert.ok(empty.every((v) => v === null), 'an unwritten block reads as nodata (NaN)');
});
