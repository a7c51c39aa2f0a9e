/** `tilecast info` as a user runs it: output, JSON, checksums and errors with exit codes. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { CORPUS_DIR, REPO_ROOT, needCorpus, needGdal } from '../helpers/env.js';
import { gdal } from '../helpers/gdal.js';

const MAIN = join(REPO_ROOT, 'src', 'cli', 'main.ts');
function tilecast(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], { encoding: 'utf8', cwd: REPO_ROOT });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('tilecast info', () => {
  test('describes a corpus file in text and JSON, with GDAL checksums', { skip: needCorpus() }, () => {
    const file = join(CORPUS_DIR, 'files', 'rgbsmall.tif');
    const text = tilecast('info', file, '--checksum');
    assert.equal(text.code, 0, text.err);
    assert.match(text.out, /Size: 50 x 50, 3 band\(s\) of uint8/);
    assert.match(text.out, /Compression: DEFLATE/);
    assert.match(text.out, /CRS: EPSG:4326/);
    assert.match(text.out, /Band 1: checksum=21212/);
    const json = tilecast('info', file, '--json', '--checksum');
    assert.equal(json.code, 0, json.err);
    const info = JSON.parse(json.out);
    assert.deepEqual(info.checksums, [21212, 21053, 21349]);
    assert.equal(info.epsg, 4326);
    assert.deepEqual(info.geoTransform, [-44.84032, 0.003432, 0, -22.932584, 0, -0.003432]);
  });

  test('NaN nodata is written as "nan" in JSON', { skip: needCorpus() }, () => {
    const r = tilecast('info', join(CORPUS_DIR, 'files', 'nan32_nodata.tif'), '--json');
    assert.equal(r.code, 0, r.err);
    assert.equal(JSON.parse(r.out).nodata, 'nan');
  });

  test('--crs-def defines a code the EPSG registry lacks (a deprecated one GDAL still writes)', { skip: needGdal() }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'tilecast-info-'));
    const file = join(dir, 'deprecated.tif');
    gdal('gdal_translate', ['-q', '-a_srs', 'EPSG:25838', '-a_ullr', '500000', '4500000', '500200', '4499800', join(CORPUS_DIR, 'files', 'byte.tif'), file]);
    const without = tilecast('info', file, '--json');
    assert.equal(without.code, 0, without.err);
    assert.equal(JSON.parse(without.out).proj4, null);
    assert.match(JSON.parse(without.out).crsError, /EPSG:25838 .*--crs-def/);
    const def = '+proj=utm +zone=38 +ellps=GRS80 +units=m +no_defs';
    const withDef = tilecast('info', file, '--json', '--crs-def', `EPSG:25838=${def}`);
    assert.equal(withDef.code, 0, withDef.err);
    assert.equal(JSON.parse(withDef.out).proj4, def);
    const bad = tilecast('info', file, '--crs-def', 'EPSG:25838');
    assert.equal(bad.code, 2);
    assert.match(bad.err, /^tilecast: error: --crs-def 'EPSG:25838' is not a definition/);
  });

  test('a missing file: exit 1, one line naming the file', () => {
    const r = tilecast('info', 'no/such/file.tif');
    assert.equal(r.code, 1);
    assert.match(r.err, /^tilecast: error: no\/such\/file\.tif: file not found; check the path\n$/);
  });

  test('a file that is not a TIFF: exit 1, says so', () => {
    const f = join(mkdtempSync(join(tmpdir(), 'tilecast-info-')), 'notes.tif');
    writeFileSync(f, 'hello, this is text\n');
    const r = tilecast('info', f);
    assert.equal(r.code, 1);
    assert.match(r.err, /notes\.tif: not a TIFF file/);
    assert.doesNotMatch(r.err, /at .*\.ts/); // no stack trace without --verbose
  });

  test('usage errors exit 2', () => {
    assert.equal(tilecast('info').code, 2);
    const r = tilecast('info', 'a.tif', '--bogus');
    assert.equal(r.code, 2);
    assert.match(r.err, /--bogus/);
    assert.equal(tilecast('nosuchcommand').code, 2);
  });
});
