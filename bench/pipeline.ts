/**
 * The pipeline against its floor. Seeded workload: a W x W UTM grid (10 m), 6 dynamic GeoTIFFs of
 * 11 uint16 bands (tiled 256, deflate, predictor 2, nodata 0 with cloud blobs), one static GeoTIFF
 * of 7 float32 bands (predictor 3), a region with a hole; tile 128, stride 64; models `heavy`,
 * `light` and `tiny` (scripts/models/bench.ts; tiny is one 1x1 convolution: the data path alone).
 *
 * Each run is its own process; runs are interleaved over `--rounds` and medians reported.
 *   1. per model and batch size: tiles/s end-to-end and model alone (the same session on as many
 *      batches of the same shape, right after, in the same process), their time ratio, the host
 *      cost per tile ((process CPU - model-alone CPU) / tiles), peak RSS next to --dry-run's
 *      estimate, blocks decoded vs the minimum. With `--baseline DIR` (a checkout of an earlier
 *      tilecast with node_modules) the same runs of that code are interleaved, for before/after.
 *   2. the tiny model at 0, 1, 2 and 4 stacking workers (`--workers`; 0 = the main thread);
 *   3. the light model at batch 16 over window shapes (`--shapes`, e.g. 2048x2048,16384x1024,8192x8192):
 *      peak RSS next to the estimate; inputs made by repeating the W x W scene, uncompressed;
 *   4. the light model with --classes and --report next to plain predict;
 *   5. the tiny model with the inputs read over HTTP (range requests, loopback) next to local files.
 *
 *   node --import tsx bench/pipeline.ts [--size 2048] [--models heavy,light,tiny] [--batches 1,16]
 *        [--rounds 3] [--workers 0,1,2,4] [--shapes 2048x2048,16384x1024,8192x8192] [--baseline DIR]
 *        [--dir DIR] [--json]
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { makeScene } from '../scripts/demo/scene.js';
import { heavyModel, lightModel, tinyModel } from '../scripts/models/bench.js';
import { openWorkerBackend } from '../src/infer/worker-backend.js';
import { predict, type PredictOptions } from '../src/pipeline/predict.js';
import { BlockCache } from '../src/raster/block-cache.js';
import { RasterSource } from '../src/raster/source.js';
import { createGeoTiffWriter } from '../src/write/writer.js';
import { startServer } from '../test/raster/http-server.js';
import { median } from './fixtures.js';

const { values } = parseArgs({
  options: {
    child: { type: 'string' },
    size: { type: 'string', default: '2048' },
    batches: { type: 'string', default: '1,16' },
    models: { type: 'string', default: 'heavy,light,tiny' },
    rounds: { type: 'string', default: '3' },
    workers: { type: 'string', default: '0,1,2,4' },
    shapes: { type: 'string', default: '2048x2048,16384x1024,8192x8192' },
    baseline: { type: 'string' },
    dir: { type: 'string' },
    json: { type: 'boolean' },
  },
});

interface Spec {
  dir: string;
  model: string;
  batchSize: number;
  workers?: number;
  outputs?: boolean;
  /** Read the scene's files from this URL prefix (an HTTP server over the scene's folder). */
  remote?: string;
}

interface ChildResult {
  tiles: number;
  e2eSeconds: number;
  modelSeconds: number;
  /** Process CPU seconds during predict, and during the model-alone run. */
  cpuSeconds: number;
  modelCoreS: number;
  peakRssMB: number;
  estimateMB?: number;
  blocksDecoded: number;
  blocksMinimum?: number;
  time: { read: number; infer: number; blend: number; write: number };
}

const SHAPE = [6, 18, 128, 128];

