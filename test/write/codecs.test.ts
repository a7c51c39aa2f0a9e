/**
 * Codec and predictor round trips (the writer's encoders against the reader's decoders), and a
 * read-back through geotiff.js (a second, independent TIFF reader that needs no GDAL).
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fromFile } from 'geotiff';
import { decompress, type BlockLayout } from '../../src/raster/codecs.js';
import { toSamples } from '../../src/raster/predictor.js';
import type { DataType } from '../../src/raster/types.js';
import { bytesPerSample } from '../../src/raster/types.js';
import { loadCodec } from '../../src/write/codecs.js';
import { lzwEncode } from '../../src/write/lzw.js';
import type { Compression, PredictorCode } from '../../src/write/options.js';
import { applyPredictor } from '../../src/write/predictor.js';
import { createGeoTiffWriter } from '../../src/write/writer.js';
import { firstDifference, makeBand, prng, tempDir } from './fixtures.js';

/** The reader's view of a byte stream: one row of bytes. */
const BYTES: BlockLayout = { width: 1, height: 1, samplesPerBlock: 1, bitsPerSample: 8, planar: 2, littleEndian: true, float: false };

function samples(): Uint8Array[] {
  const rnd = prng(5);
  const random = new Uint8Array(100_000).map(() => Math.floor(rnd() * 256));
  const runs = new Uint8Array(200_000).map((_, i) => (i >> 9) & 3);
  const ramp = new Uint8Array(70_000).map((_, i) => (i * 7) & 0xff);
  return [new Uint8Array(0), new Uint8Array([42]), new Uint8Array(511).fill(9), random, runs, ramp];
}

test('LZW: decode(encode(x)) is x, for empty, tiny, random, long-run and ramp data (table resets included)', async () => {
  for (const s of samples()) {
    const enc = lzwEncode(s);
    const dec = await decompress(5, enc, s.length, BYTES);
    assert.ok(Buffer.from(dec).equals(Buffer.from(s)), `length ${s.length}`);
  }
  // Long runs compress: the table filled and reset several times without losing data.
  assert.ok(lzwEncode(samples()[4]!).length < 20_000);
});

test('every codec round-trips a block', async () => {
  for (const c of ['deflate', 'lzw', 'none', 'zstd'] as Compression[]) {
    let codec;
    try {
      codec = await loadCodec(c, c === 'zstd' ? 9 : 6);
    } catch (e) {
      assert.equal(c, 'zstd');
      assert.match((e as Error).message, /npm install @bokuweb\/zstd-wasm/);
      continue;
    }
    for (const s of samples()) {
      const enc = await codec.encode(new Uint8Array(s));
      const dec = await decompress(codec.tiffCode, enc, s.length, BYTES);
      assert.ok(Buffer.from(dec).equals(Buffer.from(s)), `${c} length ${s.length}`);
    }
  }
});

test('predictors 2 and 3: undo(apply(x)) is x for every sample width; 3 regroups bytes most significant first', () => {
  const rnd = prng(9);
  const width = 32;
  const rows = 5;
  for (const dtype of ['uint8', 'int16', 'uint32', 'float32', 'float64'] as DataType[]) {
    const bps = bytesPerSample(dtype);
    for (const p of [2, 3] as PredictorCode[]) {
      if (p === 3 && bps < 4) continue;
      const orig = new Uint8Array(width * rows * bps).map(() => Math.floor(rnd() * 256));
      const buf = orig.slice();
      const scratch = new Uint8Array(width * bps);
      applyPredictor(buf, p, bps, width, rows, scratch);
      assert.ok(!Buffer.from(buf).equals(Buffer.from(orig)), `${dtype} predictor ${p} changed the data`);
      const back = toSamples(buf, dtype, true, p, width, rows, 1);
      assert.ok(Buffer.from(back.buffer, back.byteOffset, back.byteLength).equals(Buffer.from(orig)), `${dtype} predictor ${p}`);
    }
  }
  // Tech note 3 on one row of two float32 samples [1, 2]: bytes grouped MSB first, then differenced.
  const row = new Uint8Array(new Float32Array([1, 2]).buffer);
  applyPredictor(row, 3, 4, 2, 1, new Uint8Array(8));
  const grouped = [0x3f, 0x40, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00];
  const expected = grouped.map((v, i) => (i === 0 ? v : (v - grouped[i - 1]! + 256) & 0xff));
  assert.deepEqual([...row], expected);
});

test('geotiff.js reads back what the writer wrote (band-separate tiles, each codec and predictor)', async (t) => {
  const dir = tempDir('write-geotiffjs');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const W = 150;
  const H = 70;
  const cases: { dataType: DataType; compression: Compression; predictor: 'auto' | 'none'; cog: boolean }[] = [
    { dataType: 'float32', compression: 'deflate', predictor: 'auto', cog: false },
    { dataType: 'uint16', compression: 'lzw', predictor: 'auto', cog: true },
    { dataType: 'int32', compression: 'none', predictor: 'none', cog: false },
    { dataType: 'float64', compression: 'deflate', predictor: 'auto', cog: true },
  ];
  for (const [i, c] of cases.entries()) {
    const rnd = prng(300 + i);
    const bands = [0, 1].map(() => makeBand(c.dataType, W, H, rnd, null));
    const file = join(dir, `g-${i}.tif`);
    const w = await createGeoTiffWriter(file, { width: W, height: H, bandCount: 2, blockSize: 32, ...c, geoTransform: [5, 1, 0, 9, 0, -1] });
    for (let r = 0; r < w.blocksDown; r++) {
      const ch = Math.min(32, H - r * 32);
      await w.writeBlockRow(r, bands.map((b) => b.subarray(r * 32 * W, (r * 32 + ch) * W)));
    }
    await w.close();
    const tiff = await fromFile(file);
    const image = await tiff.getImage();
    assert.equal(image.getWidth(), W);
    assert.deepEqual(image.getOrigin(), [5, 9, 0]);
    const rasters = (await image.readRasters()) as unknown as ArrayLike<number>[];
    bands.forEach((b, k) => {
      const got = Float64Array.from(rasters[k]!);
      assert.equal(firstDifference(b, got), null, `case ${i} ${JSON.stringify(c)} band ${k + 1}`);
    });
  }
});
