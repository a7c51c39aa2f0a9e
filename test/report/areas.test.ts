/**
 * Area per class: projected pixels from the geotransform and the CRS units; geographic pixels on
 * the ellipsoid against the exact area of a latitude band (an independent closed form); counts
 * against a plain count.
 */
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { test } from 'node:test';
import type { GeoTransform } from '../../src/raster/types.js';
import { ClassAreas, pixelArea } from '../../src/report/areas.js';
import { prng } from '../write/fixtures.js';

const UTM = { epsg: 32633, proj4: '+proj=utm +zone=33 +datum=WGS84 +units=m +no_defs' };
const WGS84 = { epsg: 4326, proj4: '+proj=longlat +datum=WGS84 +no_defs' };

/**
 * Exact area (m²) between latitudes phi1 < phi2 (degrees) over dLon degrees on the ellipsoid
 * (a, 1/f): dLon·(π/180)·(S(φ2) − S(φ1)) with S(φ) = (b²/2)·(sinφ/(1 − e²sin²φ) + atanh(e·sinφ)/e).
 */
function bandArea(phi1: number, phi2: number, dLon: number, a = 6378137, rf = 298.257223563): number {
  const b = a * (1 - 1 / rf);
  const e = Math.sqrt(1 - (b * b) / (a * a));
  const S = (deg: number): number => {
    const s = Math.sin((deg * Math.PI) / 180);
    return ((b * b) / 2) * (s / (1 - e * e * s * s) + Math.atanh(e * s) / e);
  };
  return ((dLon * Math.PI) / 180) * (S(phi2) - S(phi1));
}

test('projected CRSs: the pixel area from the geotransform, in m² by the CRS units', () => {
  assert.equal(pixelArea([500000, 10, 0, 4000000, 0, -10], UTM)!.at(3, 7), 100);
  const rotated = pixelArea([0, 8, 6, 0, 6, -8], UTM)!;
  assert.equal(rotated.at(0, 0), 100);
  const usft = pixelArea([0, 10, 0, 0, 0, -10], { epsg: 2263, proj4: '+proj=lcc +lat_1=41 +lat_2=40 +units=us-ft +no_defs' })!;
  assert.ok(Math.abs(usft.at(0, 0) - 100 * (1200 / 3937) ** 2) < 1e-12);
  assert.equal(pixelArea([0, 2, 0, 0, 0, -2], { epsg: null, proj4: '+proj=tmerc +to_meter=0.5' })!.at(0, 0), 1);
  assert.equal(pixelArea([0, 1, 0, 0, 0, -1], { epsg: null, proj4: '+proj=tmerc +units=furlong-ish' }), null);
  assert.equal(pixelArea(null, UTM), null);
  assert.equal(pixelArea([0, 1, 0, 0, 0, -1], null), null);
});

test('geographic CRSs: pixel areas on the ellipsoid equal the exact latitude-band area', () => {
  for (const lat of [-89.5, -60, -12.34, 0, 0.005, 45, 70, 89]) {
    for (const size of [0.0001, 0.01, 0.25]) {
      const gt: GeoTransform = [10, size, 0, lat + size, 0, -size];
      const ours = pixelArea(gt, WGS84)!.at(0, 0);
      const exact = bandArea(lat, lat + size, size);
      const tolerance = size <= 0.01 ? 1e-7 : 1e-5;
      assert.ok(Math.abs(ours / exact - 1) < tolerance, `lat ${lat}, ${size}°: ${ours} vs ${exact}`);
    }
  }
  // 1° x 1° at the equator from 100 x 100 pixels of 0.01°
  const areas = new ClassAreas(1, [0, 0.01, 0, 1, 0, -0.01], WGS84);
  areas.add(0, 100, 100, new Uint8Array(100 * 100));
  assert.ok(Math.abs(areas.hectares![0]! / (bandArea(0, 1, 1) / 1e4) - 1) < 1e-8);
  assert.equal(areas.method, 'geographic');
  // a sphere given by +a alone
  const sphere = pixelArea([0, 1, 0, 1, 0, -1], { epsg: null, proj4: '+proj=longlat +a=6371000 +no_defs' })!.at(0, 0);
  const exactSphere = ((6371000 ** 2 * Math.PI) / 180) * Math.sin(Math.PI / 180);
  assert.ok(Math.abs(sphere / exactSphere - 1) < 1e-4);
  // rotated grids: per pixel, by the latitude of its centre
  const rot = pixelArea([0, 0.01, 0.001, 50, 0.001, -0.01], WGS84)!;
  assert.equal(rot.byRow, false);
  assert.notEqual(rot.at(0, 0), rot.at(500, 0));
});