async function child(spec: Spec): Promise<ChildResult> {
  const scene = JSON.parse(readFileSync(join(spec.dir, 'scene.json'), 'utf8')) as { dynamic: string[]; static: string[]; region: string };
  const model = join(spec.dir, `${spec.model}.onnx`);
  const at = (p: string) => (spec.remote ? `${spec.remote}/${basename(p)}` : p);
  const backend = await openWorkerBackend(model);
  try {
    const options: PredictOptions = {
      model, backend, dynamic: scene.dynamic.map(at), static: scene.static.map(at), region: at(scene.region), tile: 128, stride: 64, batchSize: spec.batchSize,
      out: join(spec.dir, `out-${spec.model}-${spec.batchSize}-${process.pid}.tif`),
      ...(spec.workers !== undefined ? { workers: spec.workers } : {}),
      ...(spec.outputs ? { classes: join(spec.dir, `classes-${process.pid}.tif`), report: join(spec.dir, `report-${process.pid}.html`) } : {}),
    };
    const estimate = await predict({ ...options, dryRun: true });
    const cpu0 = process.cpuUsage();
    const s = await predict(options);
    const cpu = process.cpuUsage(cpu0);
    const peakRssMB = process.resourceUsage().maxRSS / 1024; // before the floor's own buffers
    for (const f of [options.out, options.classes, options.report]) if (f) rmSync(f, { force: true });
    // the floor: the same session, as many batches of the same shape, random input
    const N = spec.batchSize;
    let buf: Float32Array = Float32Array.from({ length: N * SHAPE.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i * 0.37));
    let out: Float32Array = new Float32Array(N * 4 * 128 * 128);
    const t = performance.now();
    const modelCpu0 = process.cpuUsage();
    for (let done = 0; done < s.tiles.computed; done += N) {
      const n = Math.min(N, s.tiles.computed - done);
      const r = await backend.run(buf, [n, ...SHAPE], out);
      buf = r.input;
      out = new Float32Array(r.output.buffer, r.output.byteOffset, N * 4 * 128 * 128);
    }
    const modelCpu = process.cpuUsage(modelCpu0);
    return {
      tiles: s.tiles.computed, e2eSeconds: s.seconds, modelSeconds: (performance.now() - t) / 1000,
      cpuSeconds: (cpu.user + cpu.system) / 1e6, modelCoreS: (modelCpu.user + modelCpu.system) / 1e6,
      peakRssMB, estimateMB: estimate.memory.total / 2 ** 20, blocksDecoded: s.blocksDecoded, blocksMinimum: s.blocksMinimum, time: s.time,
    };
  } finally {
    await backend.close();
  }
}

async function ensureScene(dir: string, size: number): Promise<void> {
  if (existsSync(join(dir, 'scene.json'))) return;
  mkdirSync(dir, { recursive: true });
  const scene = await makeScene({ dir, size, seed: 7 });
  writeFileSync(join(dir, 'heavy.onnx'), heavyModel());
  writeFileSync(join(dir, 'light.onnx'), lightModel());
  writeFileSync(join(dir, 'tiny.onnx'), tinyModel());
  writeFileSync(join(dir, 'scene.json'), JSON.stringify({ dynamic: scene.dynamic, static: scene.static, region: scene.region }));
}

/** A width x height scene made by repeating the pixels of the one in `from` (uncompressed, fast to write). */
async function ensureShape(from: string, dir: string, width: number, height: number): Promise<void> {
  if (existsSync(join(dir, 'scene.json'))) return;
  mkdirSync(dir, { recursive: true });
  const scene = JSON.parse(readFileSync(join(from, 'scene.json'), 'utf8')) as { dynamic: string[]; static: string[] };
  const files = [...scene.dynamic, ...scene.static];
  const out: string[] = [];
  for (const f of files) {
    const src = await RasterSource.open(f, { cache: new BlockCache({ budgetMB: 0 }) });
    const path = join(dir, f.split('/').pop()!);
    const w = await createGeoTiffWriter(path, {
      width, height, bandCount: src.bandCount, dataType: src.dataType, geoTransform: src.geoTransform, geoKeys: src.rawGeoKeys,
      nodata: src.nodata, blockSize: 256, compression: 'none',
    });
    const bs = 256;
    const { TYPED_ARRAY } = await import('../src/raster/types.js');
    const planes = Array.from({ length: src.bandCount }, () => new TYPED_ARRAY[src.dataType](width * bs));
    for (let row = 0; row * bs < height; row++) {
      const h = Math.min(bs, height - row * bs);
      const y = (row * bs) % src.height;
      const { data } = await src.readWindow({ x: 0, y, width: src.width, height: h }, { validity: false });
      for (let b = 0; b < src.bandCount; b++) {
        for (let r = 0; r < h; r++) for (let x = 0; x < width; x++) planes[b]![r * width + x] = data[b]![r * src.width + (x % src.width)]!;
      }
      await w.writeBlockRow(row, planes.map((p) => p.subarray(0, width * h)));
    }
    await w.close();
    await src.close();
    out.push(path);
  }
  // a region over most of the window (in the raster CRS)
  const x0 = 500000;
  const y0 = 5500000;
  const ring = [[x0 + 100, y0 - 100], [x0 + width * 10 - 100, y0 - 100], [x0 + width * 10 - 100, y0 - height * 10 + 100], [x0 + 100, y0 - height * 10 + 100], [x0 + 100, y0 - 100]];
  const region = join(dir, 'region.geojson');
  writeFileSync(region, JSON.stringify({ type: 'Polygon', coordinates: [ring], crs: { type: 'name', properties: { name: 'EPSG:32633' } } }));
  for (const m of ['light', 'tiny']) writeFileSync(join(dir, `${m}.onnx`), readFileSync(join(from, `${m}.onnx`)));
  writeFileSync(join(dir, 'scene.json'), JSON.stringify({ dynamic: out.slice(0, scene.dynamic.length), static: out.slice(scene.dynamic.length), region }));
}


