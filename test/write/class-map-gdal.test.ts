/**
 * Class maps as GDAL reads them, with PAM enabled as users run it: the argmax classes of seeded
 * probabilities written block row by block row (plain and COG), the colour table (the sidecar's,
 * one entry per class, and the TIFF's ColorMap), the category names from the `.aux.xml` sidecar,
 * nodata 255, nearest overviews, COG validation of the class map, its confidence and the
 * probabilities; and the sidecar's life cycle (atomic, removed on abort, a stale one deleted).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { TilecastError } from '../../src/errors.js';
import { argmaxRows } from '../../src/write/classes.js';
import type { Rgb } from '../../src/write/palette.js';
import { defaultPalette } from '../../src/write/palette.js';
import { createGeoTiffWriter } from '../../src/write/writer.js';
import { GDAL_PYTHON, needGdal } from '../helpers/env.js';
import { firstDifference, prng, tempDir } from './fixtures.js';
import { gdalPython, gdalRead } from './gdal-read.js';

/** GDAL with PAM enabled (its default), as a user runs it. */
const PAM_ENV = { ...process.env, GDAL_PAM_ENABLED: 'YES' };

const PY_READ = String.raw`
import sys, json, numpy as np
from osgeo import gdal
from osgeo_utils.samples.validate_cloud_optimized_geotiff import validate
gdal.UseExceptions()
out = []
for path in sys.argv[1:]:
    ds = gdal.Open(path)
    res = {'files': sorted(ds.GetFileList()), 'bands': []}
    if ds.GetMetadataItem('LAYOUT', 'IMAGE_STRUCTURE') == 'COG':
        warnings, errors, _ = validate(path, full_check=True)
        res['cog'] = {'warnings': warnings, 'errors': errors}
    for i in range(1, ds.RasterCount + 1):
        b = ds.GetRasterBand(i)
        ct = b.GetColorTable()
        name = '%s.b%d.u8' % (path, i)
        b.ReadAsArray().astype(np.uint8).tofile(name)
        ovr = []
        for k in range(b.GetOverviewCount()):
            o = b.GetOverview(k)
            oname = '%s.b%d.o%d.u8' % (path, i, k)
            o.ReadAsArray().astype(np.uint8).tofile(oname)
            ovr.append({'size': [o.XSize, o.YSize], 'file': oname})
        res['bands'].append({
            'type': gdal.GetDataTypeName(b.DataType),
            'nodata': b.GetNoDataValue(),
            'colorInterp': gdal.GetColorInterpretationName(b.GetColorInterpretation()),
            'colors': None if ct is None else [list(ct.GetColorEntry(j)) for j in range(ct.GetCount())],
            'categories': b.GetCategoryNames(),
            'file': name,
            'overviews': ovr,
        })
    out.append(res)
print(json.dumps(out))
`;

interface GdalClassBand {
  type: string;
  nodata: number | null;
  colorInterp: string;
  colors: number[][] | null;
  categories: string[] | null;
  pixels: Uint8Array;
  overviews: { size: [number, number]; pixels: Uint8Array }[];
}
interface GdalClassFile {
  files: string[];
  cog?: { warnings: string[]; errors: string[] };
  bands: GdalClassBand[];
}

function readBytes(file: string): Uint8Array {
  const b = readFileSync(file);
  rmSync(file);
  return new Uint8Array(b);
}

/** Read with PAM enabled (as users run GDAL), or disabled (what the TIFF alone holds). */
function gdalReadClasses(files: string[], pam = true): GdalClassFile[] {
  const env = pam ? PAM_ENV : { ...process.env, GDAL_PAM_ENABLED: 'NO' };
  const json = execFileSync(GDAL_PYTHON, ['-c', PY_READ, ...files], { encoding: 'utf8', maxBuffer: 1 << 28, env });
  return (JSON.parse(json) as any[]).map((f) => ({
    ...f,
    bands: (f.bands as any[]).map((b) => ({
      ...b,
      pixels: readBytes(b.file),
      overviews: (b.overviews as any[]).map((o) => ({ size: o.size, pixels: readBytes(o.file) })),
    })),
  }));
}

const W = 300;
const H = 200;
const K = 5;
const BS = 64;
const NAMES = ['water & ice', '<urban>', 'forêt', '', 'crop "maize"'];

