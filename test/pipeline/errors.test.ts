/**
 * predict on bad inputs: each fails with a TilecastError that names the file or flag at fault,
 * and leaves nothing behind in the output folder (no output, no temporary file).
 * Also: non-finite model outputs are reported, a fixed batch size is warned about, and an
 * aborted run leaves nothing behind.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { contractModels } from '../../scripts/models/contract.js';
import { identityModel } from '../../scripts/models/identity.js';
import {
  AbortedError, GridMismatchError, InputError, ModelError, OutputError, RegionError, TilecastError, UsageError,
} from '../../src/errors.js';
import { predict, type PredictOptions } from '../../src/pipeline/predict.js';
import { makeScene, rect, readOutput, utmPolygon, writeRaster, X0, Y0, PIXEL, type Scene } from './fixtures.js';

let scene: Scene;
let model: string;
let outDirs = 0;

before(async () => {
  scene = await makeScene({ width: 100, height: 90, T: 3, seed: 5 });
  model = scene.write('identity.onnx', identityModel({ T: scene.T, C: scene.C, channels: [[0, 0], [2, 3]] }));
});

after(() => scene.cleanup());

const REGION = () => utmPolygon([[[3.3, 4.2], [95.6, 10.7], [60.2, 85.5]]]);

/** Options over the small scene with a fresh, empty output folder. */
function options(extra: Partial<PredictOptions> = {}): PredictOptions & { dir: string } {
  const dir = join(scene.dir, `out-${outDirs++}`);
  mkdirSync(dir);
  return {
    model, dynamic: scene.dynamic, static: scene.static, region: REGION(), regionCrs: 'EPSG:32633',
    out: join(dir, 'out.tif'), tile: 32, stride: 16, worker: false, dir, ...extra,
  };
}

/**
 * predict must reject with `cls` and a message matching every pattern; nothing may be left in
 * the output folder.
 */
async function fails(o: PredictOptions & { dir: string }, cls: new (...a: never[]) => TilecastError, ...patterns: (RegExp | string)[]): Promise<TilecastError> {
  let caught: unknown;
  try {
    await predict(o);
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof cls, `expected ${cls.name}, got ${String(caught)}`);
  for (const p of patterns) {
    if (typeof p === 'string') assert.ok(caught.message.includes(p), `message ${JSON.stringify(caught.message)} should name ${p}`);
    else assert.match(caught.message, p);
  }
  if (existsSync(o.dir)) assert.deepEqual(readdirSync(o.dir), [], 'nothing left in the output folder');
  return caught;
}

/** A copy of dynamic file t with other bands, geotransform or size. */
async function variant(name: string, change: { bands?: number; dx?: number; width?: number }): Promise<string> {
  const width = change.width ?? scene.width;
  const bandCount = change.bands ?? scene.dynamicBands;
  const bands = Array.from({ length: bandCount }, (_, b) => {
    const src = scene.dynamicData[0]![b % scene.dynamicBands]!;
    const u = new Uint16Array(width * scene.height);
    for (let y = 0; y < scene.height; y++) for (let x = 0; x < width; x++) u[y * width + x] = src[y * scene.width + Math.min(x, scene.width - 1)]!;
    return u;
  });
  const path = join(scene.dir, name);
  await writeRaster(path, {
    width, height: scene.height, dataType: 'uint16', bands, nodata: 0, blockSize: 32,
    geoTransform: [X0 + (change.dx ?? 0), PIXEL, 0, Y0, 0, -PIXEL],
  });
  return path;
}

