/**
 * Is predict limited by the model, and is its memory bounded? Seeded workload: a W x W UTM grid
 * (10 m), 6 dynamic GeoTIFFs of 11 uint16 bands (tiled 256, deflate, predictor 2, nodata 0 with
 * cloud blobs), one static GeoTIFF of 7 float32 bands (predictor 3), a region polygon with a hole;
 * tile 128, stride 64; models `heavy` and `light` (scripts/models/bench.ts).
 *
 * For each model and batch size: end-to-end tiles/s, model-only tiles/s (the same session on the
 * same number of random batches, right after, in the same process: the floor), their time ratio,
 * the time split, peak RSS and blocks decoded vs the minimum. Each run is its own process (peak
 * RSS is per run); runs are interleaved over `--rounds` and medians reported. Then the light model
 * at larger grids for peak RSS vs size.
 *
 *   node --import tsx bench/pipeline.ts [--size 2048] [--batches 1,8,16,32] [--rounds 3]
 *        [--rss-sizes 2048,4096,8192] [--json]
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { openWorkerBackend } from '../src/infer/worker-backend.js';
import { predict } from '../src/pipeline/predict.js';
import { makePlan } from '../src/plan/plan.js';
import { parseRegion, regionToPixels } from '../src/plan/region.js';
import { RasterSource } from '../src/raster/source.js';
import { makeScene } from '../scripts/demo/scene.js';
import { heavyModel, lightModel } from '../scripts/models/bench.js';

const { values } = parseArgs({
  options: {
    child: { type: 'string' },
    size: { type: 'string', default: '2048' },
    batches: { type: 'string', default: '1,8,16,32' },
    models: { type: 'string', default: 'heavy,light' },
    rounds: { type: 'string', default: '3' },
    'rss-sizes': { type: 'string', default: '2048,4096,8192' },
    dir: { type: 'string' },
    json: { type: 'boolean' },
  },
});

interface ChildResult {
  /** Core-seconds: the main thread's busy time (event-loop utilisation), the whole process's CPU during predict, and the model's CPU during the floor run. */
  mainCoreS: number;
  modelCoreS: number;
  tiles: number;
  e2eSeconds: number;
  modelSeconds: number;
  time: { read: number; infer: number; blend: number; write: number };
  cpuSeconds: number;
  peakRssMB: number;
  blocksDecoded: number;
  blocksMinimum: number;
}

/** Blocks the kept tiles touch, summed over inputs: what "decoded once" means. */
async function minimumBlocks(files: string[], regionFile: string): Promise<number> {
  const srcs = await Promise.all(files.map((f) => RasterSource.open(f)));
  const ref = srcs[0]!;
  const region = regionToPixels(parseRegion(readFileSync(regionFile, 'utf8'), regionFile), { rasterCrs: ref.crs!, geoTransform: ref.geoTransform! });
  const plan = makePlan({ width: ref.width, height: ref.height, geoTransform: ref.geoTransform!, region, tile: 128, stride: 64 });
  let total = 0;
  for (const s of srcs) {
    const touched = new Set<number>();
    for (const t of plan.tiles) {
      for (let by = Math.floor(Math.max(t.y, 0) / s.blockHeight); by <= Math.floor(Math.min(t.y + 127, s.height - 1) / s.blockHeight); by++) {
        for (let bx = Math.floor(Math.max(t.x, 0) / s.blockWidth); bx <= Math.floor(Math.min(t.x + 127, s.width - 1) / s.blockWidth); bx++) touched.add(by * s.blocksAcross + bx);
      }
    }
    total += touched.size * (s.planar === 2 ? s.bandCount : 1);
    await s.close();
  }
  return total;
}

