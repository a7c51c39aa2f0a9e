/**
 * The LZW and PackBits decoders: what libtiff (and so GDAL) reads, they read the same, including
 * old-style LZW; damage (no clear code, a code not yet in the table, no end code, bytes after it,
 * runs past the input, output longer than the block) is a CodecError, and nothing is ever written
 * past the caller's buffer.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { CodecError } from '../../src/raster/codec-error.js';
import { lzwDecode } from '../../src/raster/lzw.js';
import { packBitsDecode } from '../../src/raster/packbits.js';
import { lzwEncode } from '../../src/write/lzw.js';
import { prng } from '../../scripts/models/prng.js';
import { needGdal } from '../helpers/env.js';
import { gdal, gdalPixels } from '../helpers/gdal.js';
import { entry, put, walk } from './tiff-edit.js';

const dir = mkdtempSync(join(tmpdir(), 'tilecast-lzw-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Old-style LZW (libtiff's "compat" variant): least significant bit first, widths grow on time. */
function lzwEncodeOldStyle(data: Uint8Array): Uint8Array {
  const out: number[] = [];
  let buf = 0;
  let bits = 0;
  let width = 9;
  const emit = (code: number) => {
    buf |= code << bits;
    bits += width;
    while (bits >= 8) {
      out.push(buf & 0xff);
      buf >>>= 8;
      bits -= 8;
    }
  };
  let table = new Map<string, number>();
  let next = 258;
  const reset = () => {
    table = new Map();
    next = 258;
    width = 9;
  };
  emit(256);
  let w = '';
  for (const byte of data) {
    const wc = w + String.fromCharCode(byte);
    if (wc.length === 1 || table.has(wc)) {
      w = wc;
      continue;
    }
    emit(w.length === 1 ? w.charCodeAt(0) : table.get(w)!);
    table.set(wc, next++);
    // the decoder makes each entry one code later, and grows when its next free code is 2^width
    if (next === (1 << width) + 1 && width < 12) width++;
    if (next >= 4094) {
      emit(256);
      reset();
    }
    w = String.fromCharCode(byte);
  }
  if (w.length > 0) emit(w.length === 1 ? w.charCodeAt(0) : table.get(w)!);
  emit(257);
  if (bits > 0) out.push(buf & 0xff);
  return new Uint8Array(out);
}

function data(seed: number, n: number): Uint8Array {
  const rnd = prng(seed);
  // runs and noise, so strings of every length appear and the table fills and resets
  return new Uint8Array(n).map((_, i) => ((i >> 6) % 3 === 0 ? Math.floor(rnd() * 256) : (i >> 4) & 7));
}

const codecError = (re: RegExp) => (err: unknown) => err instanceof CodecError && re.test(err.message);

