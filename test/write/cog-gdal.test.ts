/**
 * COG output: GDAL's validate_cloud_optimized_geotiff accepts it (full check: IFDs first,
 * smallest overview's data first, row-major blocks with size leaders and repeated trailers), its
 * overviews have the sizes GDAL's own COG driver gives, and their pixels equal an independent
 * 2x2 average (or nearest pick) computed here from the full-resolution image.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { DataType, TypedArray } from '../../src/raster/types.js';
import { TYPED_ARRAY, isFloat } from '../../src/raster/types.js';
import type { Compression, GeoTiffWriterOptions, OverviewResampling } from '../../src/write/options.js';
import { createGeoTiffWriter } from '../../src/write/writer.js';
import { needGdal } from '../helpers/env.js';
import { gdalinfoJson } from '../helpers/gdal.js';
import { firstDifference, makeBand, prng, tempDir } from './fixtures.js';
import { gdalPython, gdalRead } from './gdal-read.js';

const PY_VALIDATE = String.raw`
import sys, json
from osgeo import gdal
from osgeo_utils.samples.validate_cloud_optimized_geotiff import validate
gdal.UseExceptions()
out = []
args = sys.argv[1:]
for path, bs in zip(args[0::2], args[1::2]):
    warnings, errors, details = validate(path, full_check=True)
    ds = gdal.Open(path)
    b = ds.GetRasterBand(1)
    levels = [b] + [b.GetOverview(i) for i in range(b.GetOverviewCount())]
    sparse = []
    for lv in levels:
        bx, by = lv.GetBlockSize()
        n = 0
        for y in range((lv.YSize + by - 1) // by):
            for x in range((lv.XSize + bx - 1) // bx):
                if lv.GetMetadataItem('BLOCK_OFFSET_%d_%d' % (x, y), 'TIFF') is None: n += 1
        sparse.append(n)
    gdal.PushErrorHandler('CPLQuietErrorHandler')
    ref = gdal.Translate('/vsimem/ref.tif', ds, format='COG', creationOptions=['BLOCKSIZE=' + bs, 'OVERVIEWS=IGNORE_EXISTING'])
    gdal.PopErrorHandler()
    rb = ref.GetRasterBand(1)
    gdal_sizes = [[rb.GetOverview(i).XSize, rb.GetOverview(i).YSize] for i in range(rb.GetOverviewCount())]
    ref = None
    gdal.Unlink('/vsimem/ref.tif')
    out.append({'warnings': warnings, 'errors': errors, 'sparse': sparse, 'gdalSizes': gdal_sizes,
                'layout': ds.GetMetadataItem('LAYOUT', 'IMAGE_STRUCTURE')})
print(json.dumps(out))
`;

interface Written {
  file: string;
  width: number;
  height: number;
  blockSize: number;
  dataType: DataType;
  nodata: number | null;
  /** Full-resolution bands as GDAL should read them (blocks never written hold nodata, or 0). */
  bands: TypedArray[];
}

/** Write a COG block by block, leaving out the blocks `skip` selects. */
async function writeCog(
  file: string,
  width: number,
  height: number,
  options: Partial<GeoTiffWriterOptions> & { dataType: DataType; blockSize: number },
  seed: number,
  skip: (col: number, row: number) => boolean = () => false,
): Promise<Written> {
  const rnd = prng(seed);
  const bandCount = options.bandCount ?? 1;
  const nodata = options.nodata ?? null;
  const bs = options.blockSize;
  const bands = Array.from({ length: bandCount }, () => makeBand(options.dataType, width, height, rnd, nodata));
  const w = await createGeoTiffWriter(file, {
    width,
    height,
    geoTransform: [1000, 2, 0, 5000, 0, -2],
    crs: { epsg: 3857, proj4: '+proj=merc +a=6378137 +b=6378137 +units=m +no_defs' },
    cog: true,
    ...options,
  });
  for (let r = 0; r < w.blocksDown; r++) {
    for (let c = 0; c < w.blocksAcross; c++) {
      const cw = Math.min(bs, width - c * bs);
      const ch = Math.min(bs, height - r * bs);
      if (skip(c, r)) {
        for (const b of bands) for (let y = 0; y < ch; y++) b.fill(nodata ?? 0, (r * bs + y) * width + c * bs, (r * bs + y) * width + c * bs + cw);
        continue;
      }
      const planes = bands.map((b) => {
        const p = new TYPED_ARRAY[options.dataType](cw * ch);
        for (let y = 0; y < ch; y++) p.set(b.subarray((r * bs + y) * width + c * bs, (r * bs + y) * width + c * bs + cw), y * cw);
        return p;
      });
      await w.writeBlock(c, r, planes);
    }
  }
  await w.close();
  return { file, width, height, blockSize: bs, dataType: options.dataType, nodata, bands };
}

