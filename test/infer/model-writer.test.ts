import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import ort from 'onnxruntime-node';
import { heavyModel, lightModel } from '../../scripts/models/bench.js';
import { demoModel, normaliseProfiles } from '../../scripts/models/demo.js';
import { identityModel } from '../../scripts/models/identity.js';
import { model } from '../../scripts/models/onnx.js';
import { ProtoWriter } from '../../scripts/models/protobuf.js';
import { ModelError } from '../../src/errors.js';
import { parseModelProps, readModelProps } from '../../src/infer/model-props.js';
import { modelDir, randomInput } from './helpers.js';

const tmp = modelDir();
after(() => tmp.cleanup());

test('protobuf varints: known encodings, including negative int64', () => {
  const w = new ProtoWriter();
  w.int(1, 300).int(2, -1).int(3, 2 ** 40);
  const expected = [
    0x08, 0xac, 0x02,
    0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
    0x18, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20,
  ];
  assert.deepEqual([...w.finish()], expected);
});

test('identity model reproduces the chosen (t, c) channels exactly, NTCHW and NCHW', async () => {
  const T = 3;
  const C = 5;
  const H = 7;
  const W = 9;
  const n = 2;
  const channels: [number, number][] = [[2, 4], [0, 0], [1, 3]];
  const x = randomInput(n * T * C * H * W, 11);
  for (const layout of ['NTCHW', 'NCHW'] as const) {
    const path = tmp.write(`identity-${layout}.onnx`, identityModel({ T, C, channels, layout }));
    const session = await ort.InferenceSession.create(path);
    const dims = layout === 'NTCHW' ? [n, T, C, H, W] : [n, T * C, H, W];
    const r = await session.run({ x: new ort.Tensor('float32', x, dims) });
    const y = r.y!;
    assert.deepEqual(y.dims, [n, channels.length, H, W]);
    const out = y.data as Float32Array;
    for (let s = 0; s < n; s++) {
      channels.forEach(([t, c], k) => {
        for (let p = 0; p < H * W; p++) {
          const want = x[((s * T + t) * C + c) * H * W + p]!;
          const got = out[(s * channels.length + k) * H * W + p]!;
          if (got !== want) assert.fail(`${layout} sample ${s} band ${k} pixel ${p}: ${got} !== ${want}`);
        }
      });
    }
    assert.deepEqual(session.inputMetadata[0], {
      name: 'x',
      isTensor: true,
      type: 'float32',
      shape: layout === 'NTCHW' ? ['N', T, C, 'H', 'W'] : ['N', T * C, 'H', 'W'],
    });
    await session.release();
  }
});

test('heavy and light models load with their declared shapes and give softmax outputs', async () => {
  for (const [name, bytes] of [['heavy', heavyModel()], ['light', lightModel()]] as const) {
    assert.ok(bytes.length < 1_000_000, `${name} is ${bytes.length} bytes`);
    const path = tmp.write(`${name}.onnx`, bytes);
    const session = await ort.InferenceSession.create(path);
    const input = session.inputMetadata[0]!;
    const output = session.outputMetadata[0]!;
    assert.ok(input.isTensor && output.isTensor);
    assert.deepEqual(input.shape, ['N', 6, 18, 128, 128]);
    assert.deepEqual(output.shape, ['N', 4, 128, 128]);
    const x = randomInput(2 * 6 * 18 * 128 * 128, 3);
    const y = (await session.run({ x: new ort.Tensor('float32', x, [2, 6, 18, 128, 128]) })).y!;
    assert.deepEqual(y.dims, [2, 4, 128, 128]);
    const p = y.data as Float32Array;
    const plane = 128 * 128;
    for (const i of [0, 1, 777, plane - 1, plane * 4 + 5]) {
      const s = Math.floor(i / plane / 4);
      const px = i % plane;
      let sum = 0;
      for (let k = 0; k < 4; k++) sum += p[(s * 4 + k) * plane + px]!;
      assert.ok(Math.abs(sum - 1) < 1e-5, `${name}: softmax sums to ${sum}`);
    }
    await session.release();
  }
});

