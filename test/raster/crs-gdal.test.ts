/**
 * Every CRS family against GDAL: points inside each CRS's area of use, transformed from EPSG:4326
 * by tilecast's definition (proj4js) and by GDAL's osr (PROJ, no network grids), must agree within
 * the case's tolerance (1 cm without a datum shift or with the same Helmert as PROJ).
 * The points are a fixed grid plus random ones; TILECAST_SEED=N repeats a run's random points.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import proj4 from 'proj4';
import { prng } from '../../scripts/models/prng.js';
import { crsFromEpsg, WGS84 } from '../../src/raster/crs.js';
import { needGdal } from '../helpers/env.js';
import { CASES, gdalTransform, metres, TOLERANCE } from './crs-cases.js';

const SEED = Number(process.env.TILECAST_SEED ?? Math.floor(Math.random() * 2 ** 31));

test('every CRS family agrees with GDAL inside its area of use', { skip: needGdal() }, (t) => {
  const rand = prng(SEED);
  const grid: [number, number][] = [];
  for (const fy of [0.1, 0.37, 0.63, 0.9]) for (const fx of [0.1, 0.37, 0.63, 0.9]) grid.push([fx, fy]);
  const jobs = CASES.map(({ code }): [number, [number, number][]] => [code, [...grid, ...Array.from({ length: 8 }, (): [number, number] => [0.1 + 0.8 * rand(), 0.1 + 0.8 * rand()])]]);
  const ref = gdalTransform(jobs);
  const worst: string[] = [];
  for (const { code, family, tolerance } of CASES) {
    const r = ref[code]!;
    const crs = crsFromEpsg(code);
    assert.equal(crs.epsg, code);
    assert.equal(crs.name, r.name, `EPSG:${code} name`);
    const toCrs = proj4(WGS84.proj4, crs.proj4);
    let max = 0;
    let at = '';
    for (const [lon, lat, x, y] of r.points) {
      const [px, py] = toCrs.forward([lon, lat]) as number[];
      const d = metres(r.geographic, lat, px! - x, py! - y);
      if (!(d <= max)) [max, at] = [d, `${lon.toFixed(4)}, ${lat.toFixed(4)}`];
    }
    worst.push(`EPSG:${code} ${family}: ${max.toFixed(4)} m`);
    assert.ok(max <= TOLERANCE[tolerance], `EPSG:${code} ${family} (${crs.proj4}): ${max} m from GDAL at ${at}, over the ${tolerance} tolerance ${TOLERANCE[tolerance]} m (TILECAST_SEED=${SEED})`);
  }
  t.diagnostic(`worst deviation from GDAL per CRS (seed ${SEED}):\n${worst.join('\n')}`);
});