/**
 * Reference overview: pixel (x, y) from pixels (2x..2x+1, 2y..2y+1) of `src` inside its extent;
 * average of those neither NaN nor nodata (rounded for integers, stored as the sample type), or
 * the top-left one for 'nearest'.
 */
function referenceOverview(
  src: ArrayLike<number>,
  w: number,
  h: number,
  dtype: DataType,
  nodata: number | null,
  mode: OverviewResampling,
): { data: Float64Array; w: number; h: number } {
  const w2 = Math.max(1, Math.floor(w / 2));
  const h2 = Math.max(1, Math.floor(h / 2));
  const out = new Float64Array(w2 * h2);
  const store = new TYPED_ARRAY[dtype](1);
  for (let y = 0; y < h2; y++) {
    for (let x = 0; x < w2; x++) {
      if (mode === 'nearest') {
        out[y * w2 + x] = src[2 * y * w + 2 * x]!;
        continue;
      }
      let sum = 0;
      let n = 0;
      for (let dy = 0; dy < 2 && 2 * y + dy < h; dy++) {
        for (let dx = 0; dx < 2 && 2 * x + dx < w; dx++) {
          const v = src[(2 * y + dy) * w + 2 * x + dx]!;
          if (Number.isNaN(v) || v === nodata) continue;
          sum += v;
          n++;
        }
      }
      if (n === 0) store[0] = nodata ?? (isFloat(dtype) ? NaN : 0);
      else store[0] = isFloat(dtype) ? sum / n : Math.round(sum / n);
      out[y * w2 + x] = store[0]!;
    }
  }
  return { data: out, w: w2, h: h2 };
}

test('COGs pass GDAL validation and have the overview sizes of GDAL’s COG driver', { skip: needGdal() }, async (t) => {
  const dir = tempDir('write-cog');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const cases: { w: number; h: number; bs: number; dataType: DataType; compression: Compression; bandCount: number; bigTiff: 'yes' | 'auto' }[] = [
    { w: 300, h: 200, bs: 64, dataType: 'float32', compression: 'deflate', bandCount: 1, bigTiff: 'auto' },
    { w: 513, h: 512, bs: 256, dataType: 'uint8', compression: 'lzw', bandCount: 3, bigTiff: 'auto' },
    { w: 1000, h: 999, bs: 128, dataType: 'int16', compression: 'zstd', bandCount: 2, bigTiff: 'yes' },
    { w: 5, h: 700, bs: 32, dataType: 'float64', compression: 'none', bandCount: 1, bigTiff: 'auto' },
    { w: 200, h: 60, bs: 256, dataType: 'uint16', compression: 'deflate', bandCount: 1, bigTiff: 'auto' },
  ];
  const written: Written[] = [];
  for (const [i, c] of cases.entries()) {
    const compression = c.compression === 'zstd' && !(await zstdAvailable()) ? 'deflate' : c.compression;
    written.push(
      await writeCog(join(dir, `cog-${i}.tif`), c.w, c.h, { ...c, compression, blockSize: c.bs, nodata: isFloat(c.dataType) ? NaN : null }, 50 + i),
    );
  }
  const results = gdalPython(
    PY_VALIDATE,
    written.flatMap((x) => [x.file, String(x.blockSize)]),
  ) as { warnings: string[]; errors: string[]; sparse: number[]; gdalSizes: [number, number][]; layout: string }[];
  results.forEach((r, i) => {
    const what = `case ${i} ${JSON.stringify(cases[i])}`;
    assert.deepEqual(r.errors, [], what);
    assert.deepEqual(r.warnings, [], what);
    assert.equal(r.layout, 'COG', what);
    const info = gdalinfoJson(written[i]!.file);
    const ours = ((info.bands[0].overviews ?? []) as { size: [number, number] }[]).map((o) => o.size);
    assert.deepEqual(ours, r.gdalSizes, `${what}: overview sizes`);
    const last = ours.at(-1) ?? [cases[i]!.w, cases[i]!.h];
    assert.ok(last[0] <= cases[i]!.bs && last[1] <= cases[i]!.bs, `${what}: the smallest overview fits one block`);
  });
  assert.deepEqual(
    results.map((r) => r.gdalSizes.length),
    [3, 1, 3, 5, 0],
  );
});

