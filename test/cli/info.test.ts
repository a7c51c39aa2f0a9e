/** `tilecast info` as a user runs it: output, JSON, checksums, provenance, URLs and errors with exit codes. */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { prng } from '../../scripts/models/prng.js';
import { formatItem } from '../../src/cli/info.js';
import { CORPUS_DIR, REPO_ROOT, needCorpus, needGdal } from '../helpers/env.js';
import { gdal } from '../helpers/gdal.js';
import { startServer } from '../raster/http-server.js';
import { CLASSES, FILE_METADATA, INPUTS, RUN_METADATA, writeProvenanceFixture } from '../raster/provenance-fixture.js';

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

  test('prints the provenance: the file\'s items, the sidecar\'s run record, classes; all of it in --json', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tilecast-info-'));
    const file = join(dir, 'prediction.tif');
    await writeProvenanceFixture(file);
    const text = tilecast('info', file);
    assert.equal(text.code, 0, text.err);
    const lines = text.out.split('\n');
    const at = (heading: string) => {
      const i = lines.indexOf(heading);
      assert.ok(i >= 0, `a "${heading}" section:\n${text.out}`);
      return i;
    };
    const md = at('Metadata:');
    const run = at('Metadata in prediction.tif.aux.xml:');
    assert.ok(md < run);
    const section = (from: number) => lines.slice(from + 1, lines.findIndex((l, i) => i > from && !l.startsWith('  ')));
    const fileLines = section(md);
    const runLines = section(run);
    assert.ok(fileLines.includes('  TILECAST_MODEL=crops.onnx'));
    assert.ok(fileLines.includes(`  TILECAST_MODEL_SHA256=${FILE_METADATA.TILECAST_MODEL_SHA256}`));
    assert.ok(fileLines.includes(`  NOTE_<&>=${FILE_METADATA['NOTE_<&>']}`));
    // a long JSON list: one input per line, the first 8, then how many more
    const list = fileLines.indexOf(`  TILECAST_DYNAMIC=[${INPUTS.length} items]`);
    assert.ok(list >= 0, fileLines.join('\n'));
    assert.deepEqual(fileLines.slice(list + 1, list + 10), [...INPUTS.slice(0, 8).map((i) => `    ${JSON.stringify(i)}`), `    … ${INPUTS.length - 8} more (--json lists all)`]);
    assert.ok(fileLines.includes('  TILECAST_NORM={2 keys}'));
    assert.ok(runLines.includes(`  TILECAST_STARTED=${RUN_METADATA.TILECAST_STARTED}`));
    assert.ok(runLines.some((l) => l.startsWith('  TILECAST_COMMAND=tilecast predict --model crops.onnx')));
    assert.ok(!runLines.some((l) => l.startsWith('  TILECAST_VERSION')), 'sidecar items apart from the file\'s');
    // the long command wrapped, nothing lost
    const cmd = runLines.slice(runLines.findIndex((l) => l.startsWith('  TILECAST_COMMAND=')), runLines.findIndex((l) => l.startsWith('  TILECAST_STARTED=')));
    assert.ok(cmd.length > 1);
    assert.equal(cmd.map((l) => l.trim()).join(' ').replace('TILECAST_COMMAND=', ''), RUN_METADATA.TILECAST_COMMAND);
    for (const l of lines) assert.ok(l.length <= 100 || !l.startsWith('  '), `line of ${l.length} characters: ${l}`);
    assert.ok(lines.includes('Band 1 colour table: 4 entries'));
    assert.ok(lines.includes('Band 1 categories (4):') && lines.includes('  0=water, 1=forest, 2=crop, 3=urban'));

    const json = tilecast('info', file, '--json');
    assert.equal(json.code, 0, json.err);
    const info = JSON.parse(json.out);
    assert.deepEqual(info.metadata, FILE_METADATA);
    assert.deepEqual(info.sidecarMetadata, RUN_METADATA);
    assert.deepEqual(info.categoryNames, CLASSES);
    assert.equal(info.colorTableEntries, 4);
  });

  test('long metadata values: no line over the width, nothing lost (seeded)', () => {
    const seed = process.env.TILECAST_SEED !== undefined ? Number(process.env.TILECAST_SEED) : (Date.now() ^ (process.pid << 16)) >>> 0;
    const rnd = prng(seed);
    const word = () => 'abcdefghij/._-'.repeat(40).slice(0, 1 + Math.floor(rnd() * (rnd() < 0.1 ? 250 : 20)));
    for (let n = 0; n < 300; n++) {
      const kind = rnd();
      const key = `KEY_${'X'.repeat(Math.floor(rnd() * (rnd() < 0.1 ? 200 : 30)))}`;
      const value = kind < 0.4
        ? Array.from({ length: Math.floor(rnd() * 40) }, word).join(' ')
        : kind < 0.7
          ? JSON.stringify(Array.from({ length: Math.floor(rnd() * 20) }, () => ({ file: word(), bytes: Math.floor(rnd() * 1e9) })))
          : JSON.stringify({ mean: Array.from({ length: Math.floor(rnd() * 60) }, () => rnd() * 1000), name: word() });
      const width = 60 + Math.floor(rnd() * 60);
      const lines = formatItem(key, value, width);
      const where = `seed ${seed} case ${n} (replay: TILECAST_SEED=${seed} node --import tsx --test test/cli/info.test.ts)`;
      // only a key longer than the width makes a longer line (the key's own)
      for (const l of lines) assert.ok(l.length <= width || (l.startsWith(`  ${key}=`) && key.length + 3 > width / 2), `${l.length} > ${width}: ${l}; ${where}`);
      assert.ok(lines[0]!.startsWith(`  ${key}=`), where);
      const squeeze = (s: string) => s.replace(/\s+/g, '');
      if (kind < 0.4 || lines.length === 1) assert.equal(squeeze(lines.join('')), squeeze(`  ${key}=${value}`), where);
    }
  });

  test('a URL: read with range requests, the same description; a missing one: exit 1, one line', { skip: needCorpus() }, async () => {
    const server = await startServer({ roots: { corpus: join(CORPUS_DIR, 'files') } });
    // the server runs in this process: run the CLI without blocking it
    const run = (...args: string[]) =>
      new Promise<{ code: number; out: string; err: string }>((resolve) => {
        execFile(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: REPO_ROOT, encoding: 'utf8' }, (e, out, err) => resolve({ code: e ? Number(e.code) : 0, out, err }));
      });
    try {
      const url = `${server.url}/corpus/rgbsmall.tif`;
      const remote = await run('info', url, '--json', '--checksum');
      assert.equal(remote.code, 0, remote.err);
      const local = tilecast('info', join(CORPUS_DIR, 'files', 'rgbsmall.tif'), '--json', '--checksum');
      assert.deepEqual({ ...JSON.parse(remote.out), file: '' }, { ...JSON.parse(local.out), file: '' });
      assert.ok(server.log.length >= 1 && server.log.every((l) => l.range !== null));
      const missing = await run('info', `${server.url}/corpus/missing.tif`);
      assert.equal(missing.code, 1);
      assert.equal(missing.err, `tilecast: error: ${server.url}/corpus/missing.tif: not found (HTTP 404 Not Found); check the URL\n`);
    } finally {
      await server.close();
    }
  });

  test('usage errors exit 2', () => {
    assert.equal(tilecast('info').code, 2);
    const r = tilecast('info', 'a.tif', '--bogus');
    assert.equal(r.code, 2);
    assert.match(r.err, /--bogus/);
    assert.equal(tilecast('nosuchcommand').code, 2);
  });
});
