/**
 * The ordered appender: blocks land in submission order whatever order their encoding finishes
 * in, at most `maxInFlight` are pending, and a failure stops all later writes.
 */
import assert from 'node:assert/strict';
import { open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { OrderedAppender } from '../../src/write/ordered-appender.js';
import { prng, tempDir } from './fixtures.js';

const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('blocks are written in submission order although their encodings finish in random order', async (t) => {
  const dir = tempDir('write-appender');
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = await open(join(dir, 'f'), 'w+');
  const appender = new OrderedAppender(file, 3, 4, { end: Number.MAX_SAFE_INTEGER, error: () => new Error('limit') });
  const rnd = prng(11);
  const placed: [number, number, number][] = [];
  let pendingMax = 0;
  let pending = 0;
  for (let k = 0; k < 40; k++) {
    await appender.room();
    pending++;
    pendingMax = Math.max(pendingMax, pending);
    const parts = delay(Math.floor(rnd() * 8)).then(() => [new Uint8Array(k % 5 + 1).fill(k), new Uint8Array(2).fill(200 + (k % 50))]);
    appender.submit(
      parts,
      (i, offset) => {
        placed.push([k, i, offset]);
      },
      () => pending--,
    );
  }
  await appender.drain();
  await file.close();
  assert.ok(pendingMax <= 4, `at most 4 pending, saw ${pendingMax}`);
  const bytes = await readFile(join(dir, 'f'));
  let pos = 3;
  const expected: number[] = [0, 0, 0];
  for (let k = 0; k < 40; k++) {
    expected.push(...new Array<number>(k % 5 + 1).fill(k), 200 + (k % 50), 200 + (k % 50));
  }
  assert.deepEqual([...bytes], expected);
  for (const [k, i, offset] of placed) {
    if (i === 0) {
      assert.equal(offset, pos, `block ${k}`);
      pos += (k % 5) + 1 + 2;
    }
  }
});

test('a failed encoding or a write past the limit stops every later write and drain() throws it', async (t) => {
  const dir = tempDir('write-appender-fail');
  t.after(() => rm(dir, { recursive: true, force: true }));
  for (const kind of ['encode', 'limit'] as const) {
    const file = await open(join(dir, kind), 'w+');
    const appender = new OrderedAppender(file, 0, 2, { end: 10, error: () => new Error('past the limit') });
    let released = 0;
    const submit = (parts: Promise<Uint8Array[]>): void => appender.submit(parts, () => undefined, () => released++);
    submit(Promise.resolve([new Uint8Array(4).fill(1)]));
    await appender.room();
    submit(kind === 'encode' ? Promise.reject(new Error('codec failed')) : Promise.resolve([new Uint8Array(8)]));
    await appender.room();
    submit(Promise.resolve([new Uint8Array(1).fill(9)]));
    await assert.rejects(appender.drain(), kind === 'encode' ? /codec failed/ : /past the limit/);
    await file.close();
    assert.equal(released, 3, 'every submission releases its buffers');
    assert.deepEqual([...(await readFile(join(dir, kind)))], [1, 1, 1, 1]);
  }
});