/** Seeded probabilities (band-sequential rows) with ties, NaN outside a disc, one NaN pixel inside. */
function probabilities(seed: number): Float32Array {
  const rnd = prng(seed);
  const n = W * H;
  const data = new Float32Array(K * n);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const i = y * W + x;
      const outside = (x - 150) ** 2 + (y - 100) ** 2 > 95 ** 2;
      const v = Array.from({ length: K }, () => rnd());
      if (rnd() < 0.3) v[2] = v[4] = Math.max(...v);
      for (let k = 0; k < K; k++) data[k * n + i] = outside || (x === 150 && y === 100) ? NaN : v[k]!;
    }
  }
  return data;
}

/** Rows y0..y0+h of the band-sequential probabilities, as OutputRows.data lays them out. */
function rowsOf(data: Float32Array, y0: number, h: number): Float32Array {
  const n = W * H;
  const out = new Float32Array(K * h * W);
  for (let k = 0; k < K; k++) out.set(data.subarray(k * n + y0 * W, k * n + (y0 + h) * W), k * h * W);
  return out;
}

interface ClassMap {
  classes: Uint8Array;
  confidence: Uint8Array;
}

/** Write the class map (and its confidence, as band 2 or its own file) block row by block row. */
async function writeClassMap(
  data: Float32Array,
  files: { classes: string; confidence?: string },
  opts: { cog: boolean; colors: Rgb[]; names: string[]; confidenceBand?: boolean },
): Promise<ClassMap> {
  const common = {
    width: W,
    height: H,
    dataType: 'uint8' as const,
    nodata: 255,
    blockSize: BS,
    geoTransform: [500000, 10, 0, 4000000, 0, -10] as const,
    crs: { epsg: 32633, proj4: '+proj=utm +zone=33 +datum=WGS84 +units=m +no_defs' },
    cog: opts.cog,
  };
  const both = opts.confidenceBand === true;
  const cw = await createGeoTiffWriter(files.classes, {
    ...common,
    bandCount: both ? 2 : 1,
    colorTable: opts.colors,
    categoryNames: opts.names,
    bandDescriptions: both ? ['class', 'confidence'] : [],
  });
  const fw = files.confidence !== undefined ? await createGeoTiffWriter(files.confidence, { ...common, overviewResampling: 'average' }) : null;
  const all: ClassMap = { classes: new Uint8Array(W * H), confidence: new Uint8Array(W * H) };
  for (let r = 0; r * BS < H; r++) {
    const h = Math.min(BS, H - r * BS);
    const out = argmaxRows(rowsOf(data, r * BS, h), K, W * h, NaN, true);
    all.classes.set(out.classes, r * BS * W);
    all.confidence.set(out.confidence!, r * BS * W);
    await cw.writeBlockRow(r, both ? [out.classes, out.confidence!] : out.classes);
    if (fw !== null) await fw.writeBlockRow(r, out.confidence!);
  }
  await cw.close();
  await fw?.close();
  return all;
}

/** Overview by GDAL's nearest at factor 2 (what our writer claims): the top-left pixel of each 2x2. */
function nearestOverview(src: Uint8Array, w: number, h: number): { px: Uint8Array; w: number; h: number } {
  const w2 = Math.max(1, Math.floor(w / 2));
  const h2 = Math.max(1, Math.floor(h / 2));
  const px = new Uint8Array(w2 * h2);
  for (let y = 0; y < h2; y++) for (let x = 0; x < w2; x++) px[y * w2 + x] = src[2 * y * w + 2 * x]!;
  return { px, w: w2, h: h2 };
}

/** Independent argmax: class of each pixel by a plain loop over all bands. */
function plainArgmax(data: Float32Array): Uint8Array {
  const n = W * H;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    let best = -Infinity;
    let c = 255;
    for (let k = 0; k < K; k++) {
      const v = data[k * n + i]!;
      if (Number.isNaN(v)) {
        c = 255;
        break;
      }
      if (v > best) {
        best = v;
        c = k;
      }
    }
    out[i] = c;
  }
  return out;
}

