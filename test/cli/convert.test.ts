/** `tilecast convert` as a user runs it: a COG of a raster, and its errors with exit codes. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { RasterSource } from '../../src/raster/source.js';
import { crsFromEpsg } from '../../src/raster/crs.js';
import { createGeoTiffWriter } from '../../src/write/writer.js';
import { REPO_ROOT } from '../helpers/env.js';

const MAIN = join(REPO_ROOT, 'src', 'cli', 'main.ts');
const dir = mkdtempSync(join(tmpdir(), 'tilecast-convert-cli-'));
const input = join(dir, 'in.tif');
after(() => rmSync(dir, { recursive: true, force: true }));

function tilecast(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], { encoding: 'utf8', cwd: REPO_ROOT });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('tilecast convert', () => {
  before(async () => {
    const w = await createGeoTiffWriter(input, { width: 300, height: 200, bandCount: 2, dataType: 'int16', compression: 'none', blockSize: 64, geoTransform: [500000, 10, 0, 5500000, 0, -10], crs: crsFromEpsg(32633), nodata: -999, bandDescriptions: ['a', 'b'] });
    for (let row = 0; row < w.blocksDown; row++) {
      const h = Math.min(64, 200 - row * 64);
      const planes = [new Int16Array(300 * h), new Int16Array(300 * h)];
      for (let i = 0; i < 300 * h; i++) {
        planes[0]![i] = ((row * 64 * 300 + i) % 2001) - 1000;
        planes[1]![i] = i % 7 === 0 ? -999 : i % 123;
      }
      await w.writeBlockRow(row, planes);
    }
    await w.close();
  });

  test('makes a COG with the same pixels, georeferencing, nodata and band names', async () => {
    const out = join(dir, 'cog.tif');
    const r = tilecast('convert', input, out, '--cog', '--compress', 'deflate', '--block', '128', '--json');
    assert.equal(r.code, 0, r.err);
    assert.equal(JSON.parse(r.out).bands, 2);
    const a = await RasterSource.open(input);
    const b = await RasterSource.open(out);
    try {
      assert.equal(b.compression, 'DEFLATE');
      assert.equal(b.blockWidth, 128);
      assert.ok(b.overviewCount >= 1, 'internal overviews');
      assert.deepEqual(b.geoTransform, a.geoTransform);
      assert.equal(b.crs?.epsg, 32633);
      assert.equal(b.nodata, -999);
      assert.deepEqual(b.bandDescriptions, ['a', 'b']);
      const win = { x: 0, y: 0, width: 300, height: 200 };
      const [pa, pb] = [await a.readWindow(win), await b.readWindow(win)];
      pa.data.forEach((p, k) => assert.deepEqual(pb.data[k], p));
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('bad flag values exit 2 naming the flag; nothing is written', () => {
    const out = join(dir, 'bad.tif');
    for (const [flag, value] of [['--compress', 'jpeg'], ['--predictor', '7'], ['--bigtiff', 'maybe'], ['--level', 'x']] as const) {
      const r = tilecast('convert', input, out, flag, value);
      assert.equal(r.code, 2, `${flag} ${value}: ${r.err}`);
      assert.ok(r.err.includes(flag), r.err);
    }
    assert.equal(existsSync(out), false);
    assert.equal(tilecast('convert', input).code, 2);
  });

  test('a missing input: exit 1 naming it; an unwritable output folder: exit 1 naming it; nothing left behind', () => {
    const out = join(dir, 'x.tif');
    const missing = tilecast('convert', join(dir, 'nope.tif'), out);
    assert.equal(missing.code, 1);
    assert.match(missing.err, /nope\.tif: file not found/);
    const folder = join(dir, 'no', 'such');
    const unwritable = tilecast('convert', input, join(folder, 'out.tif'));
    assert.equal(unwritable.code, 1);
    assert.ok(unwritable.err.includes(folder), unwritable.err);
    assert.deepEqual(readdirSync(dir).sort(), ['cog.tif', 'in.tif'].filter((f) => existsSync(join(dir, f))).sort());
  });
});
