/**
 * The pipelined run: read-ahead is bounded by the queue depth, the model never gets two batches
 * at once, results do not depend on the overlap, and a failing stage stops the run cleanly.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readdirSync, readFileSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { identityModel } from '../../scripts/models/identity.js';
import { InputError, ModelError, TilecastError } from '../../src/errors.js';
import type { InferenceBackend, ModelInfo, RunResult } from '../../src/infer/backend.js';
import { SMALL_RUN, stackingThreads } from '../../src/pipeline/options.js';
import { predict, type PredictOptions } from '../../src/pipeline/predict.js';
import { RasterSource } from '../../src/raster/source.js';
import { REPO_ROOT } from '../helpers/env.js';
import { makeScene, rect, utmPolygon, type Scene } from './fixtures.js';

let scene: Scene;
let model: string;
let dirs = 0;
before(async () => {
  scene = await makeScene({ width: 160, height: 150, T: 2, seed: 11 });
  model = scene.write('identity.onnx', identityModel({ T: scene.T, C: scene.C, channels: [[0, 0], [0, 1]] }));
});
after(() => scene.cleanup());

const region = () => utmPolygon([rect(2.5, 3.5, 157.2, 146.8)]);
function options(extra: Partial<PredictOptions> = {}): PredictOptions & { dir: string } {
  const dir = join(scene.dir, `pipe-${dirs++}`);
  mkdirSync(dir);
  return { model, dynamic: scene.dynamic, static: scene.static, region: region(), regionCrs: 'EPSG:32633', out: join(dir, 'out.tif'), tile: 32, stride: 16, batchSize: 4, dir, ...extra };
}

/**
 * A backend that answers as the identity model does (output band k = input channel (0, k)) after a
 * delay, records every call, and fails on a chosen batch.
 */
class FakeBackend implements InferenceBackend {
  readonly info: ModelInfo;
  calls: number[][] = [];
  running = 0;
  maxRunning = 0;
  constructor(private readonly delayMs: number, private readonly failAt = -1) {
    this.info = {
      path: 'fake.onnx', device: 'cpu', props: {},
      inputs: [{ name: 'x', type: 'float32', shape: ['N', scene.T, scene.C, 32, 32] }],
      outputs: [{ name: 'y', type: 'float32', shape: ['N', 2, 32, 32] }],
    };
  }
  async run(input: Float32Array, dims: readonly number[], output?: Float32Array): Promise<RunResult> {
    this.calls.push([...dims]);
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    try {
      await new Promise((r) => setTimeout(r, this.delayMs));
      if (this.calls.length - 1 === this.failAt) throw new ModelError(`fake.onnx: inference failed on batch ${this.failAt}`);
      const [n, T, C, H, W] = dims as [number, number, number, number, number];
      const out = output && output.length >= n * 2 * H * W ? output.subarray(0, n * 2 * H * W) : new Float32Array(n * 2 * H * W);
      for (let i = 0; i < n; i++) for (let k = 0; k < 2; k++) out.set(input.subarray(i * T * C * H * W + k * H * W, i * T * C * H * W + (k + 1) * H * W), (i * 2 + k) * H * W);
      return { input, output: out, dims: [n, 2, H, W] };
    } finally {
      this.running--;
    }
  }
  async close(): Promise<void> {}
}