let zstdOk: boolean | null = null;
async function zstdAvailable(): Promise<boolean> {
  if (zstdOk === null) {
    const { loadCodec } = await import('../../src/write/codecs.js');
    zstdOk = await loadCodec('zstd', 9).then(
      () => true,
      () => false,
    );
  }
  return zstdOk;
}

test('COG overview pixels equal an independent 2x2 average / nearest, ignoring nodata and NaN; unwritten areas stay sparse', { skip: needGdal() }, async (t) => {
  const dir = tempDir('write-cog-values');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const W = 300;
  const H = 200;
  // Blocks (3..4, 0..1) of 64 px are never written: a whole 2x2 group, so overview 1's block (1, 0) is sparse too.
  const skip = (c: number, r: number): boolean => c >= 2 && c <= 3 && r <= 1;
  const cases: { dataType: DataType; nodata: number | null; mode: OverviewResampling; bandCount: number }[] = [
    { dataType: 'float32', nodata: NaN, mode: 'average', bandCount: 2 },
    { dataType: 'float64', nodata: -9999, mode: 'average', bandCount: 1 },
    { dataType: 'int16', nodata: -9999, mode: 'average', bandCount: 1 },
    { dataType: 'uint8', nodata: null, mode: 'average', bandCount: 1 },
    { dataType: 'uint8', nodata: 255, mode: 'nearest', bandCount: 3 },
  ];
  const written: Written[] = [];
  for (const [i, c] of cases.entries()) {
    written.push(
      await writeCog(
        join(dir, `v-${i}.tif`),
        W,
        H,
        { dataType: c.dataType, blockSize: 64, nodata: c.nodata, bandCount: c.bandCount, overviewResampling: c.mode, compression: 'deflate' },
        90 + i,
        skip,
      ),
    );
  }
  const read = gdalRead(
    written.map((x) => x.file),
    true,
  );
  const validation = gdalPython(
    PY_VALIDATE,
    written.flatMap((x) => [x.file, '64']),
  ) as { errors: string[]; sparse: number[] }[];
  cases.forEach((c, i) => {
    const what = `case ${i} ${JSON.stringify(c)}`;
    const ours = written[i]!;
    assert.deepEqual(validation[i]!.errors, [], what);
    // Level 0: 4 sparse blocks; overview 1 (150x100, 3x2 blocks): 1; overview 2 (75x50): 0.
    assert.deepEqual(validation[i]!.sparse, [4, 1, 0, 0], what);
    read[i]!.bands.forEach((g, b) => {
      assert.equal(firstDifference(ours.bands[b]!, g.pixels), null, `${what} band ${b + 1} full resolution`);
      assert.deepEqual(g.overviews, [
        [150, 100],
        [75, 50],
        [37, 25],
      ]);
      let src: ArrayLike<number> = ours.bands[b]!;
      let w = W;
      let h = H;
      g.overviewPixels.forEach((px, k) => {
        const ref = referenceOverview(src, w, h, c.dataType, c.nodata, c.mode);
        assert.equal(firstDifference(ref.data, px), null, `${what} band ${b + 1} overview ${k + 1}`);
        src = ref.data;
        w = ref.w;
        h = ref.h;
      });
    });
  });
});
