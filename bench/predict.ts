/**
 * predict on the demo scene (1024 x 1024, 6 x 11 + 7 channels, tile 128, stride 64) for batch
 * sizes 1, 8, 16, 32, each in its own process so peak RSS is per run; the batch sizes are run
 * in rotation `--rounds` times and medians are reported. Usage: bench/predict.ts [--rounds 3] [--json]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { predict } from '../src/pipeline/predict.js';
import { makeScene, C, T } from '../scripts/demo/scene.js';
import { demoModel } from '../scripts/models/demo.js';
import { median } from './fixtures.js';

const { values } = parseArgs({ options: { child: { type: 'string' }, rounds: { type: 'string', default: '3' }, json: { type: 'boolean' }, batches: { type: 'string', default: '1,8,16,32' } } });

if (values.child) {
  const { dir, batchSize } = JSON.parse(values.child) as { dir: string; batchSize: number };
  const scene = JSON.parse((await import('node:fs')).readFileSync(join(dir, 'scene.json'), 'utf8'));
  const s = await predict({ model: join(dir, 'model.onnx'), dynamic: scene.dynamic, static: scene.static, region: scene.region, out: join(dir, `out-${batchSize}.tif`), tile: 128, stride: 64, batchSize });
  console.log(JSON.stringify({ tilesPerSecond: s.tilesPerSecond, seconds: s.seconds, tiles: s.tiles.computed, time: s.time, blocksDecoded: s.blocksDecoded, peakRssMB: process.resourceUsage().maxRSS / 1024 }));
} else {
  const dir = mkdtempSync(join(tmpdir(), 'tilecast-bench-predict-'));
  try {
    const scene = await makeScene({ dir });
    writeFileSync(join(dir, 'model.onnx'), demoModel(scene.classMeans, { T, C, norm: scene.norm }));
    writeFileSync(join(dir, 'scene.json'), JSON.stringify({ dynamic: scene.dynamic, static: scene.static, region: scene.region }));
    const batches = values.batches!.split(',').map(Number);
    const runs = new Map<number, { tilesPerSecond: number; peakRssMB: number; time: Record<string, number>; blocksDecoded: number; tiles: number }[]>();
    const self = fileURLToPath(import.meta.url);
    for (let r = 0; r < Number(values.rounds); r++) {
      for (const b of batches) {
        const out = execFileSync(process.execPath, ['--import', 'tsx', self, '--child', JSON.stringify({ dir, batchSize: b })], { encoding: 'utf8' });
        const list = runs.get(b) ?? [];
        list.push(JSON.parse(out.trim().split('\n').pop()!));
        runs.set(b, list);
      }
    }
    const rows = batches.map((b) => {
      const l = runs.get(b)!;
      return { batchSize: b, tilesPerSecond: +median(l.map((x) => x.tilesPerSecond)).toFixed(2), peakRssMB: Math.round(median(l.map((x) => x.peakRssMB))), tiles: l[0]!.tiles, blocksDecoded: l[0]!.blocksDecoded, inferSeconds: +median(l.map((x) => x.time.infer!)).toFixed(2), readWaitSeconds: +median(l.map((x) => x.time.read!)).toFixed(2) };
    });
    if (values.json) console.log(JSON.stringify(rows));
    else for (const r of rows) console.log(`predict demo scene: batch ${String(r.batchSize).padStart(2)}: ${r.tilesPerSecond} tiles/s (median of ${values.rounds}), peak RSS ${r.peakRssMB} MB, ${r.tiles} tiles, ${r.blocksDecoded} blocks decoded, infer ${r.inferSeconds} s, read wait ${r.readWaitSeconds} s`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
