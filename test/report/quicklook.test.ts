/**
 * Quicklooks: decimated reads equal GDAL's nearest resampling to the same size (tiled and
 * single-strip files, nodata as NaN); rows streamed in any order give the same quicklook; the
 * smallest large-enough overview is read, one block-sized window at a time.
 */
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { PixelWindow } from '../../src/raster/types.js';
import { RasterSource } from '../../src/raster/source.js';
import type { QuicklookSource } from '../../src/report/quicklook.js';
import { QuicklookBuilder, quicklookSize, readQuicklook } from '../../src/report/quicklook.js';
import { needGdal } from '../helpers/env.js';
import { prng, tempDir } from '../write/fixtures.js';
import { gdalPython } from '../write/gdal-read.js';
import { SCENE, inputBands, writeInput } from './scene.js';

const PY_NEAREST = String.raw`
import sys, json, numpy as np
from osgeo import gdal
gdal.UseExceptions()
path = sys.argv[1]
out = []
for size in sys.argv[2:]:
    w, h = [int(v) for v in size.split('x')]
    t = gdal.Translate('', path, format='MEM', width=w, height=h, resampleAlg='nearest')
    bands = []
    for i in range(1, t.RasterCount + 1):
        b = t.GetRasterBand(i)
        a = b.ReadAsArray().astype(np.float64)
        nd = b.GetNoDataValue()
        a[a == nd] = np.nan
        bands.append([None if v != v else v for v in a.ravel().tolist()])
    t = None
    out.append(bands)
print(json.dumps(out))
`;

function same(ours: Float32Array, gdal: (number | null)[], what: string): void {
  assert.equal(ours.length, gdal.length, what);
  for (let i = 0; i < ours.length; i++) {
    const g = gdal[i] === null ? NaN : Math.fround(gdal[i]!);
    if (!Object.is(ours[i], g)) assert.fail(`${what}: pixel ${i}: ours ${ours[i]}, GDAL ${g}`);
  }
}

test('decimated reads equal GDAL nearest resampling at the quicklook size', { skip: needGdal() }, async (t) => {
  const dir = tempDir('quicklook');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const { file } = await writeInput(dir, 3);
  // a single-strip file larger than one window: read a sampled row at a time
  const strip = join(dir, 'strip.tif');
  gdalPython(
    String.raw`
import sys, json, numpy as np
from osgeo import gdal
gdal.UseExceptions()
ds = gdal.GetDriverByName('GTiff').Create(sys.argv[1], 2100, 900, 1, gdal.GDT_UInt16, ['COMPRESS=DEFLATE', 'BLOCKYSIZE=900'])
a = (np.arange(2100 * 900) * 7919 % 65521).astype(np.uint16).reshape(900, 2100)
a[::37, ::41] = 0
ds.GetRasterBand(1).SetNoDataValue(0)
ds.GetRasterBand(1).WriteArray(a)
ds = None
print(json.dumps(True))
`,
    [strip],
  );
  for (const [path, bands, sides] of [
    [file, [0, 1, 2], [200, 640, 37, 1024]],
    [strip, [0], [1024, 300]],
  ] as const) {
    const src = await RasterSource.open(path);
    const sizes = sides.map((s) => quicklookSize(src.width, src.height, s));
    const ref = gdalPython(
      PY_NEAREST,
      [path, ...sizes.map((s) => `${s.width}x${s.height}`)],
    ) as (number | null)[][][];
    for (const [i, side] of sides.entries()) {
      const q = await readQuicklook(src, bands, side);
      assert.deepEqual([q.width, q.height, q.sourceWidth, q.sourceHeight], [sizes[i]!.width, sizes[i]!.height, src.width, src.height]);
      bands.forEach((b, k) => same(q.planes[k]!, ref[i]![b]!, `${path} band ${b + 1} at ${side}`));
    }
    await src.close();
  }
});

