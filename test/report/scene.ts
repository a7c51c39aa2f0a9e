/**
 * A small synthetic run for the report tests: a 3-band input GeoTIFF, a region, the tile grid,
 * seeded class probabilities inside the region, and the class map, its quicklook and its areas
 * made block row by block row as the pipeline makes them.
 */
import { join } from 'node:path';
import { argmaxRows } from '../../src/write/classes.js';
import { defaultPalette } from '../../src/write/palette.js';
import { createGeoTiffWriter } from '../../src/write/writer.js';
import { ClassAreas } from '../../src/report/areas.js';
import { QuicklookBuilder } from '../../src/report/quicklook.js';
import type { ReportData } from '../../src/report/report.js';
import { readQuicklook } from '../../src/report/quicklook.js';
import { RasterSource } from '../../src/raster/source.js';
import { prng } from '../write/fixtures.js';

export const SCENE = { width: 640, height: 480, blockSize: 128, classes: 4, tile: 128, stride: 64, maxSide: 200, nodata: -9999 } as const;
export const GT = [500000, 10, 0, 4000000, 0, -10] as const;
export const CRS = { epsg: 32633, proj4: '+proj=utm +zone=33 +datum=WGS84 +units=m +no_defs' };
export const REGION: [number, number][] = [
  [100, 60],
  [560, 40],
  [600, 300],
  [330, 450],
  [60, 330],
  [100, 60],
];

/** Pixel centre (x + 0.5, y + 0.5) inside the region ring (even-odd rule). */
export function inside(x: number, y: number): boolean {
  const px = x + 0.5;
  const py = y + 0.5;
  let odd = false;
  for (let i = 0, j = REGION.length - 1; i < REGION.length; j = i++) {
    const [xi, yi] = REGION[i]!;
    const [xj, yj] = REGION[j]!;
    if (yi > py !== yj > py && px < ((xj - xi) * (py - yi)) / (yj - yi) + xi) odd = !odd;
  }
  return odd;
}

/** Three smooth bands with noise and a few nodata pixels, band-sequential. */
export function inputBands(seed: number): Float32Array {
  const { width: W, height: H, nodata } = SCENE;
  const rnd = prng(seed);
  const out = new Float32Array(3 * W * H);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const i = y * W + x;
      out[i] = 1000 + 800 * Math.sin(x / 60) * Math.cos(y / 45) + 50 * rnd();
      out[W * H + i] = 500 + x + 100 * rnd();
      out[2 * W * H + i] = rnd() < 0.01 ? nodata : 300 + y * 2 + 100 * rnd();
    }
  }
  return out;
}

export async function writeInput(dir: string, seed: number): Promise<{ file: string; bands: Float32Array }> {
  const file = join(dir, 'input.tif');
  const bands = inputBands(seed);
  const { width: W, height: H, blockSize } = SCENE;
  const w = await createGeoTiffWriter(file, { width: W, height: H, bandCount: 3, geoTransform: GT, crs: CRS, nodata: SCENE.nodata, blockSize });
  for (let r = 0; r * blockSize < H; r++) {
    const h = Math.min(blockSize, H - r * blockSize);
    const rows = new Float32Array(3 * W * h);
    for (let b = 0; b < 3; b++) rows.set(bands.subarray(b * W * H + r * blockSize * W, b * W * H + (r * blockSize + h) * W), b * W * h);
    await w.writeBlockRow(r, rows);
  }
  await w.close();
  return { file, bands };
}

/** Tile origins along an axis: 0, s, 2s, … with the last one snapped to n − T. */
function origins(n: number, t: number, s: number): number[] {
  const out: number[] = [];
  for (let o = 0; o + t < n; o += s) out.push(o);
  out.push(Math.max(0, n - t));
  return [...new Set(out)];
}

