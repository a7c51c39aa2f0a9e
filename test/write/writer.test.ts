/**
 * Writer behaviour that needs no oracle: temporary file and rename, abort, errors a user can
 * act on, and byte-identical output for identical input.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { AbortedError, OutputError, UsageError } from '../../src/errors.js';
import { loadCodec } from '../../src/write/codecs.js';
import type { Compression, GeoTiffWriterOptions } from '../../src/write/options.js';
import type { GeoTiffWriter } from '../../src/write/writer.js';
import { createGeoTiffWriter } from '../../src/write/writer.js';
import { makeBand, prng, tempDir } from './fixtures.js';

const BASE: GeoTiffWriterOptions = {
  width: 300,
  height: 200,
  bandCount: 2,
  dataType: 'float32',
  nodata: NaN,
  blockSize: 64,
  geoTransform: [0, 1, 0, 0, 0, -1],
  crs: { epsg: 32631, proj4: '+proj=utm +zone=31 +datum=WGS84' },
};

function withDir(t: { after(fn: () => void): void }, name: string): string {
  const dir = tempDir(name);
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Write all blocks of a seeded image in row-major order (or `order`), awaiting each call or not. */
async function writeAll(w: GeoTiffWriter, seed: number, awaitEach = true, order?: [number, number][]): Promise<void> {
  const { width, height, blockSize: bs, bandCount, dataType } = w.options;
  const rnd = prng(seed);
  const bands = Array.from({ length: bandCount }, () => makeBand(dataType, width, height, rnd, w.options.nodata));
  const cells = order ?? [];
  if (order === undefined) for (let r = 0; r < w.blocksDown; r++) for (let c = 0; c < w.blocksAcross; c++) cells.push([c, r]);
  const pending: Promise<void>[] = [];
  for (const [c, r] of cells) {
    const cw = Math.min(bs, width - c * bs);
    const ch = Math.min(bs, height - r * bs);
    const planes = bands.map((b) => {
      const p = b.subarray(0, 0).constructor as new (n: number) => typeof b;
      const out = new p(cw * ch);
      for (let y = 0; y < ch; y++) out.set(b.subarray((r * bs + y) * width + c * bs, (r * bs + y) * width + c * bs + cw), y * cw);
      return out;
    });
    const done = w.writeBlock(c, r, planes);
    if (awaitEach) await done;
    else pending.push(done);
  }
  await Promise.all(pending);
}

test('close() renames the temporary file to the target; nothing else is left in the folder', async (t) => {
  const dir = withDir(t, 'write-rename');
  const target = join(dir, 'out.tif');
  const w = await createGeoTiffWriter(target, BASE);
  const during = readdirSync(dir);
  assert.equal(during.length, 1);
  assert.match(during[0]!, /^\.out\.tif\.tilecast-tmp-\d+-[0-9a-f]+$/);
  await writeAll(w, 1);
  await w.close();
  assert.deepEqual(readdirSync(dir), ['out.tif']);
  assert.equal(readFileSync(target).subarray(0, 2).toString('latin1'), 'II');
});

test('abort() mid-write deletes the temporary file and leaves an existing target untouched', async (t) => {
  const dir = withDir(t, 'write-abort');
  const target = join(dir, 'out.tif');
  writeFileSync(target, 'previous result');
  for (const cog of [false, true]) {
    const w = await createGeoTiffWriter(target, { ...BASE, cog });
    await w.writeBlock(0, 0, [new Float32Array(64 * 64), new Float32Array(64 * 64)]);
    await w.writeBlock(1, 0, [new Float32Array(64 * 64), new Float32Array(64 * 64)]);
    await w.abort();
    assert.deepEqual(readdirSync(dir), ['out.tif'], `cog ${cog}`);
    assert.equal(readFileSync(target, 'utf8'), 'previous result');
    await assert.rejects(w.writeBlock(2, 0, [new Float32Array(64 * 64), new Float32Array(64 * 64)]), AbortedError);
    await assert.rejects(w.close(), AbortedError);
    await w.abort(); // idempotent
  }
});