test('a quicklook built from rows or windows streamed in any order equals one read from the file', { skip: needGdal() }, async (t) => {
  const dir = tempDir('quicklook-rows');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const seed = randomInt(1, 2 ** 31);
  const rnd = prng(seed);
  const { file } = await writeInput(dir, 4);
  const bands = inputBands(4);
  const { width: W, height: H } = SCENE;
  const src = await RasterSource.open(file);
  const read = await readQuicklook(src, [0, 2], 150);
  await src.close();
  const builder = new QuicklookBuilder(W, H, 2, SCENE.nodata, 150);
  // uneven row groups in shuffled order
  const groups: [number, number][] = [];
  for (let y = 0; y < H; ) {
    const n = 1 + Math.floor(rnd() * 90);
    groups.push([y, Math.min(n, H - y)]);
    y += n;
  }
  groups.sort(() => rnd() - 0.5);
  for (const [y, n] of groups) builder.addRows(y, n, [bands.subarray(y * W, (y + n) * W), bands.subarray(2 * W * H + y * W, 2 * W * H + (y + n) * W)]);
  const built = builder.result();
  assert.deepEqual(built.planes, read.planes, `seed ${seed}`);
  // windows (e.g. chunks or blocks) of uneven sizes, in shuffled order
  const windows = new QuicklookBuilder(W, H, 2, SCENE.nodata, 150);
  const wins: { x: number; y: number; width: number; height: number }[] = [];
  for (let y = 0; y < H; y += 70) for (let x = 0; x < W; x += 90) wins.push({ x, y, width: Math.min(90, W - x), height: Math.min(70, H - y) });
  wins.sort(() => rnd() - 0.5);
  for (const win of wins) {
    const planes = [0, 2].map((b) => {
      const p = new Float32Array(win.width * win.height);
      for (let r = 0; r < win.height; r++) p.set(bands.subarray(b * W * H + (win.y + r) * W + win.x, b * W * H + (win.y + r) * W + win.x + win.width), r * win.width);
      return p;
    });
    windows.addWindow(win, planes);
  }
  assert.deepEqual(windows.result().planes, read.planes, `seed ${seed}`);
  assert.ok(built.planes[1]!.some(Number.isNaN), 'nodata reads as NaN');
});

test('the smallest overview at least the quicklook size is read, one block at a time', async () => {
  const reads: { level: number; win: PixelWindow }[] = [];
  const level = (k: number, width: number, height: number, block: number): QuicklookSource => ({
    path: `level ${k}`,
    width,
    height,
    blockWidth: block,
    blockHeight: block,
    nodata: null,
    async readWindow(win, options) {
      reads.push({ level: k, win });
      const data = options.bands.map((b) => {
        const p = new Float32Array(win.width * win.height);
        for (let y = 0; y < win.height; y++) for (let x = 0; x < win.width; x++) p[y * win.width + x] = k * 1e7 + b * 1e6 + (win.y + y) * 1000 + win.x + x;
        return p;
      });
      return { data };
    },
  });
  const levels = [level(0, 4000, 3000, 512), level(1, 2000, 1500, 256), level(2, 1000, 750, 256), level(3, 500, 375, 256)];
  const q = await readQuicklook(levels, [1], 1024);
  assert.deepEqual([q.width, q.height, q.sourceWidth, q.sourceHeight], [1024, 768, 4000, 3000]);
  assert.ok(reads.length > 0 && reads.every((r) => r.level === 1), 'only overview 1 (2000 x 1500) is read');
  for (const r of reads) assert.ok(r.win.width <= 256 && r.win.height <= 256, `window ${JSON.stringify(r.win)} fits one block`);
  for (const [qx, qy] of [
    [0, 0],
    [1023, 767],
    [500, 300],
  ] as const) {
    const sx = Math.floor(((qx + 0.5) * 2000) / 1024);
    const sy = Math.floor(((qy + 0.5) * 1500) / 768);
    assert.equal(q.planes[0]![qy * 1024 + qx], 1e7 + 1e6 + sy * 1000 + sx);
  }
  // without overviews large enough, the full resolution is read
  reads.length = 0;
  await readQuicklook(levels, [0], 3000);
  assert.ok(reads.every((r) => r.level === 0));
});
