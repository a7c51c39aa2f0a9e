/**
 * Overviews (a file's reduced-resolution images) opened as RasterSources: their pixels equal
 * GDAL's GetOverview(k).ReadAsArray() for COGs written by gdal_translate -of COG, by tilecast's
 * own writer (cog: true), and for every corpus file that has overviews (masks left out, as GDAL
 * leaves them out); open(path, { overview: k }) and overviews() agree; an overview carries the
 * file's georeferencing, scaled.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { prng } from '../../scripts/models/prng.js';
import { UsageError } from '../../src/errors.js';
import { RasterSource } from '../../src/raster/source.js';
import { createGeoTiffWriter } from '../../src/write/writer.js';
import { CORPUS_DIR, GDAL_PYTHON, needCorpus, needGdal } from '../helpers/env.js';
import { gdal, gdalCreateMany } from '../helpers/gdal.js';

const SEED = process.env.TILECAST_SEED !== undefined ? Number(process.env.TILECAST_SEED) : (Date.now() ^ (process.pid << 16)) >>> 0;
const REPLAY = `seed ${SEED} (replay: TILECAST_SEED=${SEED} node --import tsx --test test/raster/overviews.test.ts)`;

const PY_OVERVIEWS = `
import sys, struct, numpy as np
from osgeo import gdal
gdal.UseExceptions()
out = sys.stdout.buffer
ds = gdal.Open(sys.argv[1])
n = ds.GetRasterBand(1).GetOverviewCount()
out.write(struct.pack('<d', n))
for k in range(n):
    o = ds.GetRasterBand(1).GetOverview(k)
    out.write(struct.pack('<2d', o.XSize, o.YSize))
    for i in range(1, ds.RasterCount + 1):
        out.write(ds.GetRasterBand(i).GetOverview(k).ReadAsArray().astype(np.float64).tobytes())
`;

const PY_COUNTS = `
import sys, json
from osgeo import gdal
gdal.UseExceptions()
counts = []
for f in sys.argv[1:]:
    ds = gdal.Open(f)  # held while its band is used
    counts.append(ds.GetRasterBand(1).GetOverviewCount())
print(json.dumps(counts))
`;

/** Every overview of a file as GDAL reads it: size and one float64 plane per band. */
function gdalOverviews(file: string, bands: number): { width: number; height: number; planes: Float64Array[] }[] {
  const buf = execFileSync(GDAL_PYTHON, ['-c', PY_OVERVIEWS, file], { maxBuffer: 1 << 30, env: { ...process.env, GDAL_PAM_ENABLED: 'NO' } });
  const all = new Float64Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  const out = [];
  let at = 1;
  for (let k = 0; k < all[0]!; k++) {
    const [width, height] = [all[at]!, all[at + 1]!];
    at += 2;
    const planes: Float64Array[] = [];
    for (let b = 0; b < bands; b++, at += width * height) planes.push(all.subarray(at, at + width * height));
    out.push({ width, height, planes });
  }
  return out;
}

/** Our overviews of `file` against GDAL's, pixel for pixel (NaN equal to NaN). */
async function assertOverviewsEqualGdal(file: string, label: string): Promise<number> {
  const src = await RasterSource.open(file);
  try {
    const want = gdalOverviews(file, src.bandCount);
    const levels = await src.overviews();
    assert.equal(levels.length, want.length, `${label}: overview count`);
    assert.equal(src.overviewCount, want.length);
    for (const [k, ov] of levels.entries()) {
      assert.deepEqual([ov.width, ov.height], [want[k]!.width, want[k]!.height], `${label}: overview ${k} size`);
      assert.equal(ov.overviewLevel, k);
      const { data } = await ov.readWindow({ x: 0, y: 0, width: ov.width, height: ov.height }, { out: want[k]!.planes.map((p) => new Float64Array(p.length)), validity: false });
      data.forEach((plane, b) => {
        const diff = plane.findIndex((v, i) => !Object.is(v, want[k]!.planes[b]![i]) && !(Number.isNaN(v) && Number.isNaN(want[k]!.planes[b]![i])));
        assert.equal(diff, -1, `${label}: overview ${k} band ${b + 1} pixel ${diff}: ${plane[diff]} vs GDAL ${want[k]!.planes[b]![diff]}`);
      });
    }
    return levels.length;
  } finally {
    await src.close();
  }
}

