/** The names `import ... from 'tilecast'` gives: a change here is a change of the public API. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tilecast from '../../src/index.js';

test('public API exports exactly these runtime names', () => {
  assert.deepEqual(Object.keys(tilecast).sort(), [
    'AbortedError', 'BlockCache', 'DEFAULT_PREDICT', 'GeoTiffWriter', 'GridMismatchError', 'InputError', 'ModelError',
    'OutputError', 'RasterSource', 'RegionError', 'TilecastError', 'UnsupportedError', 'UsageError',
    'bandChecksum', 'convert', 'createGeoTiffWriter', 'crsFromEpsg', 'estimateMemory', 'isUrl', 'makePlan', 'merge', 'parseRegion',
    'predict', 'rasterInfo', 'readBytes', 'readText', 'regionToPixels', 'registerCrsDefinition', 'registerEpsg', 'weightWindow',
  ]);
  assert.equal(typeof tilecast.predict, 'function');
  assert.ok(new tilecast.InputError('x') instanceof tilecast.TilecastError);
});
