/**
 * Write generated models to .onnx files.
 *
 *   node --import tsx scripts/models/cli.ts heavy out/heavy.onnx
 *   node --import tsx scripts/models/cli.ts light out/light.onnx
 *   node --import tsx scripts/models/cli.ts identity out/identity.onnx
 *   node --import tsx scripts/models/cli.ts demo out/demo.onnx spec.json
 *   node --import tsx scripts/models/cli.ts contract out/contract/
 *
 * spec.json for demo: {"classMeans": [[T·C numbers] per class], "norm": {"mean": [C], "std": [C]}, "sigma": 1, "T": 6, "C": 18}
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { heavyModel, lightModel } from './bench.js';
import { contractModels } from './contract.js';
import { demoModel } from './demo.js';
import { identityModel } from './identity.js';

function write(path: string, bytes: Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, bytes);
  console.log(`${path} (${bytes.length} bytes)`);
}

const [kind, out, spec] = process.argv.slice(2);
if (kind === undefined || out === undefined) {
  console.error('usage: cli.ts heavy|light|identity|demo|contract OUT [demo-spec.json]');
  process.exit(2);
}
switch (kind) {
  case 'heavy':
    write(out, heavyModel());
    break;
  case 'light':
    write(out, lightModel());
    break;
  case 'identity':
    write(out, identityModel());
    break;
  case 'demo': {
    if (spec === undefined) {
      console.error('demo needs a spec.json: {"classMeans": [[…]], "norm": {"mean": […], "std": […]}}');
      process.exit(2);
    }
    const s = JSON.parse(readFileSync(spec, 'utf8')) as {
      classMeans: number[][];
      norm: { mean: number[]; std: number[] };
      sigma?: number;
      T?: number;
      C?: number;
    };
    const { classMeans, ...options } = s;
    write(out, demoModel(classMeans, options));
    break;
  }
  case 'contract':
    for (const [name, bytes] of Object.entries(contractModels())) write(join(out, `${name}.onnx`), bytes);
    break;
  default:
    console.error(`unknown model '${kind}'`);
    process.exit(2);
}