test('class maps read back by GDAL: classes, colour table, category names, nodata 255, COG with nearest overviews', { skip: needGdal() }, async (t) => {
  const dir = tempDir('class-map');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const data = probabilities(7);
  const expected = plainArgmax(data);
  const colors = defaultPalette(K);
  const plain = join(dir, 'plain.tif');
  const cog = join(dir, 'cog.tif');
  const cogConf = join(dir, 'cog-confidence.tif');
  const twoBand = join(dir, 'two-band.tif');
  const a = await writeClassMap(data, { classes: plain }, { cog: false, colors, names: NAMES });
  await writeClassMap(data, { classes: cog, confidence: cogConf }, { cog: true, colors, names: NAMES });
  await writeClassMap(data, { classes: twoBand }, { cog: false, colors, names: NAMES, confidenceBand: true });
  assert.equal(firstDifference(a.classes, Float64Array.from(expected)), null, 'argmaxRows per block row equals a plain argmax');
  assert.ok(a.classes.some((c) => c === 255) && new Set(a.classes).size === K + 1, 'the scene has every class and nodata');

  const files = [plain, cog, cogConf, twoBand];
  const read = gdalReadClasses(files);
  for (const [i, f] of read.entries()) {
    const what = files[i]!;
    const band = f.bands[0]!;
    assert.equal(band.type, 'Byte', what);
    assert.equal(band.nodata, 255, what);
    if (what === cogConf) {
      assert.equal(firstDifference(a.confidence, Float64Array.from(band.pixels)), null, what);
      assert.equal(band.colors, null);
      assert.ok(!existsSync(`${what}.aux.xml`), 'no sidecar without category names');
      continue;
    }
    assert.equal(firstDifference(expected, Float64Array.from(band.pixels)), null, `${what}: classes`);
    assert.equal(band.colorInterp, 'Palette', what);
    assert.deepEqual(
      band.colors,
      colors.map((c) => [...c, 255]),
      `${what}: the sidecar's colour table, one entry per class`,
    );
    assert.deepEqual(band.categories, NAMES, `${what}: category names`);
    assert.ok(f.files.includes(`${what}.aux.xml`), `${what}: GDAL lists the sidecar`);
  }
  // the TIFF alone (no PAM): the ColorMap of 256 entries, Palette, no names
  for (const [i, f] of gdalReadClasses([plain, cog, twoBand], false).entries()) {
    const band = f.bands[0]!;
    const what = `${[plain, cog, twoBand][i]} without PAM`;
    assert.equal(band.colorInterp, 'Palette', what);
    assert.equal(band.colors!.length, 256, what);
    assert.deepEqual(
      band.colors!.slice(0, K),
      colors.map((c) => [...c, 255]),
      `${what}: ColorMap`,
    );
    assert.deepEqual(band.colors![K], [0, 0, 0, 255], `${what}: entries past the classes are black`);
    assert.deepEqual(band.colors![255], [0, 0, 0, 0], `${what}: GDAL makes the nodata entry transparent`);
    assert.equal(band.categories, null, what);
    assert.equal(firstDifference(expected, Float64Array.from(band.pixels)), null, `${what}: classes`);
  }
  // two-band file: band 2 is the confidence, without a palette
  assert.equal(firstDifference(a.confidence, Float64Array.from(read[3]!.bands[1]!.pixels)), null);
  assert.equal(read[3]!.bands[1]!.colors, null);

  // COGs: valid, overviews of the classes by nearest, of the confidence by average
  for (const f of [read[1]!, read[2]!]) {
    assert.deepEqual(f.cog, { warnings: [], errors: [] });
    assert.deepEqual(
      f.bands[0]!.overviews.map((o) => o.size),
      [
        [150, 100],
        [75, 50],
        [37, 25],
      ],
    );
  }
  let src = expected;
  let w = W;
  let h = H;
  for (const [k, o] of read[1]!.bands[0]!.overviews.entries()) {
    const ref = nearestOverview(src, w, h);
    assert.equal(firstDifference(ref.px, Float64Array.from(o.pixels)), null, `class overview ${k + 1}`);
    ({ px: src, w, h } = ref);
  }

  // the probabilities of the same rows as a float32 COG (average overviews) beside the class map
  const probs = join(dir, 'probabilities.tif');
  const pw = await createGeoTiffWriter(probs, { width: W, height: H, bandCount: K, blockSize: BS, nodata: NaN, cog: true, geoTransform: [500000, 10, 0, 4000000, 0, -10] });
  for (let r = 0; r * BS < H; r++) await pw.writeBlockRow(r, rowsOf(data, r * BS, Math.min(BS, H - r * BS)));
  await pw.close();
  const [validation] = gdalPython(
    'import sys, json\nfrom osgeo_utils.samples.validate_cloud_optimized_geotiff import validate\nw, e, _ = validate(sys.argv[1], full_check=True)\nprint(json.dumps([{"warnings": w, "errors": e}]))',
    [probs],
  );
  assert.deepEqual(validation, { warnings: [], errors: [] });
  const [p] = gdalRead([probs]);
  for (let k = 0; k < K; k++) assert.equal(firstDifference(data.subarray(k * W * H, (k + 1) * W * H), p!.bands[k]!.pixels), null, `probability band ${k + 1}`);

  // gdalinfo as users run it shows the colours and the names
  const info = execFileSync('gdalinfo', [cog], { encoding: 'utf8', env: PAM_ENV });
  assert.match(info, /ColorInterp=Palette/);
  assert.match(info, new RegExp(`Color Table \\(RGB with ${K} entries\\)`));
  assert.match(info, /Categories:\s*\n\s*0: water & ice\s*\n\s*1: <urban>\s*\n\s*2: forêt/);
  assert.match(info, /NoData Value=255/);
});

