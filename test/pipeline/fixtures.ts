/**
 * Seeded fixtures for the predict tests: a small scene on UTM 33N (10 m pixels) with T dynamic
 * uint16 files (nodata 0) and one float32 static file (a few NaN), regions built from pixel
 * coordinates, models written to the scene folder, and helpers to read outputs back.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import proj4 from 'proj4';
import { demoModel } from '../../scripts/models/demo.js';
import { gaussian, prng } from '../../scripts/models/prng.js';
import { crsFromEpsg } from '../../src/raster/crs.js';
import { RasterSource } from '../../src/raster/source.js';
import type { DataType, GeoTransform } from '../../src/raster/types.js';
import { createGeoTiffWriter } from '../../src/write/writer.js';
import type { TypedArray } from '../../src/write/writer.js';

export const CRS = crsFromEpsg(32633);
export const PIXEL = 10;
export const X0 = 440000;
export const Y0 = 5330000;

export interface SceneOptions {
  /** Width in pixels. Default 300. */
  width?: number;
  /** Height in pixels. Default 220. */
  height?: number;
  /** Time steps (dynamic files). Default 3. */
  T?: number;
  /** Bands per dynamic file. Default 3. */
  dynamicBands?: number;
  /** Block size of the input files. Default 64. */
  blockSize?: number;
  /** Share of dynamic pixels set to nodata 0. Default 0.03. */
  nodataShare?: number;
  seed?: number;
}

export interface Scene {
  dir: string;
  width: number;
  height: number;
  geoTransform: GeoTransform;
  T: number;
  dynamicBands: number;
  staticBands: number;
  /** Channels per time step: dynamic bands, then static bands. */
  C: number;
  dynamic: string[];
  static: string[];
  /** The pixels as written: dynamicData[t][band], staticData[band]; row-major width × height. */
  dynamicData: Float32Array[][];
  staticData: Float32Array[];
  /** Per-channel normalisation that brings the inputs near mean 0, std 1 (C entries). */
  norm: { mean: number[]; std: number[] };
  /** Channel (t, c) of the model input, as written (t-major: dynamic bands then static). */
  channel(t: number, c: number): Float32Array;
  /** Whether the channel's value at pixel i is valid (not nodata 0, not NaN). */
  isValid(c: number, value: number): boolean;
  /** Write a file into the scene folder; returns its path. */
  write(name: string, bytes: Uint8Array | string): string;
  cleanup(): void;
}

/** Value noise in [0, 1): smooth, deterministic. */
function smooth(width: number, height: number, cell: number, rand: () => number): Float32Array {
  const gx = Math.ceil(width / cell) + 2;
  const gy = Math.ceil(height / cell) + 2;
  const grid = Float32Array.from({ length: gx * gy }, () => rand());
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    const fy = y / cell;
    const iy = Math.floor(fy);
    const ty = fy - iy;
    const sy = ty * ty * (3 - 2 * ty);
    for (let x = 0; x < width; x++) {
      const fx = x / cell;
      const ix = Math.floor(fx);
      const tx = fx - ix;
      const sx = tx * tx * (3 - 2 * tx);
      const a = grid[iy * gx + ix]! * (1 - sx) + grid[iy * gx + ix + 1]! * sx;
      const b = grid[(iy + 1) * gx + ix]! * (1 - sx) + grid[(iy + 1) * gx + ix + 1]! * sx;
      out[y * width + x] = a * (1 - sy) + b * sy;
    }
  }
  return out;
}

export interface RasterSpec {
  width: number;
  height: number;
  dataType: DataType;
  bands: TypedArray[];
  geoTransform: GeoTransform;
  nodata: number | null;
  blockSize: number;
}

/** Write a whole raster with the streaming writer, one block row at a time. */
export async function writeRaster(path: string, spec: RasterSpec): Promise<void> {
  const { width, height, blockSize } = spec;
  const w = await createGeoTiffWriter(path, {
    width, height, bandCount: spec.bands.length, dataType: spec.dataType, geoTransform: spec.geoTransform,
    crs: CRS, nodata: spec.nodata, blockSize, compression: 'deflate',
  });
  try {
    for (let row = 0; row * blockSize < height; row++) {
      const y0 = row * blockSize;
      const y1 = Math.min(height, y0 + blockSize);
      await w.writeBlockRow(row, spec.bands.map((b) => b.subarray(y0 * width, y1 * width)));
    }
    await w.close();
  } catch (err) {
    await w.abort();
    throw err;
  }
}