test('weights are deterministic per seed', () => {
  assert.deepEqual(heavyModel(), heavyModel());
  assert.deepEqual(lightModel({ seed: 7 }), lightModel({ seed: 7 }));
  assert.notDeepEqual(lightModel({ seed: 7 }), lightModel({ seed: 8 }));
});

test('metadata_props round-trip through our reader (bytes and file)', () => {
  const props = { 'tilecast.norm': '{"mean":[1,2],"std":[3,4]}', other: 'é ✓' };
  const bytes = model({
    inputs: [{ name: 'x', type: 'float32', shape: ['N', 2] }],
    outputs: [{ name: 'y', type: 'float32', shape: ['N', 2] }],
    nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }],
    metadata: props,
  });
  assert.deepEqual(parseModelProps(bytes), props);
  assert.deepEqual(readModelProps(tmp.write('props.onnx', bytes)), props);
  assert.deepEqual(readModelProps(tmp.write('heavy-noprops.onnx', heavyModel())), {});
  const truncated = tmp.write('truncated.onnx', bytes.subarray(0, bytes.length - 3));
  assert.throws(() => readModelProps(truncated), (e: unknown) => e instanceof ModelError && e.file === truncated && /not a valid ONNX/.test(e.message));
});

test('demo model: analytic nearest-mean classifier picks the class whose mean a pixel sits at', async () => {
  const T = 2;
  const C = 3;
  // Raw class profiles (index t·C + c) and the per-channel normalisation.
  const norm = { mean: [10, 20, 30], std: [2, 4, 8] };
  const raw = [
    [14, 20, 30, 14, 20, 30],
    [10, 28, 30, 10, 28, 30],
    [10, 20, 46, 10, 20, 46],
    [6, 12, 14, 6, 12, 14],
  ];
  const means = normaliseProfiles(raw, norm);
  assert.deepEqual(means[0], [2, 0, 0, 2, 0, 0]);
  // An 8×8 tile split into four 4×4 quadrants, each at one class mean, plus noise; normalised as the pipeline does.
  const H = 8;
  const W = 8;
  const noise = randomInput(T * C * H * W, 5);
  const x = new Float32Array(T * C * H * W);
  const cls = (r: number, c: number): number => (r < 4 ? 0 : 2) + (c < 4 ? 0 : 1);
  for (let j = 0; j < T * C; j++) {
    const { mean, std } = { mean: norm.mean[j % C]!, std: norm.std[j % C]! };
    for (let r = 0; r < H; r++) {
      for (let c = 0; c < W; c++) {
        const value = raw[cls(r, c)]![j]! + 0.5 * std * noise[j * H * W + r * W + c]!;
        x[j * H * W + r * W + c] = (value - mean) / std;
      }
    }
  }
  for (const [smooth, sigma] of [[false, 1], [true, [1, 0.5, 2]]] as const) {
    const bytes = demoModel(means, { T, C, norm, sigma, smooth });
    assert.deepEqual(JSON.parse(parseModelProps(bytes)['tilecast.norm']!), norm);
    const session = await ort.InferenceSession.create(tmp.write(`demo-${smooth}.onnx`, bytes));
    const y = (await session.run({ x: new ort.Tensor('float32', x, [1, T, C, H, W]) })).y!;
    assert.deepEqual(y.dims, [1, 4, H, W]);
    const p = y.data as Float32Array;
    for (let r = 0; r < H; r++) {
      for (let c = 0; c < W; c++) {
        // With smoothing, pixels next to a quadrant boundary mix two classes: check the others.
        if (smooth && (r === 3 || r === 4 || c === 3 || c === 4)) continue;
        let best = 0;
        for (let k = 1; k < 4; k++) if (p[k * H * W + r * W + c]! > p[best * H * W + r * W + c]!) best = k;
        assert.equal(best, cls(r, c), `smooth ${smooth}: pixel (${r},${c})`);
      }
    }
    await session.release();
  }
});