const skip = needGdal() || needCorpus();
const dir = mkdtempSync(join(tmpdir(), 'tilecast-overviews-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('overviews', { skip }, () => {
  const gdalCogs: { path: string; label: string }[] = [];
  const ours: { path: string; label: string }[] = [];

  before(async () => {
    // GDAL COGs from seeded rasters: pixel-interleaved uint16, float32 with NaN nodata, int16 LZW
    const specs = [
      { dtype: 'uint16', bands: 3, nodata: null, co: ['COMPRESS=DEFLATE', 'PREDICTOR=2', 'OVERVIEW_RESAMPLING=AVERAGE'] },
      { dtype: 'float32', bands: 1, nodata: 'nan', co: ['COMPRESS=ZSTD', 'OVERVIEW_RESAMPLING=BILINEAR'] },
      { dtype: 'int16', bands: 2, nodata: -9999, co: ['COMPRESS=LZW', 'OVERVIEW_RESAMPLING=NEAREST'] },
    ] as const;
    const rnd = prng(SEED);
    const made = specs.map((s, i) => ({
      path: join(dir, `src-${i}.tif`), width: 600 + Math.floor(rnd() * 400), height: 400 + Math.floor(rnd() * 400), bands: s.bands, dtype: s.dtype,
      options: ['TILED=YES'], seed: Math.floor(rnd() * 2 ** 31), nodata: s.nodata, sparse: false, extremes: false,
    }));
    assert.deepEqual(gdalCreateMany(made), made.map(() => null));
    made.forEach((m, i) => {
      const path = join(dir, `gdal-cog-${i}.tif`);
      gdal('gdal_translate', ['-q', '-of', 'COG', '-co', 'BLOCKSIZE=128', ...specs[i]!.co.flatMap((c) => ['-co', c]), m.path, path]);
      gdalCogs.push({ path, label: `GDAL COG ${specs[i]!.dtype} ${m.width}x${m.height} ${specs[i]!.co.join(' ')}, ${REPLAY}` });
    });

    // tilecast's writer with cog: true (average and nearest overviews, NaN nodata)
    for (const [i, o] of ([
      { dataType: 'float32', bandCount: 2, nodata: NaN, compression: 'deflate', overviewResampling: 'average' },
      { dataType: 'uint8', bandCount: 1, nodata: 255, compression: 'zstd', overviewResampling: 'nearest' },
    ] as const).entries()) {
      const width = 700 + Math.floor(rnd() * 300);
      const height = 500 + Math.floor(rnd() * 300);
      const path = join(dir, `ours-cog-${i}.tif`);
      const w = await createGeoTiffWriter(path, { width, height, blockSize: 128, cog: true, geoTransform: [500000, 10, 0, 4000000, 0, -10], ...o });
      for (let row = 0; row * 128 < height; row++) {
        const h = Math.min(128, height - row * 128);
        const planes = Array.from({ length: o.bandCount }, (_, b) => {
          const p = o.dataType === 'float32' ? new Float32Array(width * h) : new Uint8Array(width * h);
          for (let y = 0; y < h; y++) {
            for (let x = 0; x < width; x++) {
              const v = Math.sin((x + b * 17) / 23) * Math.cos((row * 128 + y) / 31);
              p[y * width + x] = o.dataType === 'float32' ? (rnd() < 0.02 ? NaN : v * 1000) : rnd() < 0.02 ? 255 : Math.floor((v + 1) * 100);
            }
          }
          return p;
        });
        await w.writeBlockRow(row, planes);
      }
      await w.close();
      ours.push({ path, label: `tilecast COG ${o.dataType} ${width}x${height} ${o.overviewResampling}, ${REPLAY}` });
    }
  });

  test('GDAL COGs: every overview equals GDAL GetOverview(k)', async () => {
    for (const c of gdalCogs) assert.ok((await assertOverviewsEqualGdal(c.path, c.label)) >= 2, `${c.label}: has overviews`);
  });

  test("tilecast's own COGs: every overview equals GDAL GetOverview(k)", async () => {
    for (const c of ours) assert.ok((await assertOverviewsEqualGdal(c.path, c.label)) >= 2, `${c.label}: has overviews`);
  });

  test('corpus files with overviews (masks left out, as GDAL leaves them out)', async () => {
    const manifest: { file: string; expected: string }[] = JSON.parse(readFileSync(join(CORPUS_DIR, 'MANIFEST.json'), 'utf8'));
    const files = manifest.filter((m) => m.expected === 'readable').map((m) => join(CORPUS_DIR, 'files', m.file));
    const counts = JSON.parse(execFileSync(GDAL_PYTHON, ['-c', PY_COUNTS, ...files], { encoding: 'utf8', env: { ...process.env, GDAL_PAM_ENABLED: 'NO' } })) as number[];
    let withOverviews = 0;
    for (const [i, file] of files.entries()) {
      const src = await RasterSource.open(file);
      const n = src.overviewCount;
      await src.close();
      assert.equal(n, counts[i], `${file}: overview count`);
      if (n > 0) {
        await assertOverviewsEqualGdal(file, file);
        withOverviews++;
      }
    }
    assert.ok(withOverviews >= 8, `${withOverviews} corpus files have overviews`);
  });

  test('open(path, { overview: k }) equals overviews()[k]; georeferencing is scaled; closing the file closes its overviews', async () => {
    const file = ours[0]!.path;
    const src = await RasterSource.open(file);
    const levels = await src.overviews();
    assert.equal(await src.overviews(), levels, 'the same objects each time');
    for (const [k, ov] of levels.entries()) {
      const alone = await RasterSource.open(file, { overview: k });
      try {
        assert.deepEqual([alone.width, alone.height, alone.blockWidth, alone.nodata, alone.overviewLevel], [ov.width, ov.height, ov.blockWidth, ov.nodata, k]);
        const win = { x: 3, y: 5, width: ov.width - 7, height: ov.height - 9 };
        assert.deepEqual(await alone.readWindow(win), await ov.readWindow(win));
        const g = src.geoTransform!;
        assert.deepEqual(alone.geoTransform, [g[0], g[1] * (src.width / ov.width), 0, g[3], 0, g[5] * (src.height / ov.height)]);
        assert.equal(alone.overviewCount, 0);
        assert.deepEqual(await alone.overviews(), []);
      } finally {
        await alone.close();
      }
    }
    await src.close();
    await assert.rejects(levels[0]!.readWindow({ x: 0, y: 0, width: 10, height: 10 }), /read after close|closed/);
  });

  test('an overview the file does not have: a UsageError naming the file and the overviews it has', async () => {
    const file = ours[0]!.path;
    const n = (await RasterSource.open(file).then(async (s) => [s.overviewCount, await s.close()]))[0] as number;
    const err = await RasterSource.open(file, { overview: n }).then(() => null, (e: unknown) => e);
    assert.ok(err instanceof UsageError, String(err));
    assert.equal(err.message, `${file}: overview ${n} asked for; the file has ${n} (0..${n - 1})`);
    const none = join(CORPUS_DIR, 'files', 'byte.tif');
    const err2 = await RasterSource.open(none, { overview: 0 }).then(() => null, (e: unknown) => e);
    assert.ok(err2 instanceof UsageError);
    assert.match(err2.message, /byte\.tif: overview 0 asked for; the file has none \(add them with gdaladdo, or write a COG\)$/);
  });
});
