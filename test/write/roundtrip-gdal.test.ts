/**
 * Write → GDAL read-back over a pairwise matrix of data type x compression x predictor x block
 * size x BigTIFF x band count x input form: GDAL must read exactly the pixels written, the same
 * geotransform, EPSG code, nodata, band descriptions and metadata.
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Crs, DataType, GeoTransform, TypedArray } from '../../src/raster/types.js';
import { isFloat } from '../../src/raster/types.js';
import { RasterSource } from '../../src/raster/source.js';
import type { GeoTiffWriter } from '../../src/write/writer.js';
import { createGeoTiffWriter } from '../../src/write/writer.js';
import { loadCodec } from '../../src/write/codecs.js';
import { needGdal } from '../helpers/env.js';
import { firstDifference, makeBand, prng, tempDir } from './fixtures.js';
import { gdalinfoJson } from '../helpers/gdal.js';
import { gdalRead } from './gdal-read.js';
import { allPairs, coveredPairs } from './pairwise.js';

const W = 300;
const H = 200;

const AXES = {
  dataType: ['uint8', 'int8', 'uint16', 'int16', 'uint32', 'int32', 'float32', 'float64'],
  compression: ['deflate', 'zstd', 'lzw', 'none'],
  predictor: ['auto', 'none', 2, 3],
  blockSize: [16, 64, 256],
  bigTiff: ['yes', 'no', 'auto'],
  bandCount: [1, 4, 7],
  input: ['blocks', 'padded', 'rows', 'single'],
} as const;

const { cases, pairs } = allPairs(AXES, (c) => {
  if (c.predictor === 3 && !isFloat(c.dataType)) return false;
  if ((c.predictor === 2 || c.predictor === 3) && c.compression === 'none') return false;
  return true;
});

const UTM: Crs = { epsg: 32633, proj4: '+proj=utm +zone=33 +datum=WGS84 +units=m +no_defs' };
const WGS84: Crs = { epsg: 4326, proj4: '+proj=longlat +datum=WGS84 +no_defs' };
const NORTH_UP: GeoTransform = [499980, 10, 0, 5300040, 0, -10];
const ROTATED: GeoTransform = [10.5, 0.001, 0.0002, 50.25, 0.0001, -0.001];

function nodataFor(dtype: DataType, i: number): number | null {
  const k = i % 3;
  if (k === 2) return null;
  if (isFloat(dtype)) return k === 0 ? NaN : -9999;
  return k === 0 ? (dtype.startsWith('uint') ? 0 : -1) : dtype === 'int8' ? -128 : 255;
}

/** Submit the image in the case's input form; 'blocks' goes in a shuffled order. */
async function writeImage(w: GeoTiffWriter, bands: TypedArray[], input: (typeof AXES.input)[number], rnd: () => number): Promise<void> {
  const bs = w.options.blockSize;
  const Ctor = bands[0]!.constructor as new (n: number) => TypedArray;
  if (input === 'rows') {
    for (let r = 0; r < w.blocksDown; r++) {
      const ch = Math.min(bs, H - r * bs);
      await w.writeBlockRow(r, bands.map((b) => b.subarray(r * bs * W, (r * bs + ch) * W)));
    }
    return;
  }
  const order: [number, number][] = [];
  for (let r = 0; r < w.blocksDown; r++) for (let c = 0; c < w.blocksAcross; c++) order.push([c, r]);
  if (input === 'blocks') {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
  }
  for (const [c, r] of order) {
    const cw = Math.min(bs, W - c * bs);
    const ch = Math.min(bs, H - r * bs);
    const padded = input === 'padded';
    const stride = padded ? bs : cw;
    const planes = bands.map((b) => {
      const p = new Ctor(padded ? bs * bs : cw * ch);
      if (padded) p.fill(7); // padding content must not matter
      for (let y = 0; y < ch; y++) p.set(b.subarray((r * bs + y) * W + c * bs, (r * bs + y) * W + c * bs + cw), y * stride);
      return p;
    });
    if (input === 'single') {
      const one = new Ctor(planes.length * planes[0]!.length);
      planes.forEach((p, i) => one.set(p, i * p.length));
      await w.writeBlock(c, r, one);
    } else {
      await w.writeBlock(c, r, planes);
    }
  }
}

test('the pairwise matrix covers every allowed pair of axis values', () => {
  assert.deepEqual(coveredPairs(AXES, cases), pairs);
  assert.ok(cases.length <= 40, `${cases.length} cases`);
});

/** zstd's encoder is an optional package: without it, zstd cases are left out (and the writer's error is checked). */
const zstd: true | string = await loadCodec('zstd', 9).then(
  () => true as const,
  (e: Error) => e.message,
);

test('zstd: available, or an UnsupportedError naming the package to install', () => {
  if (zstd !== true) assert.match(zstd, /npm install @bokuweb\/zstd-wasm/);
});