describe('predict: bad inputs', () => {
  test('the options work as given (so that each failure below is caused by its one change)', async () => {
    const o = options();
    const s = await predict(o);
    assert.ok(s.tiles.computed > 0);
    // the output and its run record (the PAM sidecar); no partial file, journal or lock
    assert.deepEqual(readdirSync(o.dir).sort(), ['out.tif', 'out.tif.aux.xml']);
  });

  test('a missing dynamic file: InputError naming it', async () => {
    const missing = join(scene.dir, 'no-such-t1.tif');
    const e = await fails(options({ dynamic: [scene.dynamic[0]!, missing, scene.dynamic[2]!] }), InputError, missing, /file not found/);
    assert.equal(e.file, missing);
  });

  test('a missing static file: InputError naming it', async () => {
    const missing = join(scene.dir, 'no-such-dem.tif');
    await fails(options({ static: [missing] }), InputError, missing);
  });

  test('no dynamic file: UsageError naming --dynamic', async () => {
    await fails(options({ dynamic: [] }), UsageError, '--dynamic');
  });

  test('a dynamic file shifted by one pixel: GridMismatchError naming both files, suggesting gdalwarp', async () => {
    const shifted = await variant('t1-shifted.tif', { dx: PIXEL });
    const e = await fails(options({ dynamic: [scene.dynamic[0]!, shifted, scene.dynamic[2]!] }), GridMismatchError, shifted, scene.dynamic[0]!, 'gdalwarp', /geotransform/);
    assert.equal(e.file, shifted);
  });

  test('a static file of another size: GridMismatchError naming it', async () => {
    const wider = await variant('dem-wider.tif', { width: scene.width + 3, bands: 1 });
    await fails(options({ static: [wider] }), GridMismatchError, wider, `size ${scene.width + 3}x${scene.height}`, 'gdalwarp');
  });

  test('dynamic files with different band counts: InputError naming the odd one and --dynamic', async () => {
    const twoBands = await variant('t2-two-bands.tif', { bands: 2 });
    const e = await fails(options({ dynamic: [scene.dynamic[0]!, scene.dynamic[1]!, twoBands] }), InputError, twoBands, '--dynamic', /2 bands/);
    assert.equal(e.file, twoBands);
  });

  test('--norm arrays of the wrong length: UsageError naming the file and --norm', async () => {
    const norm = scene.write('norm-short.json', JSON.stringify({ mean: [0, 0, 0], std: [1, 1, 1] }));
    await fails(options({ norm }), UsageError, norm, '--norm', /expected 4/);
    await fails(options({ norm: { mean: [0, 0, 0, 0, 0], std: [1, 1, 1, 1, 1] } }), UsageError, '--norm');
    const zero = scene.write('norm-zero.json', JSON.stringify({ mean: [0, 0, 0, 0], std: [1, 0, 1, 1] }));
    await fails(options({ norm: zero }), UsageError, zero, /std/);
    const broken = scene.write('norm-broken.json', '{"mean": [0, 0');
    await fails(options({ norm: broken }), UsageError, broken, '--norm');
  });

  test('a model that takes other channels: ModelError naming the model, expected vs given, and the flags', async () => {
    const wrong = contractModels({ T: scene.T, C: scene.C, tile: 32 });
    const wrongC = scene.write('wrong-c.onnx', wrong.wrongC);
    const e = await fails(options({ model: wrongC }), ModelError, /3 bands per time step expected, 4 given \(3 per dynamic file \+ 1 static\)/, '--static');
    assert.equal(e.file, wrongC);
    await fails(options({ model: scene.write('wrong-t.onnx', wrong.wrongT) }), ModelError, /4 dynamic files expected, 3 given/, '--dynamic');
    await fails(options({ model: scene.write('wrong-tile.onnx', wrong.wrongTile) }), ModelError, /16×16 tiles expected, 32×32 given/, '--tile 16');
    await fails(options({ model: scene.write('rank4.onnx', wrong.rank4) }), ModelError, '--layout NCHW');
    await fails(options({ model: scene.write('shrinking.onnx', wrong.shrinkingOutput) }), ModelError, /one prediction per input pixel/);
    await fails(options({ model: scene.write('float64.onnx', wrong.float64Input) }), ModelError, /float32/);
    await fails(options({ model: scene.write('two-inputs.onnx', wrong.twoInputs) }), ModelError, /2 inputs/);
    await fails(options({ model: join(scene.dir, 'no-such-model.onnx') }), ModelError, 'no-such-model.onnx');
  });

  test('a model whose output bands do not match --band-names: ModelError naming --band-names', async () => {
    await fails(options({ bandNames: ['a', 'b', 'c'] }), ModelError, /has 2 bands but 3 were expected/, '--band-names');
    const wrongK = scene.write('wrong-k.onnx', contractModels({ T: scene.T, C: scene.C, tile: 32 }).wrongK);
    await fails(options({ model: wrongK, bandNames: ['a', 'b', 'c', 'd'] }), ModelError, /has 3 bands but 4/, '--band-names');
  });

  test('stride <= 0 or > tile: UsageError naming --stride', async () => {
    for (const stride of [0, -4, 33, 2.5]) await fails(options({ stride }), UsageError, '--stride', String(stride));
  });

  test('batch size <= 0 or not an integer: UsageError naming --batch-size', async () => {
    for (const batchSize of [0, -1, 1.5]) await fails(options({ batchSize }), UsageError, '--batch-size');
  });

  test('other bad options: tile, queue depth, layout, block size, blend', async () => {
    await fails(options({ tile: 0 }), UsageError, '--tile');
    await fails(options({ queueDepth: 0 }), UsageError, '--queue-depth');
    await fails(options({ layout: 'NHWC' as never }), UsageError, '--layout');
    await fails(options({ blockSize: 40 }), UsageError, '--block-size');
    await fails(options({ blend: 'hann' }), UsageError, '--blend');
  });

  test('a gaussian sigma too small for the tile: UsageError naming --blend', async () => {
    await fails(options({ blend: 'gaussian:0.1' }), UsageError, '--blend');
  });

  test('an unknown blend window given as an object: UsageError naming --blend', async () => {
    await fails(options({ blend: { kind: 'hann' } as never }), UsageError, '--blend');
  });

  test('a missing output folder: OutputError naming the folder', async () => {
    const o = options();
    const folder = join(o.dir, 'missing');
    await fails({ ...o, out: join(folder, 'out.tif') }, OutputError, folder, 'mkdir');
  });

  test('an output path under a file, or that is a folder: OutputError', async () => {
    const o = options();
    const file = join(scene.dir, 'a-file');
    writeFileSync(file, 'x');
    await fails({ ...o, out: join(file, 'out.tif') }, OutputError, file);
    await fails({ ...o, out: o.dir }, OutputError, o.dir, 'is a folder');
  });

  test('a read-only output folder: OutputError', { skip: process.getuid?.() === 0 ? 'running as root: permissions are not enforced' : false }, async () => {
    const o = options();
    const { chmodSync } = await import('node:fs');
    chmodSync(o.dir, 0o555);
    try {
      await fails(o, OutputError, o.dir, /not writable/);
    } finally {
      chmodSync(o.dir, 0o755);
    }
  });

  test('an entirely outside region leaves nothing either', async () => {
    await fails(options({ region: utmPolygon([rect(-90.5, -80.5, -10.5, -5.5)]) }), RegionError, '--region');
  });
});

