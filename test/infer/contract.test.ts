import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { lightModel } from '../../scripts/models/bench.js';
import { contractModels, type ContractModelName } from '../../scripts/models/contract.js';
import { identityModel } from '../../scripts/models/identity.js';
import { ModelError } from '../../src/errors.js';
import type { InferenceBackend, ModelInfo, RunResult } from '../../src/infer/backend.js';
import { checkInput, checkModelContract, type ContractExpectation } from '../../src/infer/contract.js';
import { assertFinite, firstNonFinite } from '../../src/infer/finite.js';
import { readNorm } from '../../src/infer/norm.js';
import { openOnnx } from '../../src/infer/onnx.js';
import { modelDir, randomInput } from './helpers.js';

const tmp = modelDir();
after(() => tmp.cleanup());

const EXPECT: ContractExpectation = { layout: 'NTCHW', T: 6, C: 18, tile: 128, batchSize: 16, dynamicBands: 11, staticBands: 7 };

const paths = {} as Record<ContractModelName, string>;
before(() => {
  for (const [name, bytes] of Object.entries(contractModels())) paths[name as ContractModelName] = tmp.write(`${name}.onnx`, bytes);
});

/** Open, check, close; returns the error message (or fails when there is none). */
async function contractError(path: string, expected: ContractExpectation = EXPECT): Promise<string> {
  const backend = await openOnnx(path);
  try {
    await checkModelContract(backend, expected);
  } catch (e) {
    assert.ok(e instanceof ModelError, `expected ModelError, got ${String(e)}`);
    assert.equal(e.file, path);
    return e.message;
  } finally {
    await backend.close();
  }
  return assert.fail(`${path}: no contract error`);
}

test('a conforming model passes: batch size and K from the model', async () => {
  const backend = await openOnnx(tmp.write('light.onnx', lightModel()));
  const c = await checkModelContract(backend, EXPECT);
  assert.deepEqual(c, { batchSize: 16, outBands: 4, inputName: 'x', outputName: 'y', inputDims: [16, 6, 18, 128, 128], warnings: [] });
  await backend.close();
});

test('symbolic output dims: a dry run on a zero tile finds K', async () => {
  const backend = await openOnnx(tmp.write('id-sym.onnx', identityModel({ channels: [[0, 0], [1, 1], [2, 2]], outputDims: 'symbolic' })));
  let runs = 0;
  const counting: InferenceBackend = {
    info: backend.info,
    run: (input, dims, output) => {
      runs++;
      return backend.run(input, dims, output);
    },
    close: () => backend.close(),
  };
  const c = await checkModelContract(counting, EXPECT);
  assert.equal(c.outBands, 3);
  assert.equal(runs, 1);
  await backend.close();
});

test('NCHW layout: a rank-4 model is accepted with --layout NCHW', async () => {
  const backend = await openOnnx(paths.rank4);
  const c = await checkModelContract(backend, { ...EXPECT, layout: 'NCHW' });
  assert.deepEqual(c.inputDims, [16, 108, 128, 128]);
  await backend.close();
});

test('fixed batch 1: runs with batch size 1 and a warning naming --batch-size', async () => {
  const backend = await openOnnx(paths.fixedBatch);
  const c = await checkModelContract(backend, EXPECT);
  assert.equal(c.batchSize, 1);
  assert.deepEqual(c.inputDims, [1, 6, 18, 128, 128]);
  assert.equal(c.warnings.length, 1);
  assert.match(c.warnings[0]!, /fixes the batch size to 1.*--batch-size 16/);
  await backend.close();
});

test('wrong number of dynamic files names --dynamic, expected vs actual', async () => {
  const m = await contractError(paths.wrongT);
  assert.equal(
    m,
    "model input 'x' expects [N,7,18,128,128] but the inputs give [N,6,18,128,128]: 7 dynamic files expected, 6 given (--dynamic)",
  );
});

test('wrong channel count names --dynamic and --static with the band breakdown', async () => {
  const m = await contractError(paths.wrongC);
  assert.match(m, /expects \[N,6,17,128,128\] but the inputs give \[N,6,18,128,128\]/);
  assert.match(m, /17 bands per time step expected, 18 given \(11 per dynamic file \+ 7 static\) \(--dynamic, --static\)/);
});

test('rank-4 model with NTCHW inputs suggests --layout NCHW; and the reverse', async () => {
  assert.match(await contractError(paths.rank4), /rank 4 expected, rank 5 given \(--layout NTCHW\); use --layout NCHW/);
  const m = await contractError(tmp.write('light5.onnx', lightModel()), { ...EXPECT, layout: 'NCHW' });
  assert.match(m, /use --layout NTCHW/);
});

