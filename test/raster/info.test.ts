/**
 * rasterInfo reports what GDAL shows of a prediction's provenance: the file's metadata items,
 * the sidecar's run record (GDAL merges them, the sidecar's winning), band 1's category names
 * and colour table; none of them for a file without.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { rasterInfo } from '../../src/raster/info.js';
import { CORPUS_DIR, needCorpus, needGdal } from '../helpers/env.js';
import { CLASSES, FILE_METADATA, RUN_METADATA, writeProvenanceFixture } from './provenance-fixture.js';

const dir = mkdtempSync(join(tmpdir(), 'tilecast-info-'));
const file = join(dir, 'prediction.tif');
after(() => rmSync(dir, { recursive: true, force: true }));

describe('rasterInfo: metadata, run record, classes', () => {
  before(() => writeProvenanceFixture(file));

  test('the file items, the sidecar items, category names and colour table size', async () => {
    const info = await rasterInfo(file);
    assert.deepEqual(info.metadata, FILE_METADATA);
    assert.deepEqual(info.sidecarMetadata, RUN_METADATA);
    assert.equal(info.sidecar, `${file}.aux.xml`);
    assert.deepEqual(info.categoryNames, CLASSES);
    assert.equal(info.colorTableEntries, CLASSES.length);
  });

  test('GDAL (with its sidecar support on) shows the same items, classes and colours', { skip: needGdal() }, async () => {
    const info = await rasterInfo(file);
    // GDAL_PAM_ENABLED=YES: the helpers turn it off to read pixels alone
    const g = JSON.parse(execFileSync('gdalinfo', ['-json', file], { encoding: 'utf8', env: { ...process.env, GDAL_PAM_ENABLED: 'YES' } }));
    // AREA_OR_POINT comes from the GeoKeys, not from a metadata item
    const { AREA_OR_POINT: _, ...items } = g.metadata[''];
    assert.deepEqual(items, { ...info.metadata, ...info.sidecarMetadata });
    assert.deepEqual(g.bands[0].categories, info.categoryNames);
    assert.equal(g.bands[0].colorTable.count, info.colorTableEntries);
  });

  test('without a sidecar: the file items only; a palette file without one counts its ColorMap', { skip: needGdal() || needCorpus() }, async () => {
    const bare = join(dir, 'bare.tif');
    copyFileSync(file, bare);
    const info = await rasterInfo(bare);
    assert.deepEqual(info.metadata, FILE_METADATA);
    assert.deepEqual(info.sidecarMetadata, {});
    assert.equal(info.sidecar, undefined);
    assert.equal(info.categoryNames, undefined);
    // the TIFF ColorMap of a uint8 palette image holds 256 colours, as GDAL reports
    const g = JSON.parse(execFileSync('gdalinfo', ['-json', bare], { encoding: 'utf8', env: { ...process.env, GDAL_PAM_ENABLED: 'YES' } }));
    assert.equal(info.colorTableEntries, g.bands[0].colorTable.count);
    assert.equal(info.colorTableEntries, 256);
    const plain = await rasterInfo(join(CORPUS_DIR, 'files', 'byte.tif'));
    assert.equal(plain.colorTableEntries, undefined);
    assert.equal(plain.categoryNames, undefined);
  });
});
