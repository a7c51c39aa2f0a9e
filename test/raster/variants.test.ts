/**
 * Seeded randomized differential test of the reader against GDAL: each case draws a sample type,
 * band count, size (odd ones included), tiles or strips and their shape, interleave, codec and
 * predictor (every pair GDAL writes, lossy ones too), byte order, BigTIFF, nodata and sparse
 * blocks; GDAL writes the file, and every pixel tilecast reads must equal the pixel GDAL reads from
 * it (NaN equals NaN). Lossy codecs are compared exactly as well: tilecast decodes JPEG with
 * libjpeg-turbo, WebP with libwebp and LERC with Esri's decoder, as GDAL does.
 *
 * Two seeds run: a fixed one, and one drawn per run (printed with every failure; set
 * TILECAST_SEED to replay it).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TilecastError } from '../../src/errors.js';
import { RasterSource } from '../../src/raster/source.js';
import { prng } from '../../scripts/models/prng.js';
import { needGdal } from '../helpers/env.js';
import { gdalCreateMany, gdalPixelsOrErrors, type CreateSpec } from '../helpers/gdal.js';

const FIXED_SEED = 8;
const FIXED_CASES = 200;
const RUN_SEED = process.env.TILECAST_SEED !== undefined ? Number(process.env.TILECAST_SEED) : (Date.now() ^ (process.pid << 16)) >>> 0;
const RUN_CASES = 120;

const skip = needGdal();
const dir = mkdtempSync(join(tmpdir(), 'tilecast-variants-'));
after(() => rmSync(dir, { recursive: true, force: true }));

type DType = CreateSpec['dtype'];
const DTYPES: DType[] = ['uint8', 'int8', 'uint16', 'int16', 'uint32', 'int32', 'float32', 'float64'];
/** Codecs with the weight they are drawn with: those taking predictors more often. */
const CODECS = { NONE: 2, LZW: 4, DEFLATE: 4, PACKBITS: 2, ZSTD: 4, LERC: 2, LERC_DEFLATE: 1, LERC_ZSTD: 1, JPEG: 2, WEBP: 2 } as const;

interface Case extends CreateSpec {
  label: string;
  seedOfRun: number;
}

/** One random case: a valid GTiff creation-option set and the pixels' seed. */
function drawCase(rnd: () => number, i: number, seed: number): Case {
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const chance = (p: number) => rnd() < p;

  const weighted = Object.entries(CODECS) as [keyof typeof CODECS, number][];
  let w = rnd() * weighted.reduce((a, [, x]) => a + x, 0);
  const codec = weighted.find(([, x]) => (w -= x) < 0)?.[0] ?? 'NONE';
  const lerc = codec.startsWith('LERC');
  const predicting = codec === 'LZW' || codec === 'DEFLATE' || codec === 'ZSTD';
  // GDAL 3.6 cannot LERC-encode SIGNEDBYTE; JPEG and WebP take 8-bit samples; floats half the
  // time with the codecs that take predictor 3
  const dtype: DType = codec === 'JPEG' || codec === 'WEBP' ? 'uint8'
    : predicting && chance(0.5) ? pick(['float32', 'float64'] as const)
      : pick(lerc ? DTYPES.filter((t) => t !== 'int8') : DTYPES);
  const float = dtype.startsWith('float');
  let bands = codec === 'WEBP' ? pick([3, 4]) : codec === 'JPEG' ? pick([1, 3, 3, 2, 4]) : chance(0.3) ? 1 : int(2, 8);
  let interleave = bands > 1 && chance(0.4) ? 'BAND' : 'PIXEL';
  if (codec === 'WEBP') interleave = 'PIXEL';
  if (codec === 'JPEG' && bands !== 1 && bands !== 3) interleave = 'BAND';
  const photometric = codec === 'JPEG' && bands === 3 && interleave === 'PIXEL' ? pick(['YCBCR', 'RGB']) : null;
  if (codec === 'JPEG' && bands === 3 && interleave === 'BAND' && chance(0.5)) bands = 2;

  const side = () => (chance(0.7) ? int(1, 64) : chance(0.85) ? int(65, 200) : int(201, 300));
  const width = side();
  const height = side();
  const tiled = chance(0.5);
  const options: string[] = [];
  let shape: string;
  if (tiled) {
    const bw = 16 * pick([1, 1, 2, 3, 4, 8, 16, 32]);
    const bh = 16 * pick([1, 1, 2, 3, 4, 8, 16, 32]);
    options.push('TILED=YES', `BLOCKXSIZE=${bw}`, `BLOCKYSIZE=${bh}`);
    shape = `tiles ${bw}x${bh}`;
  } else {
    // JPEG strips hold whole MCU rows (16 for subsampled YCbCr)
    const rows = codec === 'JPEG' ? 16 * int(1, Math.ceil(height / 16) + 1) : chance(0.2) ? height : int(1, height + 8);
    options.push(`BLOCKYSIZE=${rows}`);
    shape = `strips of ${rows}`;
  }
  if (bands > 1) options.push(`INTERLEAVE=${interleave}`);
  options.push(`COMPRESS=${codec}`);
  let predictor = 1;
  if (predicting) {
    predictor = float ? pick([1, 2, 3, 3]) : pick([1, 2]);
    if (predictor !== 1) options.push(`PREDICTOR=${predictor}`);
    if (codec === 'DEFLATE') options.push(`ZLEVEL=${int(1, 9)}`);
    if (codec === 'ZSTD') options.push(`ZSTD_LEVEL=${int(1, 15)}`);
  }
  if (lerc) options.push(`MAX_Z_ERROR=${chance(0.6) ? 0 : float ? pick([0.001, 0.1, 2.5]) : pick([1, 3])}`);
  if (codec === 'JPEG') {
    options.push(`JPEG_QUALITY=${int(20, 100)}`);
    if (photometric) options.push(`PHOTOMETRIC=${photometric}`);
  }
  if (codec === 'WEBP') options.push(chance(0.4) ? 'WEBP_LOSSLESS=YES' : `WEBP_LEVEL=${int(10, 100)}`);
  // an unassociated alpha: with LERC, a 0/255 alpha is stored as LERC's mask
  const alpha = dtype === 'uint8' && bands > 1 && interleave === 'PIXEL' && codec !== 'JPEG' && chance(0.3);
  if (alpha) options.push('ALPHA=YES');
  const big = chance(0.3);
  const bigTiff = chance(0.3);
  if (big) options.push('ENDIANNESS=BIG');
  if (bigTiff) options.push('BIGTIFF=YES');

  let nodata: Case['nodata'] = null;
  if (chance(0.4)) {
    nodata = float ? pick(['nan', -9999, 0, 3.5]) as Case['nodata'] : pick({ uint8: [0, 255, 7], int8: [-128, 0, 5], uint16: [0, 65535], int16: [-32768, -9999], uint32: [0, 4294967295], int32: [-2147483648, -9999], float32: [], float64: [] }[dtype]);
  }
  const sparse = nodata !== null && chance(0.4);
  if (sparse) options.push('SPARSE_OK=TRUE');
  // JPEG and lossy LERC/WebP move values anyway; extremes make no sense for lossy float LERC
  const extremes = !(codec === 'JPEG' || codec === 'WEBP') && !(lerc && float) && chance(0.5);

  const label = [
    `#${i}`, dtype, `${bands}b`, `${width}x${height}`, shape, bands > 1 ? interleave.toLowerCase() : '',
    codec + (predictor !== 1 ? `+pred${predictor}` : '') + (photometric ? `/${photometric}` : ''),
    alpha ? 'alpha' : '', big ? 'BE' : '', bigTiff ? 'BigTIFF' : '', nodata !== null ? `nodata=${nodata}` : '', sparse ? 'sparse' : '', extremes ? 'extremes' : '',
  ].filter((x) => x !== '').join(' ');
  return {
    path: join(dir, `${seed}-${i}.tif`), width, height, bands, dtype, options,
    seed: Math.floor(rnd() * 2 ** 31), nodata, sparse, extremes, binaryAlpha: alpha, label, seedOfRun: seed,
  };
}