test('ClassAreas counts classes 0..K-1 (not nodata) and sums hectares, block rows in any order', () => {
  const seed = randomInt(1, 2 ** 31);
  const rnd = prng(seed);
  const W = 123;
  const H = 77;
  const K = 6;
  const values = new Uint8Array(W * H).map(() => (rnd() < 0.2 ? 255 : Math.floor(rnd() * K)));
  const gt: GeoTransform = [20, 0.001, 0, 60, 0, -0.001];
  const areas = new ClassAreas(K, gt, WGS84);
  for (const y of [40, 0, 16, 32]) {
    const n = Math.min(y === 40 ? H - 40 : 8, H - y);
    areas.add(y, W, n, values.subarray(y * W, (y + n) * W));
  }
  for (const y of [8, 24]) areas.add(y, W, 8, values.subarray(y * W, (y + 8) * W));
  const counts = new Array<number>(K).fill(0);
  const ha = new Array<number>(K).fill(0);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const v = values[y * W + x]!;
      if (v === 255) continue;
      counts[v]!++;
      ha[v]! += bandArea(60 - (y + 1) * 0.001, 60 - y * 0.001, 0.001) / 1e4;
    }
  }
  assert.deepEqual(Array.from(areas.pixels), counts, `seed ${seed}`);
  ha.forEach((h, k) => assert.ok(Math.abs(areas.hectares![k]! / h - 1) < 1e-8, `seed ${seed}, class ${k}: ${areas.hectares![k]} vs ${h}`));
  // a rotated geographic grid counted whole and in windows gives the same hectares
  const rotGt: GeoTransform = [20, 0.001, 0.0002, 60, 0.0003, -0.001];
  const whole = new ClassAreas(K, rotGt, WGS84);
  whole.add(0, W, H, values);
  const parts = new ClassAreas(K, rotGt, WGS84);
  for (const [x, y, w, h] of [[0, 0, 50, 77], [50, 0, 73, 30], [50, 30, 73, 47]] as const) {
    const win = new Uint8Array(w * h);
    for (let r = 0; r < h; r++) win.set(values.subarray((y + r) * W + x, (y + r) * W + x + w), r * w);
    parts.add(y, w, h, win, x);
  }
  assert.deepEqual(Array.from(parts.pixels), counts);
  whole.hectares!.forEach((h, k) => assert.ok(Math.abs(parts.hectares![k]! / h - 1) < 1e-12, `class ${k}`));
  const none = new ClassAreas(K, null, null);
  none.add(0, W, H, values);
  assert.equal(none.hectares, null);
  assert.equal(none.method, 'none');
  assert.deepEqual(Array.from(none.pixels), counts);
});

test('the ellipsoid and unit come from the definition, proj4 string or WKT', () => {
  const gt: GeoTransform = [10, 0.01, 0, 45.01, 0, -0.01];
  const at = (proj4: string) => pixelArea(gt, { epsg: null, proj4 })!.at(0, 0);
  const clarke = at('+proj=longlat +ellps=clrk66 +no_defs');
  const wkt = at('GEOGCS["NAD27",DATUM["North_American_Datum_1927",SPHEROID["Clarke 1866",6378206.4,294.978698213898]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]]');
  assert.ok(Math.abs(wkt / clarke - 1) < 1e-12, `WKT ${wkt} vs proj4 ${clarke}`);
  const wgs = pixelArea(gt, WGS84)!.at(0, 0);
  assert.ok(Math.abs(clarke / wgs - 1) > 1e-5, 'Clarke 1866 is not WGS 84');
  const feet = pixelArea([0, 10, 0, 0, 0, -10], { epsg: null, proj4: '+proj=utm +zone=33 +ellps=intl +units=us-ft +no_defs' })!;
  assert.ok(Math.abs(feet.at(0, 0) / (100 * (1200 / 3937) ** 2) - 1) < 1e-12);
  const wktFeet = pixelArea([0, 10, 0, 0, 0, -10], {
    epsg: null,
    proj4: 'PROJCS["x",GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["latitude_of_origin",0],PARAMETER["central_meridian",15],PARAMETER["scale_factor",0.9996],PARAMETER["false_easting",1640416.667],PARAMETER["false_northing",0],UNIT["foot",0.3048]]',
  })!;
  assert.equal(wktFeet.method, 'projected');
  assert.ok(Math.abs(wktFeet.at(0, 0) / (100 * 0.3048 ** 2) - 1) < 1e-12);
});