describe('pipelined run', () => {
  for (const depth of [1, 3]) {
    test(`batches read ahead never exceed --queue-depth ${depth}, and the model runs one batch at a time`, async () => {
      const fake = new FakeBackend(15); // slow model: reading runs as far ahead as it may
      let inFlight = 0;
      let maxInFlight = 0;
      const s = await predict(options({
        backend: fake, queueDepth: depth,
        trace: (e) => {
          if (e === 'read-start') maxInFlight = Math.max(maxInFlight, ++inFlight);
          if (e === 'infer-start') inFlight--;
        },
      }));
      assert.ok(s.batches >= 6, `enough batches to fill the queue (${s.batches})`);
      assert.equal(maxInFlight, depth, 'read-ahead reaches the queue depth and never passes it');
      assert.equal(fake.maxRunning, 1);
      assert.equal(fake.calls.length, s.batches);
      assert.deepEqual(fake.calls.slice(0, -1).map((d) => d[0]), new Array(s.batches - 1).fill(4));
    });
  }

  test('a fake backend, the in-thread model and the worker give the same file at queue depths 1 and 4', async () => {
    const a = options({ backend: new FakeBackend(0), queueDepth: 1, norm: { mean: new Array(scene.C).fill(0), std: new Array(scene.C).fill(1) } });
    const b = options({ worker: false, queueDepth: 4, norm: a.norm! });
    const c = options({ queueDepth: 1, batchSize: 7, norm: a.norm! });
    await predict(a);
    await predict(b);
    await predict(c);
    const bytes = [a, b, c].map((o) => readFileSync(o.out!));
    assert.ok(bytes[0]!.equals(bytes[1]!), 'fake vs in-thread');
    assert.ok(bytes[1]!.equals(bytes[2]!), 'in-thread vs worker');
  });

  test('the same bytes for 0, 1, 2 and 4 stacking workers, batch sizes 1, 3 and 16, queue depths 1 and 3; each block decoded once', async () => {
    const base = options({ workers: 0, batchSize: 16, queueDepth: 1, worker: false });
    const first = await predict(base);
    assert.equal(first.blocksDecoded, first.blocksMinimum);
    const want = readFileSync(base.out!);
    // pairwise: every value of each option meets every value of the others at least once
    for (const [workers, batchSize, queueDepth] of [[1, 1, 1], [1, 3, 3], [2, 16, 3], [2, 1, 1], [4, 3, 1], [4, 16, 3], [2, 3, 1], [1, 16, 1]] as const) {
      const o = options({ workers, batchSize, queueDepth, worker: false });
      const s = await predict(o);
      assert.equal(s.workers, workers);
      assert.equal(s.blocksDecoded, s.blocksMinimum, `${workers} workers: each block decoded once`);
      assert.ok(readFileSync(o.out!).equals(want), `${workers} workers, batch ${batchSize}, depth ${queueDepth}: the output differs`);
    }
  });

  test('an input block that cannot be decoded in a stacking worker fails the run with its InputError', async () => {
    const damaged = join(scene.dir, 'damaged-pool.tif');
    const bytes = readFileSync(scene.dynamic[1]!);
    // garble the middle of the file (block data, not the header): some block fails to inflate
    for (let i = Math.floor(bytes.length / 2); i < Math.floor(bytes.length / 2) + 4096; i++) bytes[i] = (bytes[i]! * 7 + 13) & 0xff;
    writeFileSync(damaged, bytes);
    const o = options({ dynamic: [scene.dynamic[0]!, damaged], workers: 2, worker: false });
    await assert.rejects(predict(o), (e: unknown) => e instanceof InputError && e.message.includes('damaged-pool.tif'));
    assert.deepEqual(readdirSync(o.dir), []);
  });

  test('an inference error mid-run stops the run: ModelError, nothing at --out, no read left running', async () => {
    const fake = new FakeBackend(5, 3);
    const o = options({ backend: fake });
    await assert.rejects(predict(o), (e: unknown) => e instanceof ModelError && /batch 3/.test(e.message));
    assert.deepEqual(readdirSync(o.dir), []);
    assert.equal(fake.calls.length, 4, 'no batch is sent after the failure');
  });

  test('a damaged input block mid-run: InputError naming the file, nothing at --out; the CLI exits 1 (no worker left)', async () => {
    // copy the first dynamic file and point one late block's offset past the end of the file
    const damaged = join(scene.dir, 'damaged.tif');
    writeFileSync(damaged, readFileSync(scene.dynamic[0]!));
    const src = await RasterSource.open(damaged);
    const last = src.blocksAcross * src.blocksDown * (src.planar === 2 ? src.bandCount : 1) - 1;
    await src.close();
    const bytes = readFileSync(damaged);
    // find the TileOffsets array: tag 324, LONG or LONG8; rewrite the entry of the last block
    const le = bytes.toString('latin1', 0, 2) === 'II';
    const big = (le ? bytes.readUInt16LE(2) : bytes.readUInt16BE(2)) === 43;
    assert.ok(le && !big, 'fixture is a little-endian classic TIFF');
    const ifd = bytes.readUInt32LE(4);
    const count = bytes.readUInt16LE(ifd);
    let patched = false;
    for (let i = 0; i < count; i++) {
      const e = ifd + 2 + i * 12;
      if (bytes.readUInt16LE(e) === 324) {
        const at = bytes.readUInt32LE(e + 8) + last * 4;
        const fd = openSync(damaged, 'r+');
        const b = Buffer.alloc(4);
        b.writeUInt32LE(bytes.length + 1000);
        writeSync(fd, b, 0, 4, at);
        closeSync(fd);
        patched = true;
      }
    }
    assert.ok(patched);
    const dynamic = [damaged, ...scene.dynamic.slice(1)];
    const o = options({ dynamic, worker: false });
    await assert.rejects(predict(o), (e: unknown) => e instanceof InputError && e.message.includes('damaged.tif') && /past the end/.test(e.message));
    assert.deepEqual(readdirSync(o.dir), []);

    // the same through the CLI with the worker: one error line, exit 1, the process ends
    const dir = join(scene.dir, 'cli-damaged');
    mkdirSync(dir);
    const regionFile = scene.write('pipe-region.geojson', JSON.stringify(region()));
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src', 'cli', 'main.ts'), 'predict', '--model', model, '--dynamic', ...dynamic, '--static', ...scene.static, '--region', regionFile, '--region-crs', 'EPSG:32633', '--tile', '32', '--out', join(dir, 'out.tif'), '--quiet'], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.signal, null, 'the process ended by itself');
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /^tilecast: error: .*damaged\.tif: block \d+ .* past the end of the file/m);
    assert.equal(existsSync(join(dir, 'out.tif')), false);
    assert.deepEqual(readdirSync(dir), []);
  });

  test('errors from the pipeline are TilecastErrors, never internal errors', async () => {
    const o = options({ backend: new FakeBackend(0, 0) });
    await assert.rejects(predict(o), (e: unknown) => e instanceof TilecastError);
  });
});

test('default stacking threads: one per core, none for a small run or for a CPU model on 2 cores or fewer', () => {
  const big = SMALL_RUN + 1;
  assert.equal(stackingThreads(undefined, big, 'cpu', 16), 16);
  assert.equal(stackingThreads(undefined, big, 'cuda', 16), 16);
  assert.equal(stackingThreads(undefined, big, 'cpu', 2), 0);
  assert.equal(stackingThreads(undefined, big, 'cuda', 2), 2, 'a GPU model leaves the cores to the data path');
  assert.equal(stackingThreads(undefined, SMALL_RUN, 'cuda', 16), 0);
  assert.equal(stackingThreads(3, SMALL_RUN, 'cpu', 2), 3, '--workers wins');
});
