/**
 * LZW decode speed: tilecast's own decoder (src/raster/lzw.ts) against geotiff.js's, which the
 * reader used before, on every tile of an 8192 x 8192 uint16 LZW file written by gdal_translate
 * (the same seeded smooth field with noise as bench/read.ts). Both decode the same bytes, the
 * outputs are compared, and the time is the decode alone (no file I/O), median of the runs.
 *
 *   node --import tsx bench/lzw.ts [--size 8192] [--runs 3] [--json]
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { getDecoder } from 'geotiff';
import { lzwDecode } from '../src/raster/lzw.js';
import { readAt } from '../src/raster/file-source.js';
import { num, nums, readTiffHeader, TAG } from '../src/raster/tiff.js';
import { median, writeUint16Tiff } from './fixtures.js';

const { values } = parseArgs({ options: { size: { type: 'string', default: '8192' }, runs: { type: 'string', default: '3' }, json: { type: 'boolean' } } });
const size = Number(values.size);
const runs = Number(values.runs);
const dir = mkdtempSync(join(tmpdir(), 'tilecast-bench-lzw-'));

try {
  const tif = writeUint16Tiff(dir, size, 'LZW');

  const fh = await open(tif);
  const ifd = (await readTiffHeader(fh, tif)).ifds[0]!;
  const offsets = nums(ifd, TAG.TileOffsets)!;
  const counts = nums(ifd, TAG.TileByteCounts)!;
  const tileBytes = num(ifd, TAG.TileWidth, 0) * num(ifd, TAG.TileLength, 0) * 2;
  const tiles: Uint8Array[] = [];
  for (let i = 0; i < offsets.length; i++) tiles.push(new Uint8Array(await readAt(fh, offsets[i]!, counts[i]!)));
  await fh.close();

  const geotiff = (await getDecoder(5, {} as never)) as unknown as { decodeBlock(b: ArrayBuffer): ArrayBuffer };
  const out = new Uint8Array(tileBytes);
  const ours: number[] = [];
  const theirs: number[] = [];
  for (let r = 0; r < runs; r++) {
    let t = performance.now();
    for (const tile of tiles) if (lzwDecode(tile, out) !== tileBytes) throw new Error('tilecast LZW: wrong size');
    ours.push((performance.now() - t) / 1000);
    t = performance.now();
    for (const tile of tiles) {
      const b = new Uint8Array(geotiff.decodeBlock(tile.buffer.slice(tile.byteOffset, tile.byteOffset + tile.byteLength) as ArrayBuffer));
      if (b.length !== tileBytes) throw new Error('geotiff.js LZW: wrong size');
    }
    theirs.push((performance.now() - t) / 1000);
  }
  // the two decoders agree on every tile
  for (const tile of tiles) {
    lzwDecode(tile, out);
    const b = new Uint8Array(geotiff.decodeBlock(tile.buffer.slice(tile.byteOffset, tile.byteOffset + tile.byteLength) as ArrayBuffer));
    if (!b.every((v, i) => v === out[i])) throw new Error('the decoders disagree');
  }
  const mb = (size * size * 2) / 1e6;
  const result = {
    file: `${size}x${size} uint16, LZW, 256x256 tiles, ${(statSync(tif).size / 1e6).toFixed(1)} MB on disk`,
    decodedMB: Math.round(mb),
    tilecastMBps: +(mb / median(ours)).toFixed(1),
    geotiffjsMBps: +(mb / median(theirs)).toFixed(1),
    speedup: +(median(theirs) / median(ours)).toFixed(2),
    runs,
  };
  if (values.json) console.log(JSON.stringify(result));
  else console.log(`lzw: ${result.file}: tilecast ${result.tilecastMBps} MB/s, geotiff.js ${result.geotiffjsMBps} MB/s (x${result.speedup}, medians of ${runs})`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
