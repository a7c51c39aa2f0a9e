/**
 * GDAL-made variants of corpus files (block sizes, strips, codecs, predictors, interleaving,
 * byte order, BigTIFF, COG): our decode equals GDAL's pixels exactly.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { RasterSource } from '../../src/raster/source.js';
import { CORPUS_DIR, needCorpus, needGdal } from '../helpers/env.js';
import { gdal, gdalPixelsMany } from '../helpers/gdal.js';

const skip = needCorpus() || needGdal();
const dir = mkdtempSync(join(tmpdir(), 'tilecast-variants-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const T = ['-co', 'TILED=YES'];
const VARIANTS: Record<string, string[]> = {
  strip_rows1: ['-co', 'TILED=NO', '-co', 'BLOCKYSIZE=1'],
  strip_rows7_deflate: ['-co', 'TILED=NO', '-co', 'BLOCKYSIZE=7', '-co', 'COMPRESS=DEFLATE'],
  tiled16: [...T, '-co', 'BLOCKXSIZE=16', '-co', 'BLOCKYSIZE=16'],
  tiled32x16_lzw: [...T, '-co', 'BLOCKXSIZE=32', '-co', 'BLOCKYSIZE=16', '-co', 'COMPRESS=LZW'],
  tiled256_packbits: [...T, '-co', 'COMPRESS=PACKBITS'],
  deflate_pred2: [...T, '-co', 'BLOCKXSIZE=64', '-co', 'BLOCKYSIZE=64', '-co', 'COMPRESS=DEFLATE', '-co', 'PREDICTOR=2'],
  lzw_pred2_strip: ['-co', 'COMPRESS=LZW', '-co', 'PREDICTOR=2'],
  zstd_pred2: [...T, '-co', 'COMPRESS=ZSTD', '-co', 'PREDICTOR=2'],
  zstd: ['-co', 'COMPRESS=ZSTD'],
  lerc_lossless: [...T, '-co', 'COMPRESS=LERC', '-co', 'MAX_Z_ERROR=0'],
  interleave_band: [...T, '-co', 'BLOCKXSIZE=64', '-co', 'BLOCKYSIZE=64', '-co', 'INTERLEAVE=BAND', '-co', 'COMPRESS=DEFLATE'],
  interleave_pixel_strip: ['-co', 'INTERLEAVE=PIXEL', '-co', 'COMPRESS=DEFLATE', '-co', 'PREDICTOR=2'],
  bigendian_pred2: [...T, '-co', 'ENDIANNESS=BIG', '-co', 'COMPRESS=DEFLATE', '-co', 'PREDICTOR=2'],
  bigendian_strip: ['-co', 'ENDIANNESS=BIG', '-co', 'BLOCKYSIZE=5'],
  bigtiff_tiled_deflate: ['-co', 'BIGTIFF=YES', ...T, '-co', 'COMPRESS=DEFLATE'],
  cog16: ['-of', 'COG', '-co', 'COMPRESS=DEFLATE', '-co', 'BLOCKSIZE=16'],
};
const FLOAT_VARIANTS: Record<string, string[]> = {
  deflate_pred3: [...T, '-co', 'BLOCKXSIZE=16', '-co', 'BLOCKYSIZE=16', '-co', 'COMPRESS=DEFLATE', '-co', 'PREDICTOR=3'],
  lzw_pred3_strip: ['-co', 'COMPRESS=LZW', '-co', 'PREDICTOR=3', '-co', 'BLOCKYSIZE=3'],
  zstd_pred3_bigendian: [...T, '-co', 'COMPRESS=ZSTD', '-co', 'PREDICTOR=3', '-co', 'ENDIANNESS=BIG'],
  deflate_pred2_float: ['-co', 'COMPRESS=DEFLATE', '-co', 'PREDICTOR=2'],
  pred2_float_bigendian: [...T, '-co', 'BLOCKXSIZE=16', '-co', 'BLOCKYSIZE=16', '-co', 'COMPRESS=LZW', '-co', 'PREDICTOR=2', '-co', 'ENDIANNESS=BIG'],
};

// Every variant of three sources: RGB.byte (3-band uint8, 791x718), warp_52_dem (int16) and
// nan32_nodata (float32 with NaN); the codec/predictor/byte-order variants of the other types.
const FULL = ['RGB.byte.tif', 'warp_52_dem.tif', 'nan32_nodata.tif'];
const TYPES = ['uint16.tif', 'int32.tif', 'uint32.tif', 'float64.tif', 'int8.tif'];
const TYPE_VARIANTS = new Set(['tiled16', 'deflate_pred2', 'zstd_pred2', 'bigendian_pred2', 'bigendian_strip', 'deflate_pred3', 'zstd_pred3_bigendian', 'pred2_float_bigendian', 'lerc_lossless']);

function same(a: Float64Array, b: Float64Array, what: string): void {
  assert.equal(a.length, b.length, `${what}: length`);
  for (let i = 0; i < a.length; i++) {
    if (!(a[i] === b[i] || (Number.isNaN(a[i]) && Number.isNaN(b[i])))) {
      assert.fail(`${what}: pixel ${i} is ${a[i]}, GDAL reads ${b[i]}`);
    }
  }
}

describe('GDAL-made variants decode exactly as GDAL decodes them', { skip }, () => {
  // every variant is written first, then GDAL reads them all in one Python run
  const jobs: { out: string; args: string[] }[] = [];
  const want = new Map<string, Float64Array[]>();
  before(() => {
    for (const j of jobs) gdal('gdal_translate', j.args);
    gdalPixelsMany(jobs.map((j) => j.out)).forEach((px, i) => want.set(jobs[i]!.out, px));
  });
  for (const source of [...FULL, ...TYPES]) {
    const isFloat = source.startsWith('float') || source.startsWith('nan32');
    const variants = { ...VARIANTS, ...(isFloat ? FLOAT_VARIANTS : {}) };
    for (const [name, opts] of Object.entries(variants)) {
      if (!FULL.includes(source) && !TYPE_VARIANTS.has(name)) continue;
      if (name.startsWith('lerc') && source === 'int8.tif') continue; // GDAL 3.6 cannot LERC-encode SIGNEDBYTE
      const out = join(dir, `${source}.${name}.tif`);
      jobs.push({ out, args: ['-q', ...(opts.includes('COG') ? [] : ['-of', 'GTiff']), ...opts, join(CORPUS_DIR, 'files', source), out] });
      test(`${source} ${name}`, async () => {
        const gdalPx = want.get(out)!;
        const src = await RasterSource.open(out);
        try {
          const n = src.width * src.height;
          const planes = gdalPx.map(() => new Float64Array(n));
          const { data } = await src.readWindow({ x: 0, y: 0, width: src.width, height: src.height }, { out: planes });
          assert.equal(data.length, gdalPx.length);
          data.forEach((p, b) => same(p, gdalPx[b]!, `band ${b + 1}`));
        } finally {
          await src.close();
        }
      });
    }
  }
});
