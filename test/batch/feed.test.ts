/**
 * The batch stage against a plain per-pixel reference: every value of every assembled batch is
 * (x − mean)/std computed in float64 and rounded to float32, or the fill value where the pixel is
 * outside the raster, nodata (compared in the band's type) or NaN — with the pixels as GDAL reads
 * them. Seeded random cases over every sample type, both interleavings, tiles and strips, tiles
 * sticking out of the raster; on the main thread and on a pool of workers. Each block is decoded
 * exactly once.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { prng } from '../../scripts/models/prng.js';
import { planBlocks, type TileList } from '../../src/batch/blocks.js';
import { BatchFeed, feedWindow } from '../../src/batch/feed.js';
import { channelLayout, tileFloats } from '../../src/batch/layout.js';
import { BlockCache } from '../../src/raster/block-cache.js';
import { RasterSource } from '../../src/raster/source.js';
import type { DataType } from '../../src/raster/types.js';
import { GDAL_PYTHON, needGdal } from '../helpers/env.js';
import { gdalPixelsMany } from '../helpers/gdal.js';

const skip = needGdal();
const FIXED_SEED = 20261201;
const RUN_SEED = Number(process.env.TILECAST_SEED ?? Math.floor(Math.random() * 2 ** 31));
const dir = mkdtempSync(join(tmpdir(), 'tilecast-feed-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const TYPES: DataType[] = ['uint8', 'int8', 'uint16', 'int16', 'uint32', 'int32', 'float32', 'float64'];
const GDAL_TYPES: Record<DataType, string> = {
  uint8: 'Byte', int8: 'Byte', uint16: 'UInt16', int16: 'Int16', uint32: 'UInt32', int32: 'Int32', float32: 'Float32', float64: 'Float64',
};

interface FileSpec {
  path: string;
  type: DataType;
  bands: number;
  interleave: 'PIXEL' | 'BAND';
  tiled: boolean;
  block: [number, number];
  nodata: number | null;
}

interface Case {
  name: string;
  seed: number;
  width: number;
  height: number;
  dynamic: FileSpec[];
  static: FileSpec[];
  tile: number;
  batchSize: number;
  tiles: TileList;
  norm: { mean: number[]; std: number[] } | null;
  fill: number;
}

const NODATA: Record<DataType, number> = { uint8: 0, int8: -128, uint16: 65535, int16: -9999, uint32: 7, int32: -1, float32: -3.4e38, float64: -9999.5 };

function makeCase(seed: number, index: number, type: DataType): Case {
  const r = prng(seed * 1000 + index);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)]!;
  const width = 20 + Math.floor(r() * 60);
  const height = 20 + Math.floor(r() * 50);
  const spec = (name: string, t: DataType, bands: number): FileSpec => {
    const tiled = r() < 0.6;
    return {
      path: join(dir, `${seed}-${index}-${name}.tif`), type: t, bands, interleave: pick(['PIXEL', 'BAND'] as const), tiled,
      block: tiled ? [pick([16, 32]), pick([16, 32])] : [width, 1 + Math.floor(r() * 9)],
      nodata: r() < 0.7 ? NODATA[t] : null,
    };
  };
  const T = 1 + Math.floor(r() * 3);
  const dynamicBands = 1 + Math.floor(r() * 4);
  const dynamic = Array.from({ length: T }, (_, t) => spec(`d${t}`, type, dynamicBands));
  const staticType = pick(TYPES);
  const statics = r() < 0.7 ? [spec('s0', staticType, 1 + Math.floor(r() * 3))] : [];
  const C = dynamicBands + statics.reduce((a, s) => a + s.bands, 0);
  const tile = pick([8, 16, 24]);
  const count = 5 + Math.floor(r() * 30);
  const x = new Int32Array(count);
  const y = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    // origins from a little before the raster to a little past it: tiles stick out on every side
    x[i] = Math.floor(r() * (width + tile)) - Math.floor(tile / 2);
    y[i] = Math.floor(r() * (height + tile)) - Math.floor(tile / 2);
  }
  // the stacking order is row-major, as the plan's
  const order = Array.from({ length: count }, (_, i) => i).sort((a, b) => y[a]! - y[b]! || x[a]! - x[b]!);
  const norm = r() < 0.8 ? { mean: Array.from({ length: C }, () => (r() - 0.5) * 200), std: Array.from({ length: C }, () => 0.1 + r() * 50) } : null;
  return {
    name: `case ${index} (${type}, seed ${seed})`, seed, width, height, dynamic, static: statics, tile, batchSize: pick([1, 3, 7, 16]),
    tiles: { x: Int32Array.from(order, (i) => x[i]!), y: Int32Array.from(order, (i) => y[i]!) }, norm, fill: pick([0, -1, 3.25]),
  };
}

/** Write every file of the cases with GDAL: random values of the type, some nodata and NaN pixels. */
function writeWithGdal(cases: Case[]): void {
  const files = cases.flatMap((c) => [...c.dynamic, ...c.static].map((f) => ({ ...f, width: c.width, height: c.height, seed: c.seed })));
  const script = `
import json, sys, numpy as np
from osgeo import gdal
gdal.UseExceptions()
for f in json.load(sys.stdin):
    opts = ['COMPRESS=DEFLATE', 'INTERLEAVE=' + f['interleave']] + (['PIXELTYPE=SIGNEDBYTE'] if f['type'] == 'int8' else [])
    if f['tiled']:
        opts += ['TILED=YES', 'BLOCKXSIZE=%d' % f['block'][0], 'BLOCKYSIZE=%d' % f['block'][1]]
    else:
        opts += ['BLOCKYSIZE=%d' % f['block'][1]]
    ds = gdal.GetDriverByName('GTiff').Create(f['path'], f['width'], f['height'], f['bands'], getattr(gdal, 'GDT_' + f['gdal']), options=opts)
    rng = np.random.default_rng(abs(hash(f['path'])) % (2**32))
    dt = {'uint8': np.uint8, 'int8': np.int8, 'uint16': np.uint16, 'int16': np.int16, 'uint32': np.uint32, 'int32': np.int32, 'float32': np.float32, 'float64': np.float64}[f['type']]
    for b in range(1, f['bands'] + 1):
        if np.issubdtype(dt, np.integer):
            info = np.iinfo(dt)
            a = rng.integers(info.min, info.max, size=(f['height'], f['width']), endpoint=True, dtype=np.int64).astype(dt)
        else:
            a = (rng.standard_normal((f['height'], f['width'])) * 1000).astype(dt)
            a[rng.random(a.shape) < 0.05] = np.nan
        if f['nodata'] is not None:
            a[rng.random(a.shape) < 0.1] = f['nodata']
        band = ds.GetRasterBand(b)
        band.WriteArray(a)
        if f['nodata'] is not None:
            band.SetNoDataValue(f['nodata'])
    ds = None
`;
  execFileSync(GDAL_PYTHON, ['-c', script], { input: JSON.stringify(files.map((f) => ({ ...f, gdal: GDAL_TYPES[f.type] }))), env: { ...process.env, GDAL_PAM_ENABLED: 'NO' } });
}