describe('LZW', () => {
  test('decodes what the writer encodes (new style), every length, table resets included', () => {
    for (const n of [0, 1, 2, 255, 4096, 70_000]) {
      const src = data(n + 1, n);
      const out = new Uint8Array(n);
      assert.equal(lzwDecode(lzwEncode(src), out), n);
      assert.deepEqual(out, src);
    }
  });

  test('reads old-style LZW as GDAL does', { skip: needGdal() }, () => {
    const w = 61;
    const h = 47;
    const src = data(7, w * h);
    const file = join(dir, 'old-style.tif');
    // GDAL cannot write old-style LZW: write an uncompressed file, then swap in the stream
    writeFileSync(join(dir, 'raw.bin'), src);
    writeFileSync(join(dir, 'raw.hdr'), `ENVI\nsamples = ${w}\nlines = ${h}\nbands = 1\nheader offset = 0\nfile type = ENVI Standard\ndata type = 1\ninterleave = bsq\nbyte order = 0\n`);
    gdal('gdal_translate', ['-q', '-of', 'GTiff', '-co', `BLOCKYSIZE=${h}`, join(dir, 'raw.bin'), file]);
    const stream = lzwEncodeOldStyle(src);
    assert.equal(stream[0], 0);
    assert.equal(stream[1]! & 1, 1);
    const tif = readFileSync(file);
    const t = walk(tif)!;
    const out = Buffer.concat([tif, Buffer.from(stream)]);
    put(out, t.le, entry(t, 259).valueAt, 2, 5);
    put(out, t.le, t.blocks[0]!.offsetAt, t.blocks[0]!.offsetSize, tif.length);
    put(out, t.le, t.blocks[0]!.countAt, t.blocks[0]!.countSize, stream.length);
    writeFileSync(file, out);
    const gdalPx = gdalPixels(file)[0]!;
    assert.deepEqual(Array.from(gdalPx), Array.from(src), 'GDAL reads the old-style stream back');
    const mine = new Uint8Array(w * h);
    assert.equal(lzwDecode(stream, mine), w * h);
    assert.deepEqual(mine, src);
  });

  test('damage is an error, and nothing is written past the buffer', () => {
    const src = data(3, 5000);
    const good = lzwEncode(src);
    const into = (n: number) => new Uint8Array(n + 16).fill(0xee).subarray(0, n);
    // no end-of-information code: truncated
    assert.throws(() => lzwDecode(good.subarray(0, good.length - 3), into(5000)), codecError(/ends without an end-of-information code/));
    // bytes after the end code
    assert.throws(() => lzwDecode(Uint8Array.from([...good, 1, 2, 3]), into(5000)), codecError(/3 byte\(s\) follow the LZW end-of-information code/));
    // more output than the block holds: the bytes after the buffer are untouched
    const small = into(4000);
    assert.throws(() => lzwDecode(good, small), codecError(/decodes to more than the 4000 bytes/));
    assert.ok(new Uint8Array(small.buffer, 4000, 16).every((v) => v === 0xee));
    // a stream not starting with a clear code (9-bit code 65, then 257)
    assert.throws(() => lzwDecode(Uint8Array.from([0x20, 0xc0, 0x40]), into(10)), codecError(/does not start with a clear code/));
    // clear, 'A', then code 300 (not in the table)
    const bits = [256, 65, 300, 257].map((c) => c.toString(2).padStart(9, '0')).join('');
    const bytes = Uint8Array.from(bits.padEnd(Math.ceil(bits.length / 8) * 8, '0').match(/.{8}/g)!.map((b) => parseInt(b, 2)));
    assert.throws(() => lzwDecode(bytes, into(10)), codecError(/code 300 is not in the table \(next free code 258\)/));
  });

  test('a stream that would expand without bound stops at the block size', () => {
    // ever longer strings of zeros: each code adds one byte to the longest string
    const huge = lzwEncode(new Uint8Array(2_000_000));
    const out = new Uint8Array(1000);
    assert.throws(() => lzwDecode(huge, out), codecError(/more than the 1000 bytes/));
  });
});

describe('PackBits', () => {
  test('literal and repeat runs, and the no-op 128, as TIFF 6 defines them', () => {
    const out = new Uint8Array(8);
    // 2 literals (1, 2), no-op, 3 repeats of 9, no-op, 1 literal 7, 1 repeat ... 2 repeats of 5
    const n = packBitsDecode(Uint8Array.from([1, 1, 2, 128, 254, 9, 128, 0, 7, 255, 5]), out);
    assert.equal(n, 8);
    assert.deepEqual(Array.from(out), [1, 2, 9, 9, 9, 7, 5, 5]);
  });

  test('runs past the input, and output longer than the block, are errors', () => {
    assert.throws(() => packBitsDecode(Uint8Array.from([3, 1, 2]), new Uint8Array(10)), codecError(/literal run of 4 bytes at byte 0 runs past the end/));
    assert.throws(() => packBitsDecode(Uint8Array.from([1, 1, 2, 250]), new Uint8Array(10)), codecError(/repeat run at byte 3 has no byte to repeat/));
    const small = new Uint8Array(20).fill(0xee).subarray(0, 4);
    assert.throws(() => packBitsDecode(Uint8Array.from([250, 1]), small), codecError(/more than the 4 bytes/));
    assert.ok(new Uint8Array(small.buffer, 4, 16).every((v) => v === 0xee));
  });
});
