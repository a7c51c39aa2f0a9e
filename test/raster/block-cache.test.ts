/**
 * The decoded-block cache: reading every 128-px tile at stride 64 over a 1024x1024 tiled file
 * decodes each block exactly once, and an LRU too small for that decodes some again.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BlockCache } from '../../src/raster/block-cache.js';
import { RasterSource } from '../../src/raster/source.js';
import { createGeoTiffWriter } from '../../src/write/writer.js';

const dir = mkdtempSync(join(tmpdir(), 'tilecast-cache-'));
const file = join(dir, 'tiled.tif');
const SIZE = 1024;
const BLOCK = 128;
after(() => rmSync(dir, { recursive: true, force: true }));

async function readAllTiles(src: RasterSource, tile: number, stride: number): Promise<number> {
  let sum = 0;
  for (let y = 0; y + tile <= SIZE; y += stride) {
    for (let x = 0; x + tile <= SIZE; x += stride) {
      const { data } = await src.readWindow({ x, y, width: tile, height: tile });
      for (const p of data) sum += p[0]! + p[p.length - 1]!;
    }
  }
  return sum;
}

describe('decoded-block cache', () => {
  before(async () => {
    const w = await createGeoTiffWriter(file, { width: SIZE, height: SIZE, bandCount: 2, dataType: 'uint16', blockSize: BLOCK, compression: 'deflate' });
    for (let row = 0; row < SIZE / BLOCK; row++) {
      const planes = [new Uint16Array(SIZE * BLOCK), new Uint16Array(SIZE * BLOCK)];
      for (let i = 0; i < SIZE * BLOCK; i++) {
        planes[0]![i] = (row * 7 + i) % 65521;
        planes[1]![i] = (i * 13) % 4099;
      }
      await w.writeBlockRow(row, planes);
    }
    await w.close();
  });

  test('every 128-px tile at stride 64 decodes each block exactly once', async () => {
    const cache = new BlockCache({ budgetMB: 64 });
    const src = await RasterSource.open(file, { cache });
    try {
      await readAllTiles(src, 128, 64);
      // blocks in the file: one per band and position when band-interleaved
      const blocks = (SIZE / BLOCK) ** 2 * (src.planar === 2 ? src.bandCount : 1);
      assert.equal(src.blocksDecoded, blocks);
      assert.equal(cache.decoded, blocks);
      // 15 x 15 tiles, each touching 2 x 2 or 1 x 1 blocks: far more requests than blocks
      assert.ok(cache.hits > 3 * blocks, `hits ${cache.hits}`);
    } finally {
      await src.close();
    }
  });

  test('windows read through the cache equal windows read without reuse', async () => {
    const cached = await RasterSource.open(file, { cache: new BlockCache({ budgetMB: 64 }) });
    const tiny = await RasterSource.open(file, { cache: new BlockCache({ budgetMB: 0 }) });
    try {
      assert.equal(await readAllTiles(cached, 96, 40), await readAllTiles(tiny, 96, 40));
      // a zero budget holds nothing: every request decodes again
      assert.ok(tiny.blocksDecoded > 4 * cached.blocksDecoded, `${tiny.blocksDecoded} vs ${cached.blocksDecoded}`);
    } finally {
      await cached.close();
      await tiny.close();
    }
  });

  test('the LRU stays within its budget', async () => {
    const budgetMB = 1; // a 128x128x2 uint16 block is 64 KiB: 16 fit
    const cache = new BlockCache({ budgetMB });
    const src = await RasterSource.open(file, { cache });
    try {
      await readAllTiles(src, 128, 128);
      assert.ok(cache.size <= budgetMB * 2 ** 20, `held ${cache.size} bytes`);
      assert.ok(cache.size > 0);
    } finally {
      await src.close();
    }
  });
});