test('the sidecar: atomic, none left on abort, a stale one deleted, options checked', { skip: needGdal() }, async (t) => {
  const dir = tempDir('class-sidecar');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'c.tif');
  const opts = { width: 20, height: 10, dataType: 'uint8' as const, nodata: 255, blockSize: 16, colorTable: defaultPalette(3), categoryNames: ['a', 'b', 'c'] };

  // aborted: neither the image nor a sidecar, no temporary file
  const w1 = await createGeoTiffWriter(file, opts);
  await w1.writeBlockRow(0, new Uint8Array(20 * 10));
  await w1.abort();
  assert.deepEqual(readdirSync(dir), []);

  // a stale sidecar of an earlier file is replaced, or deleted when the new file has no names
  writeFileSync(`${file}.aux.xml`, '<PAMDataset><Metadata><MDI key="STALE">1</MDI></Metadata></PAMDataset>');
  const w2 = await createGeoTiffWriter(file, opts);
  await w2.writeBlockRow(0, new Uint8Array(20 * 10).fill(1));
  await w2.close();
  assert.deepEqual(readdirSync(dir).sort(), ['c.tif', 'c.tif.aux.xml']);
  assert.doesNotMatch(readFileSync(`${file}.aux.xml`, 'utf8'), /STALE/);
  // a colour table without names: a sidecar with the table only
  const w3 = await createGeoTiffWriter(file, { ...opts, categoryNames: [] });
  await w3.writeBlockRow(0, new Uint8Array(20 * 10).fill(2));
  await w3.close();
  let band = JSON.parse(execFileSync('gdalinfo', ['-json', file], { encoding: 'utf8', env: PAM_ENV })).bands[0];
  assert.equal(band.colorInterpretation, 'Palette');
  assert.equal(band.colorTable.count, 3);
  assert.equal(band.categories, undefined);
  // neither: no sidecar, the earlier one deleted
  const w4 = await createGeoTiffWriter(file, { ...opts, categoryNames: [], colorTable: null });
  await w4.writeBlockRow(0, new Uint8Array(20 * 10).fill(2));
  await w4.close();
  assert.deepEqual(readdirSync(dir), ['c.tif']);
  band = JSON.parse(execFileSync('gdalinfo', ['-json', file], { encoding: 'utf8', env: PAM_ENV })).bands[0];
  assert.equal(band.colorInterpretation, 'Gray');
  assert.equal(band.colorTable, undefined);

  const usage = (re: RegExp) => (e: unknown) => e instanceof TilecastError && e.code === 'usage' && re.test(e.message) && e.message.includes(file);
  await assert.rejects(createGeoTiffWriter(file, { ...opts, dataType: 'float32', nodata: null }), usage(/colorTable needs dataType 'uint8'/));
  await assert.rejects(createGeoTiffWriter(file, { ...opts, colorTable: [[0, 0, 256]] }), usage(/colorTable entry 0 must be \[r, g, b\]/));
  await assert.rejects(createGeoTiffWriter(file, { ...opts, colorTable: defaultPalette(255).concat(defaultPalette(2)) }), usage(/at most 256 colours, got 257/));
});