function drawCases(seed: number, count: number): Case[] {
  const rnd = prng(seed);
  return Array.from({ length: count }, (_, i) => drawCase(rnd, i, seed));
}

async function readAll(path: string): Promise<void> {
  const src = await RasterSource.open(path);
  try {
    await src.readWindow({ x: 0, y: 0, width: src.width, height: src.height });
  } finally {
    await src.close();
  }
}

function replay(c: Case): string {
  return `seed ${c.seedOfRun} (replay: TILECAST_SEED=${c.seedOfRun} node --import tsx --test test/raster/variants.test.ts); GDAL options ${c.options.join(' ')}`;
}

for (const [name, seed, count] of [['fixed seed', FIXED_SEED, FIXED_CASES], ['seed of this run', RUN_SEED, RUN_CASES]] as const) {
  describe(`GDAL-written files read exactly as GDAL reads them (${name} ${seed})`, { skip }, () => {
    const cases = skip ? [] : drawCases(seed, count);
    const want = new Map<string, Float64Array[] | string>();
    before(() => {
      const refused = gdalCreateMany(cases);
      refused.forEach((err, i) => {
        if (err !== null) throw new Error(`GDAL refused case ${cases[i]!.label}: ${err}; ${replay(cases[i]!)}`);
      });
      gdalPixelsOrErrors(cases.map((c) => c.path)).forEach((px, i) => want.set(cases[i]!.path, px));
    });
    for (const c of cases) {
      test(c.label, async () => {
        const gdalPx = want.get(c.path)!;
        if (typeof gdalPx === 'string') {
          // GDAL cannot read what it wrote (a GDAL bug): tilecast must not return pixels either
          const err = await readAll(c.path).then(() => null, (e: unknown) => e);
          assert.ok(err instanceof TilecastError, `${c.label}: GDAL fails to read the file it wrote (${gdalPx}) but tilecast reads it; ${replay(c)}`);
          return;
        }
        const src = await RasterSource.open(c.path);
        try {
          assert.equal(src.dataType, c.dtype, `${c.label}: data type; ${replay(c)}`);
          assert.equal(src.bandCount, c.bands, `${c.label}: band count; ${replay(c)}`);
          if (c.nodata === 'nan') assert.ok(Number.isNaN(src.nodata), `${c.label}: nodata ${src.nodata}, expected NaN; ${replay(c)}`);
          else if (c.nodata !== null) assert.equal(src.nodata, c.nodata, `${c.label}: nodata; ${replay(c)}`);
          const n = src.width * src.height;
          const { data } = await src.readWindow({ x: 0, y: 0, width: src.width, height: src.height }, { out: gdalPx.map(() => new Float64Array(n)) });
          data.forEach((plane, b) => {
            const g = gdalPx[b]!;
            for (let k = 0; k < n; k++) {
              const a = plane[k]!;
              const e = g[k]!;
              if (!Object.is(a, e)) {
                assert.fail(`${c.label}: band ${b + 1} pixel (${k % src.width}, ${Math.floor(k / src.width)}) is ${a}, GDAL reads ${e}; ${replay(c)}`);
              }
            }
          });
        } finally {
          await src.close();
        }
      });
    }
  });
}
