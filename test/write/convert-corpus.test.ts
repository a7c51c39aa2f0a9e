/**
 * `tilecast convert` on every readable corpus file, the black-box test of reader + writer:
 * GDAL sees the same pixels, geotransform, CRS and nodata in IN and OUT.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { RasterSource } from '../../src/raster/source.js';
import { convert } from '../../src/write/convert.js';
import { CORPUS_DIR, needCorpus, needGdal } from '../helpers/env.js';
import { gdalinfoJson, gdalPixelsMany } from '../helpers/gdal.js';

const skip = needCorpus() || needGdal();
const dir = mkdtempSync(join(tmpdir(), 'tilecast-convert-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Entry { file: string; expected: string; compression: string; gdal_image_structure?: Record<string, string> }
const entries: Entry[] = skip ? [] : (JSON.parse(readFileSync(join(CORPUS_DIR, 'MANIFEST.json'), 'utf8')) as Entry[]).filter((e) => e.expected === 'readable');
const lossy = (e: Entry) => e.compression === 'JPEG' || e.compression === 'WEBP';

describe('convert every readable corpus file', { skip }, () => {
  const gdalIn = new Map<string, Float64Array[]>();
  const gdalOut = new Map<string, Float64Array[]>();
  before(async () => {
    for (const e of entries) await convert(join(CORPUS_DIR, 'files', e.file), join(dir, e.file), { blockSize: 32 });
    const ins = entries.map((e) => join(CORPUS_DIR, 'files', e.file));
    const outs = entries.map((e) => join(dir, e.file));
    gdalPixelsMany([...ins, ...outs]).forEach((px, i) => (i < ins.length ? gdalIn.set(entries[i]!.file, px) : gdalOut.set(entries[i - ins.length]!.file, px)));
  });

  for (const e of entries) {
    test(e.file, async () => {
      const a = gdalIn.get(e.file)!;
      const b = gdalOut.get(e.file)!;
      assert.equal(b.length, a.length, 'band count');
      if (lossy(e)) {
        // our JPEG/WebP decode is written losslessly: OUT equals our decode of IN exactly,
        // and GDAL's decode of IN within a grey level or two (see corpus.test.ts)
        const src = await RasterSource.open(join(CORPUS_DIR, 'files', e.file));
        const { data } = await src.readWindow({ x: 0, y: 0, width: src.width, height: src.height });
        await src.close();
        data.forEach((p, k) => p.forEach((v, i) => assert.equal(b[k]![i], v, `band ${k + 1} pixel ${i}`)));
        for (let k = 0; k < a.length; k++) {
          let diff = 0;
          for (let i = 0; i < a[k]!.length; i++) diff += Math.abs(a[k]![i]! - b[k]![i]!);
          // libjpeg upsamples subsampled chroma with a triangular filter, geotiff.js's decoder by
          // replication: colour edges differ by a few levels, a mean of ~1.2 on ycbcr_with_mask
          assert.ok(diff / a[k]!.length < 2, `band ${k + 1}: mean absolute difference ${diff / a[k]!.length}`);
        }
      } else {
        for (let k = 0; k < a.length; k++) {
          for (let i = 0; i < a[k]!.length; i++) {
            const x = a[k]![i]!;
            const y = b[k]![i]!;
            if (!(x === y || (Number.isNaN(x) && Number.isNaN(y)))) assert.fail(`band ${k + 1} pixel ${i}: IN ${x}, OUT ${y}`);
          }
        }
      }
      const ia = gdalinfoJson(join(CORPUS_DIR, 'files', e.file));
      const ib = gdalinfoJson(join(dir, e.file));
      assert.deepEqual(ib.size, ia.size);
      assert.deepEqual(ib.geoTransform, ia.geoTransform);
      assert.equal(ib.bands[0].noDataValue, ia.bands[0].noDataValue);
      assert.equal(ib.coordinateSystem?.wkt ?? '', ia.coordinateSystem?.wkt ?? '', 'CRS WKT');
      assert.deepEqual(ib.bands.map((x: { description?: string }) => x.description ?? ''), ia.bands.map((x: { description?: string }) => x.description ?? ''));
    });
  }
});
