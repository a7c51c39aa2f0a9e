/**
 * A full disk is reported as such: which file, how much was written and needed, the fix; the
 * temporary file is removed. Checked with a file handle that runs out of space, and on a real
 * 1 MB tmpfs where the test may mount one (as root).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { prng } from '../../scripts/models/prng.js';
import { OutputError } from '../../src/errors.js';
import { DiskFullError, OrderedAppender } from '../../src/write/ordered-appender.js';
import { createGeoTiffWriter } from '../../src/write/writer.js';

const dir = mkdtempSync(join(tmpdir(), 'tilecast-diskfull-'));

/** A file handle on a device with `room` bytes left: short writes, then ENOSPC. */
function fullDevice(room: number): FileHandle {
  let left = room;
  const write = (n: number) => {
    if (left === 0) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    const k = Math.min(n, left);
    left -= k;
    return k;
  };
  return {
    writev: async (bufs: Uint8Array[]) => ({ bytesWritten: write(bufs.reduce((a, b) => a + b.length, 0)), buffers: bufs }),
    write: async (b: Uint8Array, _o: number, length: number) => ({ bytesWritten: write(length), buffer: b }),
  } as unknown as FileHandle;
}

test('the appender turns a short write and ENOSPC into a DiskFullError with the sizes', async () => {
  const a = new OrderedAppender(fullDevice(1000), 0, 4, { end: Number.MAX_SAFE_INTEGER, error: () => new Error('limit') });
  a.submit(Promise.resolve([new Uint8Array(600)]), () => {}, () => {});
  a.submit(Promise.resolve([new Uint8Array(300), new Uint8Array(300)]), () => {}, () => {});
  await assert.rejects(a.drain(), (e: unknown) => {
    assert.ok(e instanceof DiskFullError, String(e));
    assert.equal(e.code, 'ENOSPC');
    assert.equal(e.written, 1000);
    assert.equal(e.needed, 200);
    return true;
  });
});

function mountTmpfs(at: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', at], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const small = join(dir, 'small');
mkdirSync(small);
const mounted = process.getuid?.() === 0 && mountTmpfs(small);
after(() => {
  if (mounted) execFileSync('umount', [small]);
  rmSync(dir, { recursive: true, force: true });
});

test('a GeoTIFF that does not fit a 1 MB tmpfs: OutputError naming the file, the disk and the sizes; nothing left', { skip: mounted ? false : 'mounting a tmpfs needs root' }, async () => {
  const n = 1024;
  const rand = prng(1);
  const noise = Float32Array.from({ length: n * n }, () => rand());
  const out = join(small, 'out.tif');
  const w = await createGeoTiffWriter(out, { width: n, height: n, dataType: 'float32', compression: 'deflate', blockSize: 256 });
  let caught: unknown;
  try {
    for (let row = 0; row < n / 256; row++) await w.writeBlockRow(row, noise.subarray(row * 256 * n, (row + 1) * 256 * n));
    await w.close();
  } catch (e) {
    caught = e;
    await w.abort();
  }
  assert.ok(caught instanceof OutputError, String(caught));
  assert.match(caught.message, new RegExp(`^cannot write ${out}: the disk holding ${small} is full: [\\d.]+ MB were written and [\\d.]+ MB more were needed .*free space or choose another output path$`));
  assert.deepEqual(readdirSync(small), [], 'no temporary file');
});
