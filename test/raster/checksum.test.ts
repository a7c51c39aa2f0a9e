/**
 * `info --checksum` on many bands: one pass over the file with a bounded buffer (bands in groups)
 * gives GDAL's checksum for every band, pixel- and band-interleaved.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { rasterInfo } from '../../src/raster/info.js';
import { needGdal } from '../helpers/env.js';
import { gdalChecksumsMany, gdalCreateMany, type CreateSpec } from '../helpers/gdal.js';

const skip = needGdal();
const dir = mkdtempSync(join(tmpdir(), 'tilecast-checksum-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// 120 bands x 4400 px x 8 rows is more samples than one read holds: the bands go in two groups
const specs: CreateSpec[] = ['PIXEL', 'BAND'].map((interleave) => ({
  path: join(dir, `${interleave}.tif`), width: 4400, height: 17, bands: 120, dtype: 'int16',
  options: [`INTERLEAVE=${interleave}`, 'BLOCKYSIZE=8', 'COMPRESS=DEFLATE'], seed: 3, nodata: null, sparse: false, extremes: true,
}));
let want: ReturnType<typeof gdalChecksumsMany> = [];
before(() => {
  if (skip) return;
  assert.deepEqual(gdalCreateMany(specs).filter((e) => e !== null), []);
  want = gdalChecksumsMany(specs.map((s) => s.path), 600);
});

for (const [i, s] of specs.entries()) {
  test(`120 bands, ${s.options[0]}: every checksum equals GDAL's`, { skip }, async () => {
    const info = await rasterInfo(s.path, { checksum: true });
    assert.ok('checksums' in want[i]!, JSON.stringify(want[i]));
    assert.deepEqual(info.checksums, (want[i] as { checksums: number[] }).checksums);
  });
}
