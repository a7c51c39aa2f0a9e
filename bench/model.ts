/**
 * Model-only inference time per tile: heavy and light bench models, batch
 * sizes 1 and 16, in-thread session vs worker-thread session.
 *
 *   node --import tsx bench/model.ts [--runs 5] [--threads 0] [--batch 1,16] [--model heavy,light] [--device cpu] [--json]
 *
 * Each configuration: one warm-up batch, then `runs` timed batches with reused
 * (for the worker: transferred and handed back) buffers; the median (and the
 * minimum) is reported. The load average is printed: numbers taken on a busy
 * machine are not comparable.
 * Inputs come from a seeded PRNG so runs are comparable.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { heavyModel, lightModel } from '../scripts/models/bench.js';
import { gaussian, prng } from '../scripts/models/prng.js';
import type { Device, InferenceBackend } from '../src/infer/backend.js';
import { openOnnx } from '../src/infer/onnx.js';
import { openWorkerBackend } from '../src/infer/worker-backend.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    threads: { type: 'string', default: '0' },
    batch: { type: 'string', default: '1,16' },
    model: { type: 'string', default: 'heavy,light' },
    device: { type: 'string', default: 'cpu' },
    json: { type: 'boolean', default: false },
  },
});
const runs = Number(values.runs);
const threads = Number(values.threads);
const batches = values.batch.split(',').map(Number);
const models = values.model.split(',') as ('heavy' | 'light')[];
const device = values.device as Device;

const T = 6;
const C = 18;
const TILE = 128;
const SAMPLE = [T, C, TILE, TILE];
const SAMPLE_SIZE = T * C * TILE * TILE;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function measure(backend: InferenceBackend, n: number): Promise<number[]> {
  const normal = gaussian(prng(42));
  let input: Float32Array = new Float32Array(n * SAMPLE_SIZE);
  for (let i = 0; i < input.length; i++) input[i] = normal();
  let output: Float32Array = new Float32Array(n * 4 * TILE * TILE);
  const dims = [n, ...SAMPLE];
  ({ input, output } = await backend.run(input, dims, output));
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    ({ input, output } = await backend.run(input, dims, output));
    times.push((performance.now() - t0) / n);
  }
  return times;
}

const load = loadavg()[0]!;
if (!values.json) {
  console.log(`${cpus()[0]?.model ?? 'cpu'}, ${availableParallelism()} cores, load ${load.toFixed(1)}, threads ${threads || 'auto'}, device ${device}`);
  if (load > availableParallelism() / 2) console.log('warning: the machine is busy; timings are noisy');
}

const dir = mkdtempSync(join(tmpdir(), 'tilecast-bench-'));
const rows: { model: string; backend: string; batch: number; msPerTile: number; runs: number[] }[] = [];
try {
  for (const name of models) {
    const path = join(dir, `${name}.onnx`);
    writeFileSync(path, name === 'heavy' ? heavyModel() : lightModel());
    for (const kind of ['in-thread', 'worker'] as const) {
      const options = { device, threads, warn: (m: string) => console.error(`warning: ${m}`) };
      const backend = kind === 'worker' ? await openWorkerBackend(path, options) : await openOnnx(path, options);
      for (const n of batches) {
        const times = await measure(backend, n);
        rows.push({ model: name, backend: kind, batch: n, msPerTile: median(times), runs: times });
        if (!values.json) {
          const min = Math.min(...times);
          console.log(
            `${name.padEnd(6)} ${kind.padEnd(9)} batch ${String(n).padStart(2)}: ${median(times).toFixed(2).padStart(7)} ms/tile median of ${runs}, min ${min.toFixed(2)}`,
          );
        }
      }
      await backend.close();
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
if (values.json) {
  console.log(JSON.stringify({ cpu: cpus()[0]?.model, cores: availableParallelism(), load, threads, device, runs, rows }, null, 2));
}
