/**
 * Damaged blocks in GDAL-written files, codec by codec: a stream that ends early, has bytes after
 * its end, or decodes to another size is an InputError naming the file and the block, never
 * pixels. Byte counts of 0 are read as GDAL reads them: a sparse block, or (for the only strip of
 * an uncompressed image) the strip's bytes, whose length libtiff recomputes.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { InputError } from '../../src/errors.js';
import { RasterSource } from '../../src/raster/source.js';
import { needGdal } from '../helpers/env.js';
import { gdalCreateMany, gdalPixelsOrErrors, type CreateSpec } from '../helpers/gdal.js';
import { put, walk } from './tiff-edit.js';

const skip = needGdal();
const dir = mkdtempSync(join(tmpdir(), 'tilecast-damage-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const CODECS = ['LZW', 'DEFLATE', 'ZSTD', 'PACKBITS', 'LERC', 'LERC_DEFLATE', 'LERC_ZSTD', 'JPEG', 'WEBP'];

function spec(name: string, options: string[], extra: Partial<CreateSpec> = {}): CreateSpec {
  return { path: join(dir, `${name}.tif`), width: 48, height: 40, bands: 3, dtype: 'uint8', options, seed: 5, nodata: null, sparse: false, extremes: false, ...extra };
}

/** A copy of `file` whose block `i` is moved to the end, `cut` bytes shorter or followed by `extra` bytes. */
function damage(file: string, out: string, i: number, change: { cut?: number; extra?: Buffer; replace?: Uint8Array }): string {
  const b = readFileSync(file);
  const t = walk(b)!;
  const blk = t.blocks[i]!;
  const body = change.replace ?? b.subarray(blk.offset, blk.offset + blk.count - (change.cut ?? 0));
  const moved = Buffer.concat([body, change.extra ?? Buffer.alloc(0)]);
  const copy = Buffer.concat([b, moved]);
  put(copy, t.le, blk.offsetAt, blk.offsetSize, b.length);
  put(copy, t.le, blk.countAt, blk.countSize, moved.length);
  writeFileSync(out, copy);
  return out;
}

async function readError(file: string): Promise<unknown> {
  const src = await RasterSource.open(file);
  try {
    await src.readWindow({ x: 0, y: 0, width: src.width, height: src.height });
    return null;
  } catch (err) {
    return err;
  } finally {
    await src.close();
  }
}

function assertBlockError(err: unknown, file: string, re: RegExp): void {
  assert.ok(err instanceof InputError, `expected an InputError, got ${String(err)}`);
  assert.ok(err.message.startsWith(`${file}: block 0 `), err.message);
  assert.match(err.message, re);
  assert.ok(!err.message.includes('\n') && !err.message.includes('undefined'), err.message);
}

describe('damaged blocks are errors, codec by codec', { skip }, () => {
  const specs = CODECS.map((c) => spec(c, ['TILED=YES', 'BLOCKXSIZE=32', 'BLOCKYSIZE=32', `COMPRESS=${c}`, ...(c.startsWith('LERC') ? ['MAX_Z_ERROR=0'] : [])]));
  before(() => {
    const refused = gdalCreateMany(specs).filter((e) => e !== null);
    assert.deepEqual(refused, []);
  });
  CODECS.forEach((codec, k) => {
    test(`${codec}: a truncated block`, async () => {
      const file = damage(specs[k]!.path, join(dir, `${codec}-cut.tif`), 0, { cut: 9 });
      assertBlockError(await readError(file), file, /cannot be decoded: .*(ends early|truncated|ends without|runs past|no byte to repeat|does not end with an end-of-image marker|corrupt)/);
    });
    test(`${codec}: bytes after the end of the stream`, async () => {
      const file = damage(specs[k]!.path, join(dir, `${codec}-extra.tif`), 0, { extra: Buffer.from([0xab, 0xcd, 0x01, 0x02, 0x03, 0x04, 0x05]) });
      assertBlockError(await readError(file), file, /cannot be decoded: .*(follow|followed by other bytes|more than the \d+ bytes)/);
    });
  });
  test('DEFLATE: a whole stream that decodes to fewer bytes than the block', async () => {
    const file = damage(specs[1]!.path, join(dir, 'deflate-short.tif'), 0, { replace: deflateSync(new Uint8Array(32 * 32 * 3 - 5)) });
    assertBlockError(await readError(file), file, /the block decodes to 3067 bytes, expected 3072/);
  });
});

describe('byte counts of 0 are read as GDAL reads them', { skip }, () => {
  const strip = spec('one-strip', ['BLOCKYSIZE=40']);
  const strips = spec('strips', ['BLOCKYSIZE=8']);
  const packed = spec('one-strip-deflate', ['BLOCKYSIZE=40', 'COMPRESS=DEFLATE']);
  const zeroCount = (from: string, to: string, i: number) => {
    const b = readFileSync(from);
    const t = walk(b)!;
    put(b, t.le, t.blocks[i]!.countAt, t.blocks[i]!.countSize, 0);
    writeFileSync(to, b);
    return to;
  };
  let files: string[] = [];
  let gdalPx: (Float64Array[] | string)[] = [];
  before(() => {
    assert.deepEqual(gdalCreateMany([strip, strips, packed]).filter((e) => e !== null), []);
    files = [zeroCount(strip.path, join(dir, 'zero-one.tif'), 0), zeroCount(strips.path, join(dir, 'zero-second.tif'), 1)];
    gdalPx = gdalPixelsOrErrors(files);
  });
  test('the only strip of an uncompressed image: the strip is read (libtiff recomputes its length)', async () => {
    await samePixels(files[0]!, gdalPx[0]!);
  });
  test('one strip of several: a sparse strip, zeros as GDAL reads it', async () => {
    await samePixels(files[1]!, gdalPx[1]!);
    const g = gdalPx[1] as Float64Array[];
    assert.ok(g[0]!.subarray(8 * 48, 16 * 48).every((v) => v === 0), 'GDAL reads zeros there');
  });
  test('the only strip of compressed data: refused, not guessed', async () => {
    const file = zeroCount(packed.path, join(dir, 'zero-deflate.tif'), 0);
    const err = await readError(file);
    assert.ok(err instanceof InputError, String(err));
    assert.match(err.message, /StripByteCounts is 0 for the only strip \(at offset \d+\) of DEFLATE data/);
  });
});

async function samePixels(file: string, want: Float64Array[] | string): Promise<void> {
  assert.ok(typeof want !== 'string', `GDAL cannot read ${file}: ${want}`);
  const src = await RasterSource.open(file);
  try {
    const n = src.width * src.height;
    const { data } = await src.readWindow({ x: 0, y: 0, width: src.width, height: src.height }, { out: want.map(() => new Float64Array(n)) });
    data.forEach((p, b) => assert.deepEqual(Array.from(p), Array.from(want[b]!), `band ${b + 1}`));
  } finally {
    await src.close();
  }
}