/** Class probabilities of one block row (band-sequential), NaN outside the region. */
function probabilityRows(rnd: () => number, y0: number, h: number): Float32Array {
  const { width: W, classes: K } = SCENE;
  const out = new Float32Array(K * W * h);
  for (let r = 0; r < h; r++) {
    const y = y0 + r;
    for (let x = 0; x < W; x++) {
      const i = r * W + x;
      const raw = [Math.sin(x / 50) + 1, Math.cos(y / 40) + 1, x / W + y / 480, 0.8 + 0.2 * rnd()];
      const sum = raw.reduce((a, b) => a + b, 0);
      for (let k = 0; k < K; k++) out[k * W * h + i] = inside(x, y) ? raw[k]! / sum : NaN;
    }
  }
  return out;
}

export interface SceneRun {
  data: ReportData;
  /** Class of every pixel (255 outside). */
  classes: Uint8Array;
  areas: ClassAreas;
}

/** The whole synthetic run: class map block rows, its quicklook and areas, the report data. */
export async function buildScene(dir: string, seed: number): Promise<SceneRun> {
  const { width: W, height: H, blockSize: B, classes: K, tile, stride, maxSide } = SCENE;
  const { file } = await writeInput(dir, seed);
  const rnd = prng(seed + 1);
  const areas = new ClassAreas(K, GT, CRS);
  const look = new QuicklookBuilder(W, H, 1, 255, maxSide);
  const classes = new Uint8Array(W * H);
  for (let y0 = 0; y0 < H; y0 += B) {
    const h = Math.min(B, H - y0);
    const { classes: c } = argmaxRows(probabilityRows(rnd, y0, h), K, W * h, NaN, false);
    areas.add(y0, W, h, c);
    look.addRows(y0, h, [c]);
    classes.set(c, y0 * W);
  }
  const src = await RasterSource.open(file);
  const inputLook = await readQuicklook(src, [0, 1, 2], maxSide);
  await src.close();
  const computed: { x: number; y: number }[] = [];
  const skipped: { x: number; y: number }[] = [];
  for (const ty of origins(H, tile, stride)) {
    for (const tx of origins(W, tile, stride)) {
      let touches = false;
      for (let y = ty; y < ty + tile && !touches; y += 4) for (let x = tx; x < tx + tile && !touches; x += 4) touches = inside(x, y);
      (touches ? computed : skipped).push({ x: tx, y: ty });
    }
  }
  const data: ReportData = {
    title: 'tilecast run <test> & "quotes"',
    subtitle: 'finished 2026-01-01T00:00:00Z',
    output: { kind: 'classes', quicklook: look.result(), names: ['water', 'forest <script>alert(1)</script>', '', 'crop & grass'], colors: defaultPalette(K), areas },
    input: { name: 'bands 1-3 of input.tif', quicklook: inputLook, region: [REGION], tiles: { size: tile, computed, skipped } },
    statistics: [
      { channel: 'red', file: 'input.tif', band: 1, mean: 1000.5, std: 400.25, min: 150, max: 1850, invalidPercent: 0 },
      { channel: 'nir', file: 'input.tif', band: 2, mean: 820, std: 190, min: 500, max: 1240, invalidPercent: 0 },
      { channel: 'swir', file: 'input.tif', band: 3, mean: 780, std: 280, min: 300, max: 1360, invalidPercent: 1.02, warning: 'mean differs from the model’s norm by 3.1 σ <check --norm>' },
    ],
    timing: {
      phases: [
        { name: 'read', seconds: 1.25 },
        { name: 'infer', seconds: 3.5 },
        { name: 'blend + write', seconds: 0.75 },
      ],
      totalSeconds: 4.2,
      tiles: computed.length,
    },
    provenance: [
      ['tilecast', '0.1.0'],
      ['model', 'model.onnx (sha256 0123abcd)'],
      ['command', "tilecast predict --classes out.tif --band-names 'a,b' --report r.html"],
    ],
  };
  return { data, classes, areas };
}
