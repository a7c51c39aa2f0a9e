/**
 * npm run demo: make the synthetic scene and the demo model, run predict over the region (class
 * probabilities, a class map with its colour table, and an HTML run report), and report how well
 * the argmax of the predicted probabilities agrees with the ground truth.
 * Everything is written to ./demo-output (or the folder given as the first argument).
 */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { predict } from '../src/index.js';
import { RasterSource } from '../src/raster/source.js';
import { demoModel } from './models/demo.js';
import { CLASSES, C, T, makeScene } from './demo/scene.js';

const dir = resolve(process.argv[2] ?? 'demo-output');
const batchSize = Number(process.env.DEMO_BATCH_SIZE ?? 16);
console.log(`demo: writing the synthetic scene to ${dir}`);
const scene = await makeScene({ dir });
const model = join(dir, 'demo-model.onnx');
writeFileSync(model, demoModel(scene.classMeans, { T, C, norm: scene.norm }));
const out = join(dir, 'prediction.tif');
const classes = join(dir, 'classes.tif');
const report = join(dir, 'report.html');

console.log(`demo: tilecast predict --model ${model} --dynamic ${scene.dynamic.map((f) => f.replace(`${dir}/`, '')).join(' ')} --static terrain.tif --region region.geojson --tile 128 --stride 64 --batch-size ${batchSize} --band-names ${CLASSES.join(',')} --out prediction.tif --classes classes.tif --report report.html`);
const summary = await predict({
  model, dynamic: scene.dynamic, static: scene.static, region: scene.region, out,
  classes, report, tile: 128, stride: 64, batchSize, bandNames: [...CLASSES],
  onProgress: (p) => { if (p.done === p.total || p.done % (batchSize * 8) === 0) process.stdout.write(`  ${p.done}/${p.total} tiles\n`); },
  warn: (m) => console.warn(`warning: ${m}`),
});

// agreement of argmax(probabilities) with the ground truth, over the predicted pixels
const src = await RasterSource.open(out);
const { data } = await src.readWindow({ x: 0, y: 0, width: src.width, height: src.height });
await src.close();
const w = summary.window;
let agree = 0;
let n = 0;
const confusion = CLASSES.map(() => CLASSES.map(() => 0));
for (let y = 0; y < w.height; y++) {
  for (let x = 0; x < w.width; x++) {
    const i = y * w.width + x;
    if (Number.isNaN(data[0]![i])) continue; // outside the region
    let best = 0;
    for (let k = 1; k < CLASSES.length; k++) if (data[k]![i]! > data[best]![i]!) best = k;
    const truth = scene.labels[(w.y + y) * scene.size + (w.x + x)]!;
    confusion[truth]![best]!++;
    n++;
    if (best === truth) agree++;
  }
}
const t = summary.time;
console.log(`demo: wrote ${out} (${w.width} x ${w.height} px, ${summary.outBands} probability bands: ${CLASSES.join(', ')}), the class map ${classes} and the run report ${report}`);
console.log(`demo: ${summary.tiles.computed} tiles computed, ${summary.tiles.skipped} skipped, ${summary.seconds.toFixed(1)} s, ${summary.tilesPerSecond.toFixed(1)} tiles/s (batch size ${summary.batchSize}); waiting: read ${t.read.toFixed(1)} s, infer ${t.infer.toFixed(1)} s, blend ${t.blend.toFixed(1)} s, write ${t.write.toFixed(1)} s`);
console.log(`demo: class agreement with the ground truth: ${((100 * agree) / n).toFixed(2)} % of ${n} pixels in the region`);
console.log(`demo: confusion (rows = truth, columns = predicted; ${CLASSES.join(', ')}):`);
for (const [k, row] of confusion.entries()) console.log(`  ${CLASSES[k]!.padEnd(7)} ${row.map((v) => String(v).padStart(8)).join('')}`);
console.log(`demo: open ${report} in a browser, ${classes} in QGIS, or: gdalinfo ${out}`);
if (agree / n < 0.9) {
  console.error('demo: agreement below 90 %: something is wrong');
  process.exitCode = 1;
}