test('abort() during close() of a COG stops it: AbortedError, no temporary file, the old target kept', async (t) => {
  const dir = withDir(t, 'write-abort-close');
  const target = join(dir, 'out.tif');
  writeFileSync(target, 'previous result');
  const w = await createGeoTiffWriter(target, { ...BASE, cog: true, blockSize: 16 });
  await writeAll(w, 3);
  const closing = w.close();
  await w.abort();
  await assert.rejects(closing, AbortedError);
  assert.deepEqual(readdirSync(dir), ['out.tif']);
  assert.equal(readFileSync(target, 'utf8'), 'previous result');
});

test('abort() with no existing target leaves no file at all', async (t) => {
  const dir = withDir(t, 'write-abort-new');
  const w = await createGeoTiffWriter(join(dir, 'new.tif'), BASE);
  await w.writeBlock(0, 0, [new Float32Array(64 * 64), new Float32Array(64 * 64)]);
  await w.abort();
  assert.deepEqual(readdirSync(dir), []);
});

test('an AbortSignal aborts the writer: pending and later calls reject with AbortedError, no file is left', async (t) => {
  const dir = withDir(t, 'write-signal');
  const controller = new AbortController();
  const w = await createGeoTiffWriter(join(dir, 'out.tif'), { ...BASE, signal: controller.signal, concurrency: 1 });
  const planes = () => [new Float32Array(64 * 64), new Float32Array(64 * 64)];
  const calls = [w.writeBlock(0, 0, planes()), w.writeBlock(1, 0, planes()), w.writeBlock(2, 0, planes())];
  controller.abort();
  const settled = await Promise.allSettled(calls);
  assert.ok(settled.some((s) => s.status === 'rejected' && s.reason instanceof AbortedError));
  await assert.rejects(w.close(), AbortedError);
  await w.abort();
  assert.deepEqual(readdirSync(dir), []);
});

test('an output folder that does not exist, or is a file, gives an OutputError naming the path and the fix', async (t) => {
  const dir = withDir(t, 'write-folder');
  const missing = join(dir, 'no', 'such', 'out.tif');
  await assert.rejects(createGeoTiffWriter(missing, BASE), (e: unknown) => {
    assert.ok(e instanceof OutputError);
    assert.equal(e.file, missing);
    assert.match(e.message, /does not exist/);
    assert.match(e.message, /mkdir -p/);
    return true;
  });
  writeFileSync(join(dir, 'file'), 'x');
  await assert.rejects(createGeoTiffWriter(join(dir, 'file', 'out.tif'), BASE), (e: unknown) => e instanceof OutputError && /not a folder/.test(e.message));
  mkdirSync(join(dir, 'adir'));
  await assert.rejects(createGeoTiffWriter(join(dir, 'adir'), BASE), (e: unknown) => e instanceof OutputError && /is a folder/.test(e.message));
  assert.deepEqual(readdirSync(dir).sort(), ['adir', 'file']);
});