test('NCHW channel mismatch counts channels', async () => {
  const m = await contractError(paths.rank4, { ...EXPECT, layout: 'NCHW', T: 5 });
  assert.match(m, /108 channels expected: 6 dynamic files of 18 bands, 90 given \(5 dynamic files × 18 bands/);
});

test('wrong tile size names --tile with the model size', async () => {
  const m = await contractError(paths.wrongTile);
  assert.match(m, /expects \[N,6,18,64,64\].*64×64 tiles expected, 128×128 given \(--tile 64\)/);
});

test('wrong K names the output and the expected band count', async () => {
  const m = await contractError(paths.wrongK, { ...EXPECT, outBands: 4 });
  assert.match(m, /model output 'y' has 3 bands but 4 were expected \(--band-names names 4\)/);
});

test('an output smaller than the tile (found by the dry run) names --tile', async () => {
  const m = await contractError(paths.shrinkingOutput);
  assert.match(m, /model output 'y' is \[1,4,64,64\] but tiles are 128×128: .*one prediction per input pixel.*--tile/);
});

test('non-float32 input and more than one input are refused', async () => {
  assert.match(await contractError(paths.float64Input), /model input 'x' is float64, tilecast feeds float32/);
  assert.match(await contractError(paths.twoInputs), /has 2 inputs \(x, mask\); tilecast feeds exactly one/);
});

test('several mismatches are reported together', () => {
  const info: ModelInfo = {
    path: 'm.onnx',
    inputs: [{ name: 'inp', type: 'float32', shape: ['b', 4, 10, 256, 256] }],
    outputs: [{ name: 'y', type: 'float32', shape: ['b', 2, 256, 256] }],
    props: {},
    device: 'cpu',
  };
  assert.throws(
    () => checkInput(info, EXPECT),
    (e: unknown) =>
      e instanceof ModelError &&
      e.message ===
        "model input 'inp' expects [b,4,10,256,256] but the inputs give [N,6,18,128,128]: 4 dynamic files expected, 6 given (--dynamic); " +
          '10 bands per time step expected, 18 given (11 per dynamic file + 7 static) (--dynamic, --static); 256×256 tiles expected, 128×128 given (--tile 256)',
  );
});

test('NaN outputs: the model runs, assertFinite names the sample, band and pixel', async () => {
  const backend = await openOnnx(paths.nanOutput);
  const c = await checkModelContract(backend, EXPECT);
  assert.equal(c.outBands, 4);
  const size = 6 * 18 * 128 * 128;
  const x = new Float32Array(2 * size).fill(1);
  // Sample 1, channel (0,2), row 5, col 7 negative → NaN in band 3.
  x[size + 2 * 128 * 128 + 5 * 128 + 7] = -1;
  const r: RunResult = await backend.run(x, [2, 6, 18, 128, 128]);
  assert.equal(firstNonFinite(r.output), (1 * 4 + 2) * 128 * 128 + 5 * 128 + 7);
  assert.throws(
    () => assertFinite(r.output, r.dims, paths.nanOutput, (i) => `tile #${i + 10}`),
    (e: unknown) => e instanceof ModelError && /output NaN for tile #11, band 3, pixel \(row 5, col 7\)/.test(e.message),
  );
  assert.doesNotThrow(() => assertFinite(randomInput(100, 1), [1, 1, 10, 10], 'm.onnx'));
  assert.equal(firstNonFinite(new Float32Array([0, 1, Infinity])), 2);
  await backend.close();
});

test('tilecast.norm: parsed, validated, absent → null', () => {
  const mean = Array.from({ length: 18 }, (_, i) => i);
  const std = Array(18).fill(0.5);
  assert.deepEqual(readNorm({ 'tilecast.norm': JSON.stringify({ mean, std }) }, 'm.onnx', 18), { mean, std });
  assert.equal(readNorm({}, 'm.onnx'), null);
  const bad = (text: string, channels?: number): string => {
    try {
      readNorm({ 'tilecast.norm': text }, 'm.onnx', channels);
    } catch (e) {
      assert.ok(e instanceof ModelError);
      return e.message;
    }
    return assert.fail('no error');
  };
  assert.match(bad('{'), /'tilecast.norm' is not JSON/);
  assert.match(bad('{"mean":[1],"std":[0]}'), /std ≤ 0/);
  assert.match(bad('{"mean":[1,2],"std":[1]}'), /2 means but 1 stds/);
  assert.match(bad(JSON.stringify({ mean, std }), 17), /18 channels but the inputs give 17/);
});
