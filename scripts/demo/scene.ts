/**
 * A deterministic synthetic scene for the demo and benchmarks: a 4-class ground-truth map
 * (water, forest, crop, urban) on a UTM grid, 6 dynamic GeoTIFFs of 11 uint16 bands whose values
 * follow each class's seasonal profile plus noise (with cloud blobs as nodata 0), one static
 * GeoTIFF of 7 float32 bands, and a region polygon with a hole in EPSG:4326.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import proj4 from 'proj4';
import { crsFromEpsg } from '../../src/raster/crs.js';
import type { GeoTransform } from '../../src/raster/types.js';
import { createGeoTiffWriter } from '../../src/write/writer.js';
import { gaussian, prng } from '../models/prng.js';

export const CLASSES = ['water', 'forest', 'crop', 'urban'] as const;
export const T = 6;
export const DYNAMIC_BANDS = 11;
export const STATIC_BANDS = 7;
export const C = DYNAMIC_BANDS + STATIC_BANDS;

export interface SceneOptions {
  /** Folder to write into. */
  dir: string;
  /** Width and height in pixels. Default 1024. */
  size?: number;
  /** EPSG code of the UTM grid. Default 32633 (UTM 33N). */
  epsg?: number;
  /** Pixel size in metres. Default 10. */
  pixel?: number;
  /** Noise standard deviation relative to the class contrast. Default 0.35. */
  noise?: number;
  /** Cloud blobs (nodata) per time step. Default 3. */
  clouds?: number;
  seed?: number;
}

export interface Scene {
  dynamic: string[];
  static: string[];
  region: string;
  truth: string;
  /** Ground truth class per pixel, row-major. */
  labels: Uint8Array;
  size: number;
  geoTransform: GeoTransform;
  epsg: number;
  /** Per-channel normalisation of the inputs (C entries). */
  norm: { mean: number[]; std: number[] };
  /** Class means over the T·C channels (t-major), normalised: what the demo model needs. */
  classMeans: number[][];
}

/** Class k's mean value of dynamic band b at time step t (reflectance-like, 0..10000). */
function dynamicMean(k: number, b: number, t: number): number {
  const season = Math.sin((Math.PI * (t + 0.5)) / T); // low in winter, peak mid-year
  const nir = b >= 6 && b <= 8; // red-edge / NIR bands respond to vegetation
  switch (k) {
    case 0: return 600 + 80 * b - (nir ? 350 : 0); // water: dark, darker in NIR
    case 1: return 900 + 60 * b + (nir ? 2600 + 600 * season : 0); // forest: steady NIR
    case 2: return 1200 + 50 * b + (nir ? 800 + 3200 * season : 400 * (1 - season)); // crop: strong season
    default: return 2200 + 90 * b + (nir ? 300 : 0); // urban: bright, flat
  }
}

/** Class k's mean value of static band s (elevation, slope, ...). */
function staticMean(k: number, s: number): number {
  const base = [[120, 1, 0.9, 0.1, 5, 0.2, 0.0], [420, 12, 0.1, 0.8, 40, 0.6, 0.1], [260, 3, 0.2, 0.5, 20, 0.4, 0.2], [220, 2, 0.1, 0.2, 10, 0.9, 0.9]];
  return base[k]![s]!;
}
const STATIC_SPREAD = [60, 4, 0.15, 0.15, 8, 0.15, 0.15];

/** A smooth value-noise field in [0, 1), deterministic. */
function smoothField(size: number, cells: number, rand: () => number): Float32Array {
  const g = cells + 2;
  const grid = Float32Array.from({ length: g * g }, () => rand());
  const out = new Float32Array(size * size);
  for (let y = 0; y < size; y++) {
    const fy = (y / size) * cells;
    const iy = Math.floor(fy);
    const ty = fy - iy;
    for (let x = 0; x < size; x++) {
      const fx = (x / size) * cells;
      const ix = Math.floor(fx);
      const tx = fx - ix;
      const sx = tx * tx * (3 - 2 * tx);
      const sy = ty * ty * (3 - 2 * ty);
      const a = grid[iy * g + ix]! * (1 - sx) + grid[iy * g + ix + 1]! * sx;
      const b = grid[(iy + 1) * g + ix]! * (1 - sx) + grid[(iy + 1) * g + ix + 1]! * sx;
      out[y * size + x] = a * (1 - sy) + b * sy;
    }
  }
  return out;
}