/** Build the scene in a new temp folder. */
export async function makeScene(options: SceneOptions = {}): Promise<Scene> {
  const width = options.width ?? 300;
  const height = options.height ?? 220;
  const T = options.T ?? 3;
  const dynamicBands = options.dynamicBands ?? 3;
  const blockSize = options.blockSize ?? 64;
  const nodataShare = options.nodataShare ?? 0.03;
  const seed = options.seed ?? 7;
  const rand = prng(seed);
  const normal = gaussian(prng(seed + 1));
  const dir = mkdtempSync(join(tmpdir(), 'tilecast-predict-'));
  const geoTransform: GeoTransform = [X0, PIXEL, 0, Y0, 0, -PIXEL];
  const n = width * height;

  const dynamicData: Float32Array[][] = [];
  const dynamic: string[] = [];
  for (let t = 0; t < T; t++) {
    const bands: Uint16Array[] = [];
    const planes: Float32Array[] = [];
    for (let b = 0; b < dynamicBands; b++) {
      const field = smooth(width, height, 23 + 7 * b, rand);
      const u = new Uint16Array(n);
      for (let i = 0; i < n; i++) {
        u[i] = rand() < nodataShare ? 0 : Math.max(1, Math.round(500 + 4000 * field[i]! + 300 * t + 150 * normal()));
      }
      bands.push(u);
      planes.push(Float32Array.from(u));
    }
    const file = join(dir, `t${t}.tif`);
    await writeRaster(file, { width, height, dataType: 'uint16', bands, geoTransform, nodata: 0, blockSize });
    dynamic.push(file);
    dynamicData.push(planes);
  }

  const elevation = smooth(width, height, 41, rand);
  const dem = new Float32Array(n);
  for (let i = 0; i < n; i++) dem[i] = rand() < 0.005 ? Number.NaN : 100 + 800 * elevation[i]! + 5 * normal();
  const staticFile = join(dir, 'dem.tif');
  await writeRaster(staticFile, { width, height, dataType: 'float32', bands: [dem], geoTransform, nodata: null, blockSize });

  const C = dynamicBands + 1;
  const norm = {
    mean: [...Array.from({ length: dynamicBands }, (_, b) => 2700 + 100 * b), 500],
    std: [...Array.from({ length: dynamicBands }, (_, b) => 1100 + 50 * b), 230],
  };
  return {
    dir, width, height, geoTransform, T, dynamicBands, staticBands: 1, C,
    dynamic, static: [staticFile], dynamicData, staticData: [dem], norm,
    channel: (t, c) => (c < dynamicBands ? dynamicData[t]![c]! : dem),
    isValid: (c, v) => !Number.isNaN(v) && (c >= dynamicBands || v !== 0),
    write: (name, bytes) => {
      const path = join(dir, name);
      writeFileSync(path, bytes);
      return path;
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A ring in pixel coordinates ([col, row], (0, 0) = top-left corner of the raster); closed or not. */
/** The demo model with `classes` seeded random class means over the scene's channels, written as demo.onnx; its path. */
export function writeDemoModel(scene: Scene, seed: number, classes = 3): string {
  const normal = gaussian(prng(seed));
  const classMeans = Array.from({ length: classes }, () => Array.from({ length: scene.T * scene.C }, () => normal()));
  return scene.write('demo.onnx', demoModel(classMeans, { T: scene.T, C: scene.C, norm: scene.norm }));
}

export type PxRing = [number, number][];
/** A polygon in pixel coordinates: outer ring, then holes. */
export type PxPolygon = PxRing[];

function closed(ring: PxRing): PxRing {
  const a = ring[0]!;
  const b = ring[ring.length - 1]!;
  return a[0] === b[0] && a[1] === b[1] ? ring : [...ring, a];
}

/** Pixel coordinates → UTM 33N metres. */
export function pxToUtm([c, r]: [number, number]): [number, number] {
  return [X0 + c * PIXEL, Y0 - r * PIXEL];
}

const toLonLat = proj4(CRS.proj4, 'EPSG:4326');

/** Pixel coordinates → longitude, latitude. */
export function pxToLonLat(p: [number, number]): [number, number] {
  const out = toLonLat.forward(pxToUtm(p)) as number[];
  return [out[0]!, out[1]!];
}

/** A GeoJSON Polygon (UTM coordinates: use with regionCrs 'EPSG:32633'). */
export function utmPolygon(polygon: PxPolygon): object {
  return { type: 'Polygon', coordinates: polygon.map((r) => closed(r).map(pxToUtm)) };
}

/** A GeoJSON MultiPolygon in UTM coordinates. */
export function utmMultiPolygon(polygons: PxPolygon[]): object {
  return { type: 'MultiPolygon', coordinates: polygons.map((p) => p.map((r) => closed(r).map(pxToUtm))) };
}

/** A GeoJSON Feature with a Polygon in longitude/latitude (RFC 7946). */
export function lonLatFeature(polygon: PxPolygon): object {
  return { type: 'Feature', properties: {}, geometry: { type: 'Polygon', coordinates: polygon.map((r) => closed(r).map(pxToLonLat)) } };
}

/** A pixel-space rectangle from (x0, y0) to (x1, y1). */
export function rect(x0: number, y0: number, x1: number, y1: number): PxRing {
  return [[x0, y0], [x1, y0], [x1, y1], [x0, y1]];
}

export interface Output {
  width: number;
  height: number;
  geoTransform: GeoTransform | null;
  epsg: number | null;
  nodata: number | null;
  bandDescriptions: (string | null)[];
  bands: Float32Array[];
}

/** Read a whole output file with tilecast's reader. */
export async function readOutput(path: string): Promise<Output> {
  const src = await RasterSource.open(path);
  try {
    const { data } = await src.readWindow({ x: 0, y: 0, width: src.width, height: src.height });
    return {
      width: src.width, height: src.height, geoTransform: src.geoTransform, epsg: src.crs?.epsg ?? null,
      nodata: src.nodata, bandDescriptions: src.bandDescriptions, bands: data,
    };
  } finally {
    await src.close();
  }
}

/** Files in a folder whose name marks a writer's temporary file. */
export function tempFiles(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.includes('tilecast-tmp'));
}

/** First index where two float32 arrays differ bitwise (NaN payloads aside: NaN equals NaN), or -1. */
export function firstDifference(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x !== y && !(Number.isNaN(x) && Number.isNaN(y))) return i;
    if (x === 0 && y === 0 && Object.is(x, -0) !== Object.is(y, -0)) return i;
  }
  return -1;
}
