/**
 * predict over inputs, model and region given as http:// URLs, served by a real HTTP server with
 * Range support: the output has the bytes of the local run, also when the server fails some
 * requests (the failed ones are retried), and each input block is still decoded once.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { InputError } from '../../src/errors.js';
import { predict, type PredictOptions } from '../../src/pipeline/predict.js';
import { startServer, type TestServer } from '../raster/http-server.js';
import { makeScene, utmPolygon, type Scene, writeDemoModel } from './fixtures.js';

let scene: Scene;
let local: PredictOptions;
let dirs = 0;

before(async () => {
  scene = await makeScene({ width: 200, height: 160, T: 2, seed: 61 });
  const model = writeDemoModel(scene, 4);
  const region = scene.write('region.geojson', JSON.stringify(utmPolygon([[[5.5, 4.5], [190.2, 10.7], [170.3, 150.1], [8.8, 140.4], [5.5, 4.5]]])));
  local = { model, dynamic: scene.dynamic, static: scene.static, region, regionCrs: 'EPSG:32633', tile: 32, stride: 16, batchSize: 8, blockSize: 32, worker: false };
});

after(() => scene.cleanup());

function out(): string {
  const d = join(scene.dir, `remote-${dirs++}`);
  mkdirSync(d);
  return join(d, 'out.tif');
}

async function served(server: TestServer, o: PredictOptions): Promise<PredictOptions> {
  const url = (f: string) => `${server.url}/scene/${f.split('/').pop()}`;
  return { ...o, model: url(o.model), dynamic: o.dynamic.map(url), static: (o.static ?? []).map(url), region: url(o.region as string) };
}

describe('remote inputs', () => {
  test('inputs, model and region from a server give the bytes of a local run, each block decoded once', async () => {
    const server = await startServer({ roots: { scene: scene.dir } });
    try {
      const want = out();
      const a = await predict({ ...local, out: want });
      for (const workers of [0, 2]) {
        const got = out();
        const b = await predict({ ...(await served(server, local)), out: got, workers });
        assert.ok(readFileSync(got).equals(readFileSync(want)), `${workers} workers: the output differs from the local run`);
        assert.equal(b.blocksDecoded, a.blocksDecoded);
        assert.equal(b.blocksDecoded, b.blocksMinimum);
      }
      assert.ok(server.log.some((l) => l.range !== null), 'range requests were made');
    } finally {
      await server.close();
    }
  });

  test('a server that fails one request in five (503) and delays others: retried, same bytes', async () => {
    let failed = 0;
    const server = await startServer({
      roots: { scene: scene.dir },
      fault: (req, i) => (req.range !== null && i % 5 === 2 ? (failed++, { status: 503 }) : null),
    });
    try {
      const want = out();
      await predict({ ...local, out: want });
      const got = out();
      await predict({ ...(await served(server, local)), out: got, workers: 0 });
      assert.ok(failed > 0, 'some requests failed');
      assert.ok(readFileSync(got).equals(readFileSync(want)));
    } finally {
      await server.close();
    }
  });

  test('a missing input on the server: one InputError naming the URL, nothing written', async () => {
    const server = await startServer({ roots: { scene: scene.dir } });
    try {
      const o = await served(server, local);
      const missing = `${server.url}/scene/no-such.tif`;
      await assert.rejects(predict({ ...o, dynamic: [o.dynamic[0]!, missing], out: out() }), (e: unknown) => e instanceof InputError && e.message.includes(missing) && /not found \(HTTP 404/.test(e.message));
    } finally {
      await server.close();
    }
  });
});