test('GDAL reads back exactly what was written, over the pairwise matrix', { skip: needGdal() }, async (t) => {
  if (zstd !== true) t.diagnostic(`zstd cases left out: ${zstd}`);
  const dir = tempDir('write-matrix');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const written: { i: number; file: string; bands: TypedArray[]; nodata: number | null; gt: GeoTransform; crs: Crs; descriptions: string[]; bigTiff: boolean }[] =
    [];
  for (const [i, c] of cases.entries()) {
    if (c.compression === 'zstd' && zstd !== true) continue;
    const rnd = prng(1000 + i);
    const nodata = nodataFor(c.dataType, i);
    const bands = Array.from({ length: c.bandCount }, () => makeBand(c.dataType, W, H, rnd, nodata));
    const gt = i % 2 === 0 ? NORTH_UP : ROTATED;
    const crs = i % 2 === 0 ? UTM : WGS84;
    const descriptions = bands.map((_, b) => `band ${b + 1} <p&q> "${c.dataType}"`);
    const file = join(dir, `case-${i}.tif`);
    const w = await createGeoTiffWriter(file, {
      width: W,
      height: H,
      bandCount: c.bandCount,
      dataType: c.dataType,
      geoTransform: gt,
      crs,
      nodata,
      bandDescriptions: descriptions,
      metadata: { MODEL: 'unet & co', CASE: String(i) },
      blockSize: c.blockSize,
      compression: c.compression,
      predictor: c.predictor,
      bigTiff: c.bigTiff,
    });
    await writeImage(w, bands, c.input, rnd);
    await w.close();
    written.push({ i, file, bands, nodata, gt, crs, descriptions, bigTiff: w.bigTiff });
  }
  const read = gdalRead(written.map((x) => x.file));
  for (const [j, ours] of written.entries()) {
    const i = ours.i;
    const c = cases[i]!;
    const g = read[j]!;
    const what = `case ${i} ${JSON.stringify(c)}`;
    const magic = readFileSync(ours.file).readUInt16LE(2);
    assert.equal(magic, c.bigTiff === 'yes' ? 43 : 42, `${what}: TIFF version`);
    assert.deepEqual(g.size, [W, H], what);
    assert.deepEqual(g.geoTransform, [...ours.gt], what);
    assert.equal(g.epsg, ours.crs.epsg, what);
    assert.equal(g.metadata.MODEL, 'unet & co', what);
    assert.equal(g.imageStructure.INTERLEAVE, 'BAND', what);
    assert.equal(g.bands.length, c.bandCount, what);
    g.bands.forEach((b, k) => {
      assert.deepEqual(b.blockSize, [c.blockSize, c.blockSize], what);
      assert.equal(b.description, ours.descriptions[k], what);
      if (ours.nodata === null) assert.equal(b.nodata, null, what);
      else assert.ok(Object.is(b.nodata, ours.nodata), `${what}: nodata ${b.nodata} vs ${ours.nodata}`);
      const diff = firstDifference(ours.bands[k]!, b.pixels);
      assert.equal(diff, null, `${what} band ${k + 1}: ${diff}`);
    });
  }
});

test('a geographic CRS defined by WKT is written as geographic, one defined by a proj4 string too', { skip: needGdal() }, async () => {
  const dir = tempDir('georef');
  try {
    const nad83wkt = 'GEOGCS["NAD83",DATUM["North_American_Datum_1983",SPHEROID["GRS 1980",6378137,298.257222101]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]]';
    for (const [name, crs] of [['wkt', { epsg: 4269, proj4: nad83wkt }], ['proj4', { epsg: 4269, proj4: '+proj=longlat +datum=NAD83 +no_defs' }], ['utm', UTM]] as [string, Crs][]) {
      const file = join(dir, `${name}.tif`);
      const w = await createGeoTiffWriter(file, { width: 4, height: 4, bandCount: 1, dataType: 'uint8', geoTransform: [-100, 0.1, 0, 40, 0, -0.1], crs });
      await w.writeBlockRow(0, [new Uint8Array(16)]);
      await w.close();
      const info = gdalinfoJson(file);
      const wkt: string = info.coordinateSystem.wkt;
      if (name === 'utm') assert.match(wkt, /^PROJCRS\["WGS 84 \/ UTM zone 33N"/, name);
      else assert.match(wkt, /^GEOGCRS\["NAD83"[\s\S]*ID\["EPSG",4269\]\]$/, name);
      // the keys themselves (GDAL shows EPSG:4269 as geographic even under a projected model type)
      const src = await RasterSource.open(file);
      const keys = src.rawGeoKeys!.directory;
      await src.close();
      const key = (id: number) => { for (let i = 4; i < keys.length; i += 4) if (keys[i] === id) return keys[i + 3]; return undefined; };
      assert.equal(key(1024), name === 'utm' ? 1 : 2, `${name}: GTModelTypeGeoKey`);
      assert.equal(key(name === 'utm' ? 3072 : 2048), crs.epsg, `${name}: the CRS code under the key of its kind`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
