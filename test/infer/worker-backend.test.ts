import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { heavyModel, lightModel } from '../../scripts/models/bench.js';
import { identityModel } from '../../scripts/models/identity.js';
import { ModelError } from '../../src/errors.js';
import { openOnnx } from '../../src/infer/onnx.js';
import { openWorkerBackend } from '../../src/infer/worker-backend.js';
import { REPO_ROOT } from '../helpers/env.js';
import { modelDir, randomInput, sameBits } from './helpers.js';

const run = promisify(execFile);
const tmp = modelDir();
after(() => tmp.cleanup());

const SAMPLE = [6, 18, 128, 128];
const SAMPLE_SIZE = 6 * 18 * 128 * 128;
const OUT_SIZE = 4 * 128 * 128;

test('worker backend: same info and bitwise the same outputs as the in-thread backend', async () => {
  const path = tmp.write('heavy.onnx', heavyModel());
  const x = randomInput(2 * SAMPLE_SIZE, 31);
  const local = await openOnnx(path, { threads: 1 });
  const expected = await local.run(x, [2, ...SAMPLE]);
  const worker = await openWorkerBackend(path, { threads: 1 });
  assert.deepEqual(worker.info, local.info);
  const got = await worker.run(x.slice(), [2, ...SAMPLE]);
  assert.deepEqual(got.dims, [2, 4, 128, 128]);
  assert.ok(sameBits(got.output, expected.output));
  await local.close();
  await worker.close();
});

test('buffers are transferred, not copied, and handed back for reuse; runs overlap', async () => {
  const path = tmp.write('light.onnx', lightModel());
  const backend = await openWorkerBackend(path);
  const reference = await openOnnx(path);
  const pool: { input: Float32Array; output: Float32Array }[] = [0, 1].map(() => ({
    input: new Float32Array(2 * SAMPLE_SIZE),
    output: new Float32Array(2 * OUT_SIZE),
  }));
  for (let round = 0; round < 2; round++) {
    const inflight = pool.map((slot, i) => {
      slot.input.set(randomInput(2 * SAMPLE_SIZE, 100 + round * 2 + i));
      const want = slot.input.slice();
      const inBuffer = slot.input.buffer;
      const p = backend.run(slot.input, [2, ...SAMPLE], slot.output);
      assert.equal(inBuffer.byteLength, 0, 'input buffer detached: transferred, not copied');
      assert.equal(slot.output.length, 0, 'output buffer detached');
      return p.then((r) => ({ r, want, i }));
    });
    for (const { r, want, i } of await Promise.all(inflight)) {
      assert.equal(r.input.length, 2 * SAMPLE_SIZE);
      assert.ok(sameBits(r.input, want), 'input comes back intact');
      assert.equal(r.output.buffer.byteLength, 2 * OUT_SIZE * 4, 'output is the pool buffer');
      const ref = await reference.run(want, [2, ...SAMPLE]);
      assert.ok(sameBits(r.output, ref.output), `round ${round} slot ${i}`);
      pool[i] = { input: r.input, output: r.output };
    }
  }
  await backend.close();
  await reference.close();
});

test('an inference error rejects every pending run with ModelError and the worker is gone', async () => {
  // Fixed 128×128 tiles; a 64×64 batch makes onnxruntime throw inside the worker.
  const backend = await openWorkerBackend(tmp.write('id128.onnx', identityModel({ tile: 128 })));
  assert.notEqual(backend.threadId, -1);
  const bad = backend.run(new Float32Array(6 * 18 * 64 * 64), [1, 6, 18, 64, 64]);
  const queued = backend.run(new Float32Array(SAMPLE_SIZE), [1, ...SAMPLE]);
  await assert.rejects(bad, (e: unknown) => {
    assert.ok(e instanceof ModelError);
    assert.match(e.message, /failed on a batch of shape \[1,6,18,64,64\]/);
    assert.equal(backend.threadId, -1, 'worker terminated before the rejection');
    return true;
  });
  await assert.rejects(queued, ModelError);
  await assert.rejects(backend.run(new Float32Array(SAMPLE_SIZE), [1, ...SAMPLE]), /failed on a batch/);
  await backend.close();
});

test('open errors and the CUDA fallback warning come through the worker', async () => {
  const missing = join(tmp.dir, 'missing.onnx');
  await assert.rejects(openWorkerBackend(missing), (e: unknown) => e instanceof ModelError && e.file === missing && /not found/.test(e.message));
  const warnings: string[] = [];
  const backend = await openWorkerBackend(tmp.write('id.onnx', identityModel()), { device: 'cuda', warn: (m) => warnings.push(m) });
  if (backend.info.device === 'cpu') assert.match(warnings.join('\n'), /CUDA execution provider unavailable/);
  await backend.close();
  assert.equal(backend.threadId, -1);
  await assert.rejects(backend.run(new Float32Array(SAMPLE_SIZE), [1, ...SAMPLE]), /closed/);
});

/**
 * A child process that opens the worker backend from `moduleUrl`, runs a good
 * batch, then a failing one, and never calls close(): it must print both
 * outcomes and exit by itself.
 */
function childScript(moduleUrl: string, model: string): string {
  return `
    import { openWorkerBackend } from ${JSON.stringify(moduleUrl)};
    const b = await openWorkerBackend(${JSON.stringify(model)});
    const ok = await b.run(new Float32Array(${SAMPLE_SIZE}), [1, 6, 18, 128, 128]);
    console.log('ok', ok.dims.join('x'));
    try {
      await b.run(new Float32Array(6 * 18 * 64 * 64), [1, 6, 18, 64, 64]);
    } catch (e) {
      console.log('rejected', e.name, b.threadId);
    }
  `;
}

test('from TypeScript source (tsx): a process whose worker failed exits on its own', async () => {
  const model = tmp.write('child.onnx', identityModel({ tile: 128 }));
  const url = pathToFileURL(join(REPO_ROOT, 'src/infer/worker-backend.ts')).href;
  const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', childScript(url, model)], {
    cwd: REPO_ROOT,
    timeout: 60_000,
  });
  assert.equal(stdout.trim(), 'ok 1x4x128x128\nrejected ModelError -1');
});

test('from compiled JS (tsc output): the worker entry resolves and a failed worker lets the process exit', async () => {
  const out = join(tmp.dir, 'build');
  mkdirSync(out);
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(out, 'node_modules'), 'dir');
  writeFileSync(join(out, 'package.json'), '{"type":"module"}');
  writeFileSync(
    join(out, 'tsconfig.json'),
    JSON.stringify({
      extends: join(REPO_ROOT, 'tsconfig.json'),
      compilerOptions: { outDir: join(out, 'dist'), rootDir: REPO_ROOT, declaration: false, sourceMap: false },
      include: [join(REPO_ROOT, 'src/infer/*.ts'), join(REPO_ROOT, 'src/errors.ts')],
    }),
  );
  await run(process.execPath, [join(REPO_ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(out, 'tsconfig.json')], { timeout: 120_000 });
  const model = tmp.write('child-js.onnx', identityModel({ tile: 128 }));
  const url = pathToFileURL(join(out, 'dist/src/infer/worker-backend.js')).href;
  // No tsx here: plain node must run the compiled worker.js.
  const { stdout } = await run(process.execPath, ['--max-old-space-size=2048', '--input-type=module', '-e', childScript(url, model)], { cwd: out, timeout: 60_000 });
  assert.equal(stdout.trim(), 'ok 1x4x128x128\nrejected ModelError -1');
});
