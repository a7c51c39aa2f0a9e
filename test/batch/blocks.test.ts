/**
 * The block plan: every block a batch reads is held when it is stacked, a block is decoded once
 * per chunk, and the slabs held at once do not grow with the window.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planBlocks, tileBlocks } from '../../src/batch/blocks.js';
import type { ChannelLayout } from '../../src/batch/layout.js';
import { workList } from '../../src/pipeline/chunks.js';
import { makePlan } from '../../src/plan/plan.js';

const GT = [0, 1, 0, 0, 0, -1] as [number, number, number, number, number, number];
const TILE = 64;

function layout(width: number, height: number): ChannelLayout {
  const file = { path: 'f.tif', t: 0, channel: 0, bands: 2, dataType: 'uint16' as const, nodata: null, width, height, blockWidth: 128, blockHeight: 128, blocksAcross: Math.ceil(width / 128), blocksDown: Math.ceil(height / 128), planar: 1 as const };
  return { T: 1, C: 2, dynamicBands: 2, tile: TILE, files: [file], mean: [0, 0], std: [1, 1], fill: 0 };
}

function run(width: number, height: number, chunk: number, batchSize: number, window: number) {
  const rect = [[0.5, 0.5], [width - 0.5, 0.5], [width - 0.5, height - 0.5], [0.5, height - 0.5], [0.5, 0.5]] as [number, number][];
  const plan = makePlan({ width, height, geoTransform: GT, region: [[rect]], tile: TILE, stride: TILE / 2, blockSize: 128, chunkSize: chunk });
  const tiles = workList(plan, plan.chunks.list);
  const l = layout(width, height);
  return { tiles, l, blocks: planBlocks(l, tiles, batchSize, window) };
}

test('every block a batch reads is planned for it, and a block is decoded at most once per chunk', () => {
  const { tiles, l, blocks } = run(1500, 900, 512, 7, 3);
  const f = l.files[0]!;
  const chunksReading = new Map<number, Set<number>>();
  for (let b = 0; b < blocks.batches.length; b++) {
    const keys = new Set(blocks.batches[b]![0]!.lives.map((life) => blocks.key[0]![life]!));
    for (let i = b * 7; i < Math.min(tiles.x.length, (b + 1) * 7); i++) {
      const t = tileBlocks(f, tiles, i, TILE)!;
      for (let by = t.by[0]; by <= t.by[1]; by++) {
        for (let bx = t.bx[0]; bx <= t.bx[1]; bx++) {
          const k = by * f.blocksAcross + bx;
          assert.ok(keys.has(k), `batch ${b} reads block ${bx},${by}`);
          if (!chunksReading.has(k)) chunksReading.set(k, new Set());
          chunksReading.get(k)!.add(tiles.chunk![i]!);
        }
      }
    }
  }
  const lives = new Map<number, number>();
  for (const k of blocks.key[0]!) lives.set(k, (lives.get(k) ?? 0) + 1);
  for (const [k, n] of lives) assert.ok(n <= chunksReading.get(k)!.size, `block ${k}: ${n} decodes for ${chunksReading.get(k)!.size} chunk(s)`);
  assert.ok([...lives.values()].some((n) => n > 1), 'blocks on chunk borders are decoded for each chunk');
});

test('the slabs held at once follow the chunk, not the window: a wider or taller window holds no more', () => {
  const one = run(1024, 1024, 1024, 16, 3).blocks.slabs[0]!;
  for (const [[w, h], [w2, h2]] of [[[8192, 1024], [16384, 1024]], [[4096, 4096], [8192, 8192]], [[1024, 4096], [1024, 8192]]] as const) {
    const small = run(w, h, 1024, 16, 3).blocks.slabs[0]!;
    const large = run(w2, h2, 1024, 16, 3).blocks.slabs[0]!;
    assert.equal(large, small, `${w2} x ${h2} holds ${large} slabs, ${w} x ${h} ${small}`);
    // a block is held for at most two chunks in a row, and read-ahead spans at most one border
    assert.ok(large <= 4 * one, `${w2} x ${h2} in chunks of 1024 holds ${large} slabs, one chunk ${one}`);
  }
});