async function child(spec: { dir: string; model: string; batchSize: number }): Promise<ChildResult> {
  const scene = JSON.parse(readFileSync(join(spec.dir, 'scene.json'), 'utf8')) as { dynamic: string[]; static: string[]; region: string };
  const backend = await openWorkerBackend(join(spec.dir, `${spec.model}.onnx`));
  try {
    const cpu0 = process.cpuUsage();
    const elu0 = performance.eventLoopUtilization();
    const s = await predict({ model: join(spec.dir, `${spec.model}.onnx`), backend, dynamic: scene.dynamic, static: scene.static, region: scene.region, out: join(spec.dir, `out-${spec.model}-${spec.batchSize}.tif`), tile: 128, stride: 64, batchSize: spec.batchSize });
    const cpu = process.cpuUsage(cpu0);
    const elu = performance.eventLoopUtilization(elu0);
    const peakRssMB = process.resourceUsage().maxRSS / 1024; // before the floor's own buffers
    // the floor: the same session, the same number of batches of the same shape, random input
    const N = spec.batchSize;
    const input = Float32Array.from({ length: N * 6 * 18 * 128 * 128 }, (_, i) => Math.sin(i * 0.37));
    let buf: Float32Array = input;
    let out: Float32Array = new Float32Array(N * 4 * 128 * 128);
    const t = performance.now();
    const modelCpu0 = process.cpuUsage();
    for (let done = 0; done < s.tiles.computed; done += N) {
      const n = Math.min(N, s.tiles.computed - done);
      const r = await backend.run(buf, [n, 6, 18, 128, 128], out);
      buf = r.input;
      out = new Float32Array(r.output.buffer, r.output.byteOffset, N * 4 * 128 * 128);
    }
    const modelSeconds = (performance.now() - t) / 1000;
    const modelCpu = process.cpuUsage(modelCpu0);
    return {
      mainCoreS: elu.active / 1000, modelCoreS: (modelCpu.user + modelCpu.system) / 1e6,
      tiles: s.tiles.computed, e2eSeconds: s.seconds, modelSeconds, time: s.time,
      cpuSeconds: (cpu.user + cpu.system) / 1e6, peakRssMB,
      blocksDecoded: s.blocksDecoded, blocksMinimum: await minimumBlocks([...scene.dynamic, ...scene.static], scene.region),
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
  writeFileSync(join(dir, 'scene.json'), JSON.stringify({ dynamic: scene.dynamic, static: scene.static, region: scene.region }));
}

const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;

if (values.child) {
  console.log(JSON.stringify(await child(JSON.parse(values.child))));
} else {
  const root = values.dir ?? join(tmpdir(), 'tilecast-bench-pipeline');
  const self = fileURLToPath(import.meta.url);
  const runChild = (dir: string, model: string, batchSize: number): ChildResult => {
    const out = execFileSync(process.execPath, ['--import', 'tsx', self, '--child', JSON.stringify({ dir, model, batchSize })], { encoding: 'utf8', maxBuffer: 1 << 26 });
    return JSON.parse(out.trim().split('\n').pop()!) as ChildResult;
  };
  const report: Record<string, unknown> = {};
  try {
    const size = Number(values.size);
    const dir = join(root, String(size));
    await ensureScene(dir, size);
    const models = values.models!.split(',');
    const batches = values.batches!.split(',').map(Number);
    const results = new Map<string, ChildResult[]>();
    for (let r = 0; r < Number(values.rounds); r++) {
      for (const m of models) {
        for (const b of batches) {
          const key = `${m}/${b}`;
          results.set(key, [...(results.get(key) ?? []), runChild(dir, m, b)]);
        }
      }
    }
    const rows = [...results.entries()].map(([key, l]) => {
      const [model, batch] = key.split('/');
      const e2e = median(l.map((x) => x.e2eSeconds));
      const floor = median(l.map((x) => x.modelSeconds));
      const tiles = l[0]!.tiles;
      return {
        model, batchSize: Number(batch), tiles,
        e2eTilesPerS: +(tiles / e2e).toFixed(1), modelOnlyTilesPerS: +(tiles / floor).toFixed(1),
        ratio: +(median(l.map((x) => x.e2eSeconds / x.modelSeconds))).toFixed(2),
        waitRead: +median(l.map((x) => x.time.read)).toFixed(2), waitInfer: +median(l.map((x) => x.time.infer)).toFixed(2),
        blend: +median(l.map((x) => x.time.blend)).toFixed(2), waitWrite: +median(l.map((x) => x.time.write)).toFixed(2),
        processCpuS: +median(l.map((x) => x.cpuSeconds)).toFixed(1),
        mainThreadCoreS: +median(l.map((x) => x.mainCoreS)).toFixed(1),
        modelCoreS: +median(l.map((x) => x.modelCoreS)).toFixed(1),
        peakRssMB: Math.round(median(l.map((x) => x.peakRssMB))),
        blocksDecoded: l[0]!.blocksDecoded, blocksMinimum: l[0]!.blocksMinimum,
      };
    });
    report.runs = rows;
    if (!values.json) {
      console.log(`pipeline bench: ${size} x ${size}, tile 128, stride 64, medians of ${values.rounds} interleaved rounds`);
      for (const r of rows) {
        console.log(`  ${r.model.padEnd(5)} batch ${String(r.batchSize).padStart(2)}: ${r.e2eTilesPerS} tiles/s end-to-end, ${r.modelOnlyTilesPerS} model-only, ratio ${r.ratio}; waiting read ${r.waitRead} s, infer ${r.waitInfer} s, blend ${r.blend} s, write ${r.waitWrite} s; core-seconds: process ${r.processCpuS}, main thread (read/stack/blend/write) ${r.mainThreadCoreS}, model alone ${r.modelCoreS}; peak RSS ${r.peakRssMB} MB; blocks ${r.blocksDecoded} (minimum ${r.blocksMinimum})`);
      }
    }
    const rss: { size: number; peakRssMB: number; tiles: number; e2eTilesPerS: number }[] = [];
    for (const s of values['rss-sizes']!.split(',').filter(Boolean).map(Number)) {
      const d = join(root, String(s));
      await ensureScene(d, s);
      const r = runChild(d, 'light', 16);
      rss.push({ size: s, peakRssMB: Math.round(r.peakRssMB), tiles: r.tiles, e2eTilesPerS: +(r.tiles / r.e2eSeconds).toFixed(1) });
      if (!values.json) console.log(`  light batch 16 at ${s} x ${s}: peak RSS ${Math.round(r.peakRssMB)} MB, ${r.tiles} tiles, ${(r.tiles / r.e2eSeconds).toFixed(1)} tiles/s`);
    }
    report.rss = rss;
    if (values.json) console.log(JSON.stringify(report));
  } finally {
    if (!values.dir) rmSync(root, { recursive: true, force: true });
  }
}
