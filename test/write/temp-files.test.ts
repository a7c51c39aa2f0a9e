/**
 * Temporary files are created and registered in one synchronous step, so the cleanup a signal
 * runs always knows every file that exists: removeTempFiles deletes what was created, leaves what
 * is kept for --resume, and never deletes a file that was there before (a name already taken).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createTempFile, forgetTempFile, removeTempFiles } from '../../src/write/temp-files.js';

const dir = mkdtempSync(join(tmpdir(), 'tilecast-temp-files-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a created temporary file exists and is registered at once; a kept one is not removed', () => {
  const made = join(dir, 'made');
  const kept = join(dir, 'kept');
  createTempFile(made);
  createTempFile(kept, { keep: true });
  assert.ok(existsSync(made) && existsSync(kept));
  assert.equal(removeTempFiles(), 1);
  assert.ok(!existsSync(made), 'the registered file is removed');
  assert.ok(existsSync(kept), 'the kept file stays');
});

test('a name already taken fails and leaves that file alone; replace truncates a file that is the run\'s own', () => {
  const taken = join(dir, 'taken');
  writeFileSync(taken, 'not ours');
  assert.throws(() => createTempFile(taken), { code: 'EEXIST' });
  removeTempFiles();
  assert.equal(readFileSync(taken, 'utf8'), 'not ours');
  const own = join(dir, 'own');
  writeFileSync(own, 'a leftover of this run');
  createTempFile(own, { replace: true });
  assert.equal(readFileSync(own, 'utf8'), '');
  forgetTempFile(own);
  assert.equal(removeTempFiles(), 0);
  assert.ok(existsSync(own), 'a forgotten file is not removed');
});