/** The batch values a plain per-pixel reference gives, from GDAL's pixels. */
function reference(c: Case, pixels: Map<string, Float64Array[]>): Float32Array {
  const T = c.dynamic.length;
  const files = [...c.dynamic.map((f, t) => ({ f, t, channel: 0 })), ...c.static.map((f, i) => ({ f, t: -1, channel: c.dynamic[0]!.bands + c.static.slice(0, i).reduce((a, s) => a + s.bands, 0) }))];
  const C = c.dynamic[0]!.bands + c.static.reduce((a, s) => a + s.bands, 0);
  const P = c.tile * c.tile;
  const out = new Float32Array(c.tiles.x.length * T * C * P);
  for (let i = 0; i < c.tiles.x.length; i++) {
    for (const { f, t, channel } of files) {
      const planes = pixels.get(f.path)!;
      const nd = f.nodata === null ? NaN : f.type === 'float32' ? Math.fround(f.nodata) : f.nodata;
      for (const tt of t < 0 ? Array.from({ length: T }, (_, k) => k) : [t]) {
        for (let b = 0; b < f.bands; b++) {
          const ch = channel + b;
          const mean = c.norm ? c.norm.mean[ch]! : 0;
          const std = c.norm ? c.norm.std[ch]! : 1;
          const base = ((i * T + tt) * C + ch) * P;
          for (let r = 0; r < c.tile; r++) {
            for (let q = 0; q < c.tile; q++) {
              const x = c.tiles.x[i]! + q;
              const y = c.tiles.y[i]! + r;
              let value = c.fill;
              if (x >= 0 && y >= 0 && x < c.width && y < c.height) {
                const v = planes[b]![y * c.width + x]!;
                if (!Number.isNaN(v) && v !== nd) value = (v - mean) / std;
              }
              out[base + r * c.tile + q] = value;
            }
          }
        }
      }
    }
  }
  return out;
}