test('bad options and bad blocks give UsageErrors that name the option or block', async (t) => {
  const dir = withDir(t, 'write-usage');
  const file = join(dir, 'out.tif');
  const bad: [Partial<GeoTiffWriterOptions>, RegExp][] = [
    [{ blockSize: 100 }, /blockSize must be a positive multiple of 16/],
    [{ width: 0 }, /width must be a positive integer/],
    [{ dataType: 'int16', nodata: NaN }, /nodata NaN is not a int16 value/],
    [{ dataType: 'uint8', nodata: 300 }, /nodata 300 is not a uint8 value/],
    [{ dataType: 'int32', nodata: null, predictor: 3 }, /predictor 3 \(floating point\) needs dataType float32 or float64/],
    [{ compression: 'none', predictor: 2 }, /predictor 2 needs a compression/],
    [{ compression: 'deflate', level: 12 }, /level for deflate must be an integer in 1..9/],
    [{ bandDescriptions: ['one'] }, /bandDescriptions has 1 entries for 2 bands/],
    [{ geoTransform: [0, 1, 0, 0, 0, 0] }, /degenerate/],
  ];
  for (const [o, re] of bad) await assert.rejects(createGeoTiffWriter(file, { ...BASE, ...o }), (e: unknown) => e instanceof UsageError && re.test(e.message), re.source);

  const w = await createGeoTiffWriter(file, BASE);
  const full = () => [new Float32Array(64 * 64), new Float32Array(64 * 64)];
  await assert.rejects(w.writeBlock(5, 0, full()), /outside the block grid of 5 x 4 blocks/);
  await assert.rejects(w.writeBlock(0, 0, [new Float64Array(64 * 64), new Float64Array(64 * 64)]), /band 1 is a Float64Array; the writer's dataType 'float32' needs Float32Array/);
  await assert.rejects(w.writeBlock(0, 0, [new Float32Array(10), new Float32Array(10)]), /band 1 has 10 samples; expected 64 x 64 \(full\) or 64 x 64 \(clipped\)/);
  await assert.rejects(w.writeBlock(4, 3, [new Float32Array(64 * 64)]), /got 1 band arrays; the writer has 2 band\(s\)/);
  await assert.rejects(w.writeBlock(4, 3, new Float32Array(44 * 8 * 2 + 1)), /expected 2 band\(s\) of 64 x 64 \(full\) or 44 x 8 \(clipped\)/);
  await w.writeBlock(4, 3, new Float32Array(44 * 8 * 2));
  await assert.rejects(w.writeBlock(4, 3, full()), /block \(4, 3\) was already written/);
  await assert.rejects(w.writeBlockRow(3, [new Float32Array(300 * 8), new Float32Array(300 * 8)]), /block \(4, 3\) was already written/);
  await w.close();
  await assert.rejects(w.writeBlock(0, 0, full()), /after close\(\)/);
});

test('identical input gives byte-identical files, whatever the concurrency and whether calls are awaited', async (t) => {
  const dir = withDir(t, 'write-determinism');
  const variants: [string, Partial<GeoTiffWriterOptions>, boolean][] = [
    ['a', { concurrency: 4 }, true],
    ['b', { concurrency: 4 }, true],
    ['c', { concurrency: 1 }, true],
    ['d', { concurrency: 16 }, false],
  ];
  const zstd = await loadCodec('zstd', 9).then(
    () => true,
    () => false,
  );
  const codecs: Compression[] = zstd ? ['deflate', 'lzw', 'zstd'] : ['deflate', 'lzw'];
  for (const compression of codecs) {
    for (const cog of [false, true]) {
      const files: Buffer[] = [];
      // Every variant for deflate; for the worker-pool codecs the two extremes.
      for (const [name, o, awaitEach] of compression === 'deflate' ? variants : variants.slice(2)) {
        const file = join(dir, `${name}-${compression}-${cog}.tif`);
        const w = await createGeoTiffWriter(file, { ...BASE, ...o, compression, cog, blockSize: 32 });
        await writeAll(w, 42, awaitEach);
        await w.close();
        files.push(readFileSync(file));
      }
      for (const f of files.slice(1)) assert.ok(f.equals(files[0]!), `${compression}, cog ${cog}: files differ`);
    }
  }
  // A different block order is allowed to give different bytes, but the same order the same bytes.
  const order: [number, number][] = [
    [3, 1],
    [0, 0],
    [9, 6],
    [4, 4],
  ];
  const again: Buffer[] = [];
  for (const name of ['e', 'f']) {
    const file = join(dir, `${name}.tif`);
    const w = await createGeoTiffWriter(file, { ...BASE, blockSize: 32 });
    await writeAll(w, 43, true, order);
    await w.close();
    again.push(readFileSync(file));
  }
  assert.ok(again[0]!.equals(again[1]!));
});

test('bigTiff: auto picks classic TIFF for small rasters and BigTIFF past 4 GiB; yes forces BigTIFF', async (t) => {
  const dir = withDir(t, 'write-bigtiff');
  const small = await createGeoTiffWriter(join(dir, 'small.tif'), BASE);
  assert.equal(small.bigTiff, false);
  await small.close();
  assert.equal(readFileSync(join(dir, 'small.tif')).readUInt16LE(2), 42);
  const forced = await createGeoTiffWriter(join(dir, 'forced.tif'), { ...BASE, bigTiff: 'yes' });
  await forced.close();
  assert.equal(readFileSync(join(dir, 'forced.tif')).readUInt16LE(2), 43);
  // 40000 x 30000 float32 = 4.8 GB of pixels.
  const large = await createGeoTiffWriter(join(dir, 'large.tif'), { ...BASE, width: 40000, height: 30000, bandCount: 1 });
  assert.equal(large.bigTiff, true);
  await large.abort();
  const classic = await createGeoTiffWriter(join(dir, 'classic.tif'), { ...BASE, width: 40000, height: 30000, bandCount: 1, bigTiff: 'no' });
  assert.equal(classic.bigTiff, false);
  await classic.abort();
});
