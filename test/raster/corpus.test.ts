/**
 * The reader against GDAL on real files: every readable corpus file gives GDAL's checksums (JPEG
 * and WebP included: tilecast decodes them with the libraries GDAL uses), `info` agrees with the
 * MANIFEST, and malformed / unsupported files fail with a clear error, quickly and without crashing.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { InputError, TilecastError, UnsupportedError } from '../../src/errors.js';
import { bandChecksum, checksums } from '../../src/raster/checksum.js';
import { rasterInfo } from '../../src/raster/info.js';
import { RasterSource } from '../../src/raster/source.js';
import { CORPUS_DIR, needCorpus } from '../helpers/env.js';

interface Entry {
  file: string;
  expected: 'readable' | 'malformed' | 'unsupported';
  width: number;
  height: number;
  bands: number;
  dtype: string;
  compression: string;
  geotransform: number[] | null;
  crs: { epsg: number | null } | null;
  nodata: number | string | null;
  checksums: number[] | null;
  stats: { band: number; min: number | null; max: number | null; mean: number | null; valid_count: number }[] | null;
  gdal_image_structure: Record<string, string>;
}

const skip = needCorpus();
const manifest: Entry[] = skip ? [] : JSON.parse(readFileSync(join(CORPUS_DIR, 'MANIFEST.json'), 'utf8'));
const path = (e: Entry) => join(CORPUS_DIR, 'files', e.file);
describe('corpus: readable files', { skip }, () => {
  for (const e of manifest.filter((m) => m.expected === 'readable')) {
    test(`${e.file}: checksums equal GDAL`, async () => {
      const src = await RasterSource.open(path(e));
      try {
        assert.equal(src.bandCount, e.checksums!.length);
        assert.deepEqual(await checksums(src), e.checksums);
        // one band at a time gives the same numbers
        assert.equal(await bandChecksum(src, src.bandCount - 1), e.checksums![src.bandCount - 1]);
      } finally {
        await src.close();
      }
    });

    test(`${e.file}: info agrees with the MANIFEST`, async () => {
      const info = await rasterInfo(path(e));
      assert.equal(info.width, e.width);
      assert.equal(info.height, e.height);
      assert.equal(info.bands, e.bands);
      assert.equal(info.dataType, e.dtype);
      if (e.geotransform === null) assert.equal(info.geoTransform, null);
      else info.geoTransform!.forEach((v, i) => assert.ok(Math.abs(v - e.geotransform![i]!) <= 1e-9 * Math.max(1, Math.abs(v)), `geotransform[${i}] ${v} vs ${e.geotransform![i]}`));
      const epsg = e.crs?.epsg ?? null;
      if (epsg !== null) assert.equal(info.epsg, epsg);
      else assert.equal(info.epsg, null);
      if (e.nodata === null) assert.equal(info.nodata, null);
      else if (typeof e.nodata === 'string') assert.ok(e.nodata.toLowerCase() === 'nan' && Number.isNaN(info.nodata));
      // gdalinfo prints float32 nodata with 8 significant digits: compare as float32
      else if (e.dtype === 'float32') assert.equal(Math.fround(info.nodata!), Math.fround(e.nodata));
      else assert.equal(info.nodata, e.nodata);
    });
  }
});

describe('corpus: malformed and unsupported files fail clearly', { skip }, () => {
  for (const e of manifest.filter((m) => m.expected !== 'readable')) {
    test(`${e.file}: ${e.expected}`, { timeout: 5000 }, async () => {
      const err = await (async () => {
        const src = await RasterSource.open(path(e));
        try {
          for (let b = 0; b < src.bandCount; b++) await bandChecksum(src, b);
        } finally {
          await src.close();
        }
      })().then(() => null, (x: unknown) => x);
      assert.ok(err instanceof TilecastError, `expected a TilecastError, got ${String(err)}`);
      assert.ok(err.message.includes(e.file), `message names the file: ${err.message}`);
      if (e.expected === 'unsupported') assert.ok(err instanceof UnsupportedError, err.message);
      else assert.ok(err instanceof InputError, err.message);
    });
  }
});
