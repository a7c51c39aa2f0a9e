import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { heavyModel, lightModel } from '../../scripts/models/bench.js';
import { demoModel } from '../../scripts/models/demo.js';
import { identityModel } from '../../scripts/models/identity.js';
import { ModelError } from '../../src/errors.js';
import { openOnnx } from '../../src/infer/onnx.js';
import { modelDir, randomInput, sameBits } from './helpers.js';

const tmp = modelDir();
after(() => tmp.cleanup());

const SAMPLE = [6, 18, 128, 128];
const SAMPLE_SIZE = 6 * 18 * 128 * 128;
const OUT_SIZE = 4 * 128 * 128;

test('model info: names, shapes with symbolic dims, types, metadata_props, device', async () => {
  const norm = { mean: Array.from({ length: 18 }, (_, i) => i), std: Array(18).fill(2) };
  const means = Array.from({ length: 4 }, (_, k) => Array.from({ length: 108 }, (_, j) => (j % 4 === k ? 1 : 0)));
  const path = tmp.write('demo.onnx', demoModel(means, { norm }));
  const backend = await openOnnx(path);
  assert.deepEqual(backend.info, {
    path,
    inputs: [{ name: 'x', type: 'float32', shape: ['N', 6, 18, 'H', 'W'] }],
    outputs: [{ name: 'y', type: 'float32', shape: ['N', 4, 'H', 'W'] }],
    props: { 'tilecast.norm': JSON.stringify(norm) },
    device: 'cpu',
  });
  await backend.close();
});

test('heavy model on CPU: every sample is bitwise the same in a batch of 1 and a batch of 5', async () => {
  const backend = await openOnnx(tmp.write('heavy.onnx', heavyModel()), { threads: 2 });
  const n = 5;
  const x = randomInput(n * SAMPLE_SIZE, 21);
  const batched = await backend.run(x, [n, ...SAMPLE]);
  assert.deepEqual(batched.dims, [n, 4, 128, 128]);
  for (let s = 0; s < n; s++) {
    const one = await backend.run(x.subarray(s * SAMPLE_SIZE, (s + 1) * SAMPLE_SIZE), [1, ...SAMPLE]);
    assert.ok(sameBits(one.output, batched.output.subarray(s * OUT_SIZE, (s + 1) * OUT_SIZE)), `sample ${s} differs`);
  }
  await backend.close();
});

test('a preallocated output buffer is written in place and reused, with the same values', async () => {
  const backend = await openOnnx(tmp.write('light.onnx', lightModel()));
  const x = randomInput(3 * SAMPLE_SIZE, 4);
  const fresh = await backend.run(x, [3, ...SAMPLE]);
  const out = new Float32Array(4 * OUT_SIZE).fill(-1);
  for (const n of [3, 2]) {
    const r = await backend.run(x, [n, ...SAMPLE], out);
    assert.equal(r.output.buffer, out.buffer, 'result is a view of the given buffer');
    assert.equal(r.output.length, n * OUT_SIZE);
    assert.equal(r.input, x);
    assert.ok(sameBits(r.output, fresh.output.subarray(0, n * OUT_SIZE)));
  }
  assert.equal(out[3 * OUT_SIZE], -1, 'nothing written past the batch');
  await backend.close();
});

test('a model with a fixed batch of 1 takes one tile at a time; a fixed batch of 3 pads a short batch', async () => {
  const one = await openOnnx(tmp.write('batch1.onnx', lightModel({ batch: 1 })));
  const x = randomInput(3 * SAMPLE_SIZE, 8);
  await assert.rejects(one.run(x, [3, ...SAMPLE]), (e: unknown) => e instanceof ModelError && /--batch-size 1/.test(e.message));
  const ref = await one.run(x.subarray(SAMPLE_SIZE), [1, ...SAMPLE]);
  await one.close();

  const three = await openOnnx(tmp.write('batch3.onnx', lightModel({ batch: 3 })));
  // Room for 3 samples: runs the stale tail, returns 1.
  const a = await three.run(x.subarray(SAMPLE_SIZE), [1, ...SAMPLE]);
  // Exactly one sample: zero-padded copy.
  const b = await three.run(x.slice(SAMPLE_SIZE, 2 * SAMPLE_SIZE), [1, ...SAMPLE]);
  assert.deepEqual(a.dims, [1, 4, 128, 128]);
  assert.ok(sameBits(a.output, ref.output));
  assert.ok(sameBits(b.output, ref.output));
  await three.close();
});

test('device cuda without the CUDA provider falls back to cpu with a warning', async () => {
  const warnings: string[] = [];
  const backend = await openOnnx(tmp.write('id.onnx', identityModel()), { device: 'cuda', warn: (m) => warnings.push(m) });
  if (backend.info.device === 'cuda') {
    assert.deepEqual(warnings, []);
  } else {
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /CUDA execution provider unavailable .*running on CPU/);
  }
  await backend.close();
});

test('missing or broken model files are ModelErrors naming the file', async () => {
  const missing = `${tmp.dir}/nope.onnx`;
  await assert.rejects(openOnnx(missing), (e: unknown) => e instanceof ModelError && e.file === missing && /not found.*--model/.test(e.message));
  const junk = tmp.write('junk.onnx', new TextEncoder().encode('this is not a protobuf'));
  await assert.rejects(openOnnx(junk), (e: unknown) => e instanceof ModelError && e.message.includes(junk));
});

test('runs after close reject; close is idempotent', async () => {
  const backend = await openOnnx(tmp.write('id2.onnx', identityModel()));
  await backend.close();
  await backend.close();
  await assert.rejects(backend.run(new Float32Array(SAMPLE_SIZE), [1, ...SAMPLE]), ModelError);
});