async function runFeed(c: Case, workers: number, queueDepth: number): Promise<{ values: Float32Array; decoded: number; minimum: number }> {
  const cache = new BlockCache({ budgetMB: 0 });
  const dynamic = await Promise.all(c.dynamic.map((f) => RasterSource.open(f.path, { cache })));
  const statics = await Promise.all(c.static.map((f) => RasterSource.open(f.path, { cache })));
  try {
    const layout = channelLayout(dynamic, statics, c.tile, c.norm, c.fill);
    const per = tileFloats(layout);
    const values = new Float32Array(c.tiles.x.length * per);
    const blocks = planBlocks(layout, c.tiles, c.batchSize, feedWindow(queueDepth));
    const feed = await BatchFeed.open({ layout, tiles: c.tiles, batchSize: c.batchSize, queueDepth, workers, blocks });
    try {
      for (let b = await feed.next(); b !== null; b = await feed.next()) {
        values.set(b.buffer.subarray(0, b.count * per), b.start * per);
        feed.release(b.buffer);
      }
      return { values, decoded: feed.decoded, minimum: blocks.decodes.reduce((a, d) => a + d, 0) };
    } finally {
      await feed.close();
    }
  } finally {
    await Promise.all([...dynamic, ...statics].map((s) => s.close()));
  }
}

function firstDifference(a: Float32Array, b: Float32Array): number {
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i] && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) return i;
  return -1;
}

describe('the batch stage equals a per-pixel reference on GDAL-written inputs', { skip }, () => {
  const cases: Case[] = [];
  for (const seed of [FIXED_SEED, RUN_SEED]) TYPES.forEach((t, i) => cases.push(makeCase(seed, i, t)), cases);
  const pixels = new Map<string, Float64Array[]>();
  before(() => {
    writeWithGdal(cases);
    const files = cases.flatMap((c) => [...c.dynamic, ...c.static].map((f) => f.path));
    gdalPixelsMany(files).forEach((p, i) => pixels.set(files[i]!, p));
  });
  for (const c of cases) {
    test(c.name, async () => {
      const want = reference(c, pixels);
      for (const [workers, depth] of [[0, 1], [2, 3]] as const) {
        const got = await runFeed(c, workers, depth);
        const i = firstDifference(got.values, want);
        assert.equal(i, -1, `${c.name} (replay with TILECAST_SEED=${c.seed}), ${workers} workers: value ${i} is ${got.values[i]}, the reference ${want[i]}`);
        assert.equal(got.decoded, got.minimum, `${c.name}: each block decoded once`);
      }
    });
  }
});