describe('predict: what is reported rather than refused', () => {
  test('a model that outputs NaN: nonFinite > 0 in the summary, a warning, and the file is written', async () => {
    const nan = scene.write('nan.onnx', contractModels({ T: scene.T, C: scene.C, tile: 32 }).nanOutput);
    const warnings: string[] = [];
    // sqrt of the fill value -1 at the nodata pixels of time step 0 is NaN
    const o = options({ model: nan, fill: -1, warn: (m) => warnings.push(m) });
    const s = await predict(o);
    assert.ok(s.nonFinite > 0, `nonFinite ${s.nonFinite}`);
    assert.ok(warnings.length > 0 && warnings.every((w) => /NaN\/Inf/.test(w)), JSON.stringify(warnings));
    assert.deepEqual(s.warnings, warnings);
    assert.ok(existsSync(o.out!));
    const out = await readOutput(o.out!);
    assert.ok(out.bands[0]!.some((v) => Number.isFinite(v)));
  });

  test('a clean model: nonFinite 0, no warning, progress up to every tile', async () => {
    const warnings: string[] = [];
    const progress: number[] = [];
    const s = await predict(options({ batchSize: 5, warn: (m) => warnings.push(m), onProgress: (p) => progress.push(p.done, p.total) }));
    assert.equal(s.nonFinite, 0);
    assert.deepEqual(warnings, []);
    const done = progress.filter((_, i) => i % 2 === 0);
    assert.equal(done.length, s.batches);
    assert.deepEqual(done, Array.from({ length: s.batches }, (_, b) => Math.min(s.tiles.computed, (b + 1) * 5)));
    assert.ok(progress.filter((_, i) => i % 2 === 1).every((t) => t === s.tiles.computed));
  });

  test('a model with a fixed batch size of 1: a warning, batches of 1', async () => {
    const fixed = scene.write('fixed.onnx', contractModels({ T: scene.T, C: scene.C, tile: 32 }).fixedBatch);
    const warnings: string[] = [];
    const s = await predict(options({ model: fixed, batchSize: 8, warn: (m) => warnings.push(m) }));
    assert.equal(s.batchSize, 1);
    assert.equal(s.batches, s.tiles.computed);
    assert.ok(warnings.some((w) => /fixes the batch size to 1/.test(w) && w.includes('--batch-size')), JSON.stringify(warnings));
  });

  test('a run aborted after two batches, in-thread and in the worker: AbortedError, no output, no temporary file', async () => {
    for (const worker of [false, true]) {
      const abort = new AbortController();
      const o = options({ batchSize: 1, worker, signal: abort.signal, onProgress: (p) => p.done === 2 && abort.abort() });
      await fails(o, AbortedError);
    }
  });

  test('an already aborted signal with the worker: AbortedError, nothing written', async () => {
    const abort = new AbortController();
    abort.abort();
    await fails(options({ signal: abort.signal, worker: true }), AbortedError);
  });
});