/** The ground truth: a river and lakes (water), a town (urban), a grid of fields (crop), forest elsewhere. */
function groundTruth(size: number, rand: () => number): Uint8Array {
  const terrain = smoothField(size, 6, rand);
  const labels = new Uint8Array(size * size).fill(1);
  const fieldSize = Math.max(16, Math.round(size / 16));
  const fieldOn = Array.from({ length: 256 }, () => rand() < 0.55);
  const cx = size * 0.68;
  const cy = size * 0.3;
  for (let y = 0; y < size; y++) {
    const river = size * (0.45 + 0.12 * Math.sin((y / size) * 2 * Math.PI * 1.3));
    for (let x = 0; x < size; x++) {
      const i = y * size + x;
      const h = terrain[i]!;
      if (Math.abs(x - river) < size * 0.018 + 6 * h || h < 0.18) labels[i] = 0;
      else if (Math.hypot(x - cx, (y - cy) * 1.3) < size * 0.12 * (0.8 + 0.4 * h)) labels[i] = 3;
      else if (h > 0.35 && h < 0.7 && fieldOn[((Math.floor(y / fieldSize) * 16 + Math.floor(x / fieldSize)) % 256)]!) labels[i] = 2;
    }
  }
  return labels;
}

export async function makeScene(options: SceneOptions): Promise<Scene> {
  const size = options.size ?? 1024;
  const epsg = options.epsg ?? 32633;
  const pixel = options.pixel ?? 10;
  const noise = options.noise ?? 0.35;
  const seed = options.seed ?? 2026;
  const rand = prng(seed);
  // standard normal samples from a table indexed by an LCG: deterministic, and fast enough for
  // the benchmark's 8192 x 8192 scenes (Box–Muller per sample is ~10x slower)
  const table = Float32Array.from({ length: 1 << 16 }, gaussian(prng(seed + 1)));
  let lcg = seed >>> 0;
  const normal = () => {
    lcg = (Math.imul(lcg, 1664525) + 1013904223) >>> 0;
    return table[lcg >>> 16]!;
  };
  mkdirSync(options.dir, { recursive: true });
  const crs = crsFromEpsg(epsg);
  const geoTransform: GeoTransform = [500000, pixel, 0, 5500000, 0, -pixel];
  const labels = groundTruth(size, rand);

  // normalisation: the mean and spread of each channel over the classes plus the noise
  const dynNoise = Array.from({ length: DYNAMIC_BANDS }, (_, b) => noise * 600 * (1 + b / 10));
  const statNoise = STATIC_SPREAD.map((s) => noise * s);
  const mean: number[] = [];
  const std: number[] = [];
  const channelMean = (f: (k: number) => number, sd: number) => {
    const m = CLASSES.reduce((a, _, k) => a + f(k), 0) / CLASSES.length;
    const v = CLASSES.reduce((a, _, k) => a + (f(k) - m) ** 2, 0) / CLASSES.length;
    mean.push(+m.toFixed(3));
    std.push(+Math.sqrt(v + sd * sd).toFixed(3));
  };
  for (let b = 0; b < DYNAMIC_BANDS; b++) channelMean((k) => (dynamicMean(k, b, 0) + dynamicMean(k, b, 3)) / 2, dynNoise[b]!);
  for (let s = 0; s < STATIC_BANDS; s++) channelMean((k) => staticMean(k, s), statNoise[s]!);
  const classMeans = CLASSES.map((_, k) => {
    const mu: number[] = [];
    for (let t = 0; t < T; t++) {
      for (let b = 0; b < DYNAMIC_BANDS; b++) mu.push((dynamicMean(k, b, t) - mean[b]!) / std[b]!);
      for (let s = 0; s < STATIC_BANDS; s++) mu.push((staticMean(k, s) - mean[DYNAMIC_BANDS + s]!) / std[DYNAMIC_BANDS + s]!);
    }
    return mu;
  });

  const block = 256;
  const common = { width: size, height: size, geoTransform, crs, blockSize: block, compression: 'deflate' as const };
  const dynamic: string[] = [];
  for (let t = 0; t < T; t++) {
    const file = join(options.dir, `s2_t${t}.tif`);
    const clouds = Array.from({ length: options.clouds ?? 3 }, () => [rand() * size, rand() * size, size * (0.02 + 0.05 * rand())] as const);
    const w = await createGeoTiffWriter(file, { ...common, bandCount: DYNAMIC_BANDS, dataType: 'uint16', nodata: 0, bandDescriptions: Array.from({ length: DYNAMIC_BANDS }, (_, b) => `B${b + 1}`) });
    try {
      for (let row = 0; row * block < size; row++) {
        const h = Math.min(block, size - row * block);
        const planes = Array.from({ length: DYNAMIC_BANDS }, () => new Uint16Array(size * h));
        for (let y = 0; y < h; y++) {
          const gy = row * block + y;
          for (let x = 0; x < size; x++) {
            const k = labels[gy * size + x]!;
            const cloudy = clouds.some(([cx, cy, r]) => Math.hypot(x - cx, gy - cy) < r);
            for (let b = 0; b < DYNAMIC_BANDS; b++) {
              const v = dynamicMean(k, b, t) + dynNoise[b]! * normal();
              planes[b]![y * size + x] = cloudy ? 0 : Math.min(65535, Math.max(1, Math.round(v)));
            }
          }
        }
        await w.writeBlockRow(row, planes);
      }
      await w.close();
    } catch (err) {
      await w.abort();
      throw err;
    }
    dynamic.push(file);
  }

  const staticFile = join(options.dir, 'terrain.tif');
  const names = ['elevation', 'slope', 'wetness', 'canopy', 'roughness', 'albedo', 'imperviousness'];
  const sw = await createGeoTiffWriter(staticFile, { ...common, bandCount: STATIC_BANDS, dataType: 'float32', nodata: null, bandDescriptions: names });
  for (let row = 0; row * block < size; row++) {
    const h = Math.min(block, size - row * block);
    const planes = Array.from({ length: STATIC_BANDS }, () => new Float32Array(size * h));
    for (let i = 0; i < size * h; i++) {
      const k = labels[row * block * size + i]!;
      for (let s = 0; s < STATIC_BANDS; s++) planes[s]![i] = staticMean(k, s) + statNoise[s]! * normal();
    }
    await sw.writeBlockRow(row, planes);
  }
  await sw.close();

  const truth = join(options.dir, 'truth.tif');
  const tw = await createGeoTiffWriter(truth, { ...common, bandCount: 1, dataType: 'uint8', nodata: null, bandDescriptions: ['class (0 water, 1 forest, 2 crop, 3 urban)'] });
  for (let row = 0; row * block < size; row++) {
    await tw.writeBlockRow(row, [labels.subarray(row * block * size, Math.min(size, (row + 1) * block) * size)]);
  }
  await tw.close();

  // region: a polygon over ~70% of the grid with a square hole, as lon/lat (RFC 7946)
  const toLonLat = proj4(crs.proj4, 'EPSG:4326');
  const px = (c: number, r: number) => {
    const [lon, lat] = toLonLat.forward([geoTransform[0] + c * pixel, geoTransform[3] - r * pixel]);
    return [+lon!.toFixed(8), +lat!.toFixed(8)];
  };
  const s = size;
  const outer = [[0.04, 0.06], [0.9, 0.02], [0.97, 0.5], [0.88, 0.95], [0.1, 0.97], [0.02, 0.55], [0.04, 0.06]].map(([c, r]) => px(c! * s, r! * s));
  const hole = [[0.55, 0.55], [0.55, 0.7], [0.7, 0.7], [0.7, 0.55], [0.55, 0.55]].map(([c, r]) => px(c! * s, r! * s));
  const region = join(options.dir, 'region.geojson');
  writeFileSync(region, JSON.stringify({ type: 'FeatureCollection', features: [{ type: 'Feature', properties: { name: 'demo region' }, geometry: { type: 'Polygon', coordinates: [outer, hole] } }] }, null, 1));

  return { dynamic, static: [staticFile], region, truth, labels, size, geoTransform, epsg, norm: { mean, std }, classMeans };
}