if (values.child) {
  console.log(JSON.stringify(await child(JSON.parse(values.child))));
} else {
  const root = values.dir ?? join(tmpdir(), 'tilecast-bench-pipeline');
  const self = fileURLToPath(import.meta.url);
  const runChild = (code: string, spec: Spec): ChildResult => {
    const script = code === self ? self : join(code, 'bench', 'pipeline.ts');
    const out = execFileSync(process.execPath, ['--import', 'tsx', script, '--child', JSON.stringify(spec)], { encoding: 'utf8', maxBuffer: 1 << 26, cwd: code === self ? undefined : code });
    return JSON.parse(out.trim().split('\n').pop()!) as ChildResult;
  };
  const report: Record<string, unknown> = {};
  const say = (line: string) => {
    if (!values.json) console.log(line);
  };
  const row = (l: ChildResult[]) => {
    const tiles = l[0]!.tiles;
    return {
      tiles,
      e2eTilesPerS: +(tiles / median(l.map((x) => x.e2eSeconds))).toFixed(1),
      modelOnlyTilesPerS: +(tiles / median(l.map((x) => x.modelSeconds))).toFixed(1),
      ratio: +median(l.map((x) => x.e2eSeconds / x.modelSeconds)).toFixed(2),
      hostCoreMsPerTile: +median(l.map((x) => (1000 * (x.cpuSeconds - x.modelCoreS)) / x.tiles)).toFixed(1),
      processCpuS: +median(l.map((x) => x.cpuSeconds)).toFixed(1),
      modelCoreS: +median(l.map((x) => x.modelCoreS)).toFixed(1),
      peakRssMB: Math.round(median(l.map((x) => x.peakRssMB))),
      estimateMB: l[0]!.estimateMB === undefined ? null : Math.round(median(l.map((x) => x.estimateMB!))),
      waitRead: +median(l.map((x) => x.time.read)).toFixed(2),
      blocksDecoded: l[0]!.blocksDecoded,
      blocksMinimum: l[0]!.blocksMinimum ?? null,
    };
  };
  try {
    const size = Number(values.size);
    const dir = join(root, String(size));
    await ensureScene(dir, size);
    const models = values.models!.split(',');
    const batches = values.batches!.split(',').map(Number);
    const codes = [self, ...(values.baseline ? [values.baseline] : [])];
    const results = new Map<string, ChildResult[]>();
    for (let r = 0; r < Number(values.rounds); r++) {
      for (const m of models) {
        for (const b of batches) {
          for (const code of codes) {
            const key = `${code === self ? 'now' : 'before'}/${m}/${b}`;
            results.set(key, [...(results.get(key) ?? []), runChild(code, { dir, model: m, batchSize: b })]);
          }
        }
      }
    }
    const rows = [...results.entries()].map(([key, l]) => {
      const [code, model, batch] = key.split('/');
      return { code, model, batchSize: Number(batch), ...row(l) };
    });
    report.runs = rows;
    say(`pipeline bench: ${size} x ${size}, tile 128, stride 64, medians of ${values.rounds} interleaved rounds`);
    for (const r of rows) {
      say(`  ${r.code.padEnd(6)} ${r.model.padEnd(5)} batch ${String(r.batchSize).padStart(2)}: ${r.e2eTilesPerS} tiles/s end-to-end, ${r.modelOnlyTilesPerS} model alone, ratio ${r.ratio}; host ${r.hostCoreMsPerTile} core-ms/tile (process ${r.processCpuS} core-s, model alone ${r.modelCoreS}); waiting for input ${r.waitRead} s; peak RSS ${r.peakRssMB} MB${r.estimateMB !== null ? ` (estimate ${r.estimateMB} MB)` : ''}; blocks ${r.blocksDecoded}${r.blocksMinimum !== null ? ` (minimum ${r.blocksMinimum})` : ''}`);
    }

    const workerRows: Record<string, unknown>[] = [];
    for (const w of values.workers!.split(',').filter(Boolean).map(Number)) {
      const l = [runChild(self, { dir, model: 'tiny', batchSize: 16, workers: w })];
      workerRows.push({ workers: w, ...row(l) });
      say(`  tiny batch 16, ${w} stacking worker(s): ${row(l).e2eTilesPerS} tiles/s end-to-end; host ${row(l).hostCoreMsPerTile} core-ms/tile; peak RSS ${row(l).peakRssMB} MB`);
    }
    report.workers = workerRows;

    const plain = runChild(self, { dir, model: 'light', batchSize: 16 });
    const outputs = runChild(self, { dir, model: 'light', batchSize: 16, outputs: true });
    report.outputs = { plain: row([plain]), classesAndReport: row([outputs]) };
    say(`  light batch 16, plain: ${plain.e2eSeconds.toFixed(1)} s, peak RSS ${Math.round(plain.peakRssMB)} MB; with --classes --report: ${outputs.e2eSeconds.toFixed(1)} s, peak RSS ${Math.round(outputs.peakRssMB)} MB`);

    // the same inputs over HTTP range requests on loopback (the server runs in this process)
    const server = await startServer({ roots: { scene: dir } });
    try {
      const local = runChild(self, { dir, model: 'tiny', batchSize: 16 });
      // asynchronously: this process must go on serving while the child reads
      const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', self, '--child', JSON.stringify({ dir, model: 'tiny', batchSize: 16, remote: `${server.url}/scene` })], { encoding: 'utf8', maxBuffer: 1 << 26 });
      const remote = JSON.parse(stdout.trim().split('\n').pop()!) as ChildResult;
      report.remote = { local: row([local]), remote: row([remote]), requests: server.log.length };
      say(`  tiny batch 16, local inputs: ${local.e2eSeconds.toFixed(1)} s (waiting for input ${local.time.read.toFixed(1)} s); over HTTP on loopback: ${remote.e2eSeconds.toFixed(1)} s (waiting for input ${remote.time.read.toFixed(1)} s), ${server.log.length} requests, ${remote.blocksDecoded} blocks decoded`);
    } finally {
      await server.close();
    }

    const shapes: Record<string, unknown>[] = [];
    for (const s of values.shapes!.split(',').filter(Boolean)) {
      const [w, h] = s.split('x').map(Number) as [number, number];
      const d = join(root, `shape-${w}x${h}`);
      await ensureShape(dir, d, w, h);
      const r = runChild(self, { dir: d, model: 'light', batchSize: 16 });
      shapes.push({ width: w, height: h, tiles: r.tiles, peakRssMB: Math.round(r.peakRssMB), estimateMB: Math.round(r.estimateMB ?? 0), tilesPerS: +(r.tiles / r.e2eSeconds).toFixed(1) });
      say(`  light batch 16 at ${w} x ${h} (uncompressed inputs): peak RSS ${Math.round(r.peakRssMB)} MB, estimate ${Math.round(r.estimateMB ?? 0)} MB, ${r.tiles} tiles, ${(r.tiles / r.e2eSeconds).toFixed(1)} tiles/s`);
    }
    report.shapes = shapes;
    if (values.json) console.log(JSON.stringify(report));
  } finally {
    if (!values.dir) rmSync(root, { recursive: true, force: true });
  }
}
