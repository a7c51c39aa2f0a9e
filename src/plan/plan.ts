/**
 * The plan: which window of the raster to predict, which tiles to run, how the output is blocked.
 *
 * - Window: the pixel-space bounding box of the region (floor of the minimum, ceil of the
 *   maximum), clipped to the raster.
 * - Tile origins along each axis, relative to the window: 0, s, 2s, … while the tile fits, and a
 *   last one snapped to end at the window edge (W − T). An axis shorter than a tile gets one tile
 *   at the window origin; it sticks out of the window (and maybe the raster): the reader returns
 *   invalid pixels there and the output is cropped to the window.
 * - Tiles without a region pixel (centre rule, see RegionMask) are dropped.
 * - Tiles are listed in row-major order (y, then x): the order in which they are blended.
 *
 * The plan is a plain value: JSON.stringify / JSON.parse round-trip it unchanged.
 */
import { RegionError } from '../errors.js';
import { checkGrid } from '../options.js';
import { RegionMask } from '../raster/mask.js';
import type { GeoTransform, PixelWindow } from '../raster/types.js';
import { polygonBounds, type Polygon } from './geometry.js';
import { pixelToCrs } from './geotransform.js';

/** A tile: its top-left pixel in raster coordinates; the tile is `plan.tile` pixels square. */
export interface PlannedTile {
  x: number;
  y: number;
}

/** One row of output blocks of a chunk. */
export interface BlockRow {
  /** First raster row of the block row. */
  y: number;
  /** Rows in this block row (the last one may be shorter than the block size). */
  height: number;
  /**
   * Position in the chunk's tile list of the last tile that starts above the end of this block
   * row; once it has been blended the block row is final. -1 when no tile touches it.
   */
  readyAfter: number;
}

/** The output's block grid over the window. */
export interface BlockLayout {
  /** Block width and height in pixels. */
  size: number;
  /** Blocks per block row. */
  across: number;
  /** Block rows. */
  down: number;
}

/**
 * A chunk: a rectangle of the output, aligned to output blocks, computed from every tile that
 * touches it (in plan order) and blended into its own pixels only, so that its blocks are final
 * when its last tile is blended. Every pixel receives the same terms in the same order whatever
 * the chunk size: the output does not depend on it.
 */
export interface PlanChunk {
  /** Position in the chunk grid, row-major. */
  index: number;
  /** The chunk's pixels, in raster coordinates (inside the window). */
  x: number;
  y: number;
  width: number;
  height: number;
  /** Its first output block column and row. */
  blockCol: number;
  blockRow: number;
  /** Indices into `plan.tiles` of the tiles that touch the chunk, in plan order. */
  tiles: number[];
  /** Its block rows, and after which of its tiles each is final. */
  rows: BlockRow[];
}

/** The chunk grid over the window. */
export interface ChunkLayout {
  /** Chunk side in pixels (a multiple of the block size; the last chunks may be smaller). */
  size: number;
  across: number;
  down: number;
  list: PlanChunk[];
  /** Tile computations over all chunks: tiles on chunk borders count once per chunk they touch. */
  computations: number;
}

export interface Plan {
  /** Raster size in pixels. */
  raster: { width: number; height: number };
  /** The raster's geotransform. */
  geoTransform: GeoTransform;
  /** The output window in raster pixels. */
  window: PixelWindow;
  /** Geotransform of the output (the window's top-left corner as origin). */
  outputGeoTransform: GeoTransform;
  /** Tile size T (square). */
  tile: number;
  /** Stride s between tile origins. */
  stride: number;
  /** Kept tiles, row-major. */
  tiles: PlannedTile[];
  counts: {
    /** Tiles on the grid before dropping. */
    total: number;
    /** Tiles kept (touch the region). */
    kept: number;
    /** Tiles dropped (no region pixel). */
    skipped: number;
    /** Region pixels in the window. */
    regionPixels: number;
  };
  /** Output block grid. */
  blocks: BlockLayout;
  /** Chunk grid. */
  chunks: ChunkLayout;
  /** The region in raster pixel coordinates. */
  region: Polygon[];
}

export interface PlanInput {
  /** Raster width in pixels. */
  width: number;
  /** Raster height in pixels. */
  height: number;
  /** The raster's geotransform (for messages and the output geotransform). */
  geoTransform: GeoTransform;
  /** The region in raster pixel coordinates (from `regionToPixels`). */
  region: Polygon[];
  /** Tile size T in pixels (`--tile`). */
  tile: number;
  /** Stride s in pixels, 0 < s <= T (`--stride`). Default T / 2 rounded down (at least 1). */
  stride?: number;
  /** Output block size in pixels (`--block-size`), a positive multiple of 16. Default 256. */
  blockSize?: number;
  /** The region file, named in errors. */
  regionFile?: string;
  /**
   * Chunk side in pixels (`--chunk`), a multiple of the block size. Default: DEFAULT_CHUNK rounded
   * down to a multiple of the block size (at least one block).
   */
  chunkSize?: number;
}

export const DEFAULT_BLOCK_SIZE = 256;
export const DEFAULT_CHUNK = 2048;

/** Tile origins along one axis of length n (relative to the window start). */
export function axisOrigins(n: number, tile: number, stride: number): number[] {
  if (n <= tile) return [0];
  const out: number[] = [];
  for (let o = 0; o < n - tile; o += stride) out.push(o);
  out.push(n - tile);
  return out;
}

export function makePlan(input: PlanInput): Plan {
  const { width, height, geoTransform, region } = input;
  const { tile, stride, blockSize, chunk } = checkGrid({ tile: input.tile, stride: input.stride, blockSize: input.blockSize ?? DEFAULT_BLOCK_SIZE, chunk: input.chunkSize });
  const chunkSize = chunk ?? Math.max(blockSize, DEFAULT_CHUNK - (DEFAULT_CHUNK % blockSize));
  const file = input.regionFile ?? 'region';

  const bounds = polygonBounds(region);
  if (bounds === null) throw new RegionError(`${file}: the region has no polygon`, { file });
  const x0 = Math.max(0, Math.floor(bounds.minX));
  const y0 = Math.max(0, Math.floor(bounds.minY));
  const x1 = Math.min(width, Math.ceil(bounds.maxX));
  const y1 = Math.min(height, Math.ceil(bounds.maxY));
  if (x1 <= x0 || y1 <= y0) {
    throw new RegionError(
      `${file}: the region does not overlap the raster: in the raster CRS the region spans ${extent(geoTransform, bounds.minX, bounds.minY, bounds.maxX, bounds.maxY)}, ` +
        `the raster ${extent(geoTransform, 0, 0, width, height)}. Check the region's coordinates (GeoJSON is longitude, latitude per RFC 7946) and --region-crs`,
      { file },
    );
  }
  const window: PixelWindow = { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
  const mask = new RegionMask(region, window);

  const xs = axisOrigins(window.width, tile, stride);
  const ys = axisOrigins(window.height, tile, stride);
  const tiles: PlannedTile[] = [];
  const columns = new Uint8Array(window.width);
  const prefix = new Int32Array(window.width + 1);
  for (const oy of ys) {
    const y = window.y + oy;
    mask.bandColumns(y, y + tile, columns);
    for (let c = 0; c < window.width; c++) prefix[c + 1] = prefix[c]! + columns[c]!;
    for (const ox of xs) {
      const end = Math.min(ox + tile, window.width);
      if (prefix[end]! - prefix[ox]! > 0) tiles.push({ x: window.x + ox, y });
    }
  }
  const regionPixels = mask.count(window);
  if (tiles.length === 0 || regionPixels === 0) {
    throw new RegionError(
      `${file}: the region overlaps the raster (pixels x ${x0}..${x1}, y ${y0}..${y1}) but contains no pixel centre: it is smaller than a pixel or lies between pixel centres; enlarge the region`,
      { file },
    );
  }

  return {
    raster: { width, height },
    geoTransform: [...geoTransform] as unknown as GeoTransform,
    window,
    outputGeoTransform: outputGeoTransform(geoTransform, window),
    tile,
    stride,
    tiles,
    counts: { total: xs.length * ys.length, kept: tiles.length, skipped: xs.length * ys.length - tiles.length, regionPixels },
    blocks: { size: blockSize, across: Math.ceil(window.width / blockSize), down: Math.ceil(window.height / blockSize) },
    chunks: chunkLayout(window, tiles, tile, chunkSize, blockSize),
    region,
  };
}

/** The chunk grid over the window, each chunk with the tiles that touch it. */
function chunkLayout(window: PixelWindow, tiles: readonly PlannedTile[], tile: number, size: number, blockSize: number): ChunkLayout {
  const across = Math.ceil(window.width / size);
  const down = Math.ceil(window.height / size);
  // tiles are row-major: index the first tile of each tile row
  const rowStarts: number[] = [];
  for (let i = 0; i < tiles.length; i++) if (i === 0 || tiles[i]!.y !== tiles[i - 1]!.y) rowStarts.push(i);
  rowStarts.push(tiles.length);
  const list: PlanChunk[] = [];
  let computations = 0;
  for (let j = 0; j < down; j++) {
    for (let i = 0; i < across; i++) {
      const x = window.x + i * size;
      const y = window.y + j * size;
      const rect = { x, y, width: Math.min(size, window.x + window.width - x), height: Math.min(size, window.y + window.height - y) };
      const mine: number[] = [];
      for (let r = 0; r + 1 < rowStarts.length; r++) {
        const ty = tiles[rowStarts[r]!]!.y;
        if (ty >= rect.y + rect.height) break;
        if (ty + tile <= rect.y) continue;
        for (let k = rowStarts[r]!; k < rowStarts[r + 1]!; k++) {
          const tx = tiles[k]!.x;
          if (tx < rect.x + rect.width && tx + tile > rect.x) mine.push(k);
        }
      }
      computations += mine.length;
      list.push({
        index: list.length, ...rect, blockCol: i * (size / blockSize), blockRow: j * (size / blockSize), tiles: mine,
        rows: blockRows(rect, mine.map((k) => tiles[k]!), blockSize),
      });
    }
  }
  return { size, across, down, list, computations };
}

function extent(gt: GeoTransform, c0: number, r0: number, c1: number, r1: number): string {
  const corners = [pixelToCrs(gt, c0, r0), pixelToCrs(gt, c1, r0), pixelToCrs(gt, c0, r1), pixelToCrs(gt, c1, r1)];
  const xs = corners.map((c) => c[0]);
  const ys = corners.map((c) => c[1]);
  const f = (v: number) => (Math.abs(v) >= 1000 ? v.toFixed(1) : Number(v.toPrecision(8)).toString());
  return `x ${f(Math.min(...xs))}..${f(Math.max(...xs))}, y ${f(Math.min(...ys))}..${f(Math.max(...ys))}`;
}

/** The geotransform of the window: the raster's, moved to the window's top-left corner. */
export function outputGeoTransform(gt: GeoTransform, window: PixelWindow): GeoTransform {
  const [x, y] = pixelToCrs(gt, window.x, window.y);
  return [x, gt[1], gt[2], y, gt[4], gt[5]];
}

/** Block rows over a rectangle and, for each, the last of `tiles` (in order) it waits for. */
export function blockRows(rect: PixelWindow, tiles: readonly PlannedTile[], size: number): BlockRow[] {
  const down = Math.ceil(rect.height / size);
  const rows: BlockRow[] = [];
  let t = -1;
  for (let b = 0; b < down; b++) {
    const y = rect.y + b * size;
    const h = Math.min(size, rect.y + rect.height - y);
    while (t + 1 < tiles.length && tiles[t + 1]!.y < y + h) t++;
    rows.push({ y, height: h, readyAfter: t });
  }
  return rows;
}

/** What `estimateMemory` needs to know beyond the plan. */
export interface MemoryInputs {
  /** Floats per tile in the model input: T·C·tile². */
  tileFloats: number;
  /** Output bands K (model output channels). */
  outBands: number;
  /** Tiles per batch N. */
  batchSize: number;
  /** Batches assembled ahead of the model (`--queue-depth`). */
  queueDepth: number;
  /** Bytes of the normalised input blocks held at once (the slab arenas, sized from the plan). */
  slabBytes: number;
  /** Output block size (rows per block row). Default: the plan's. */
  blockSize?: number;
}

export interface MemoryEstimate {
  /** Sum of the parts, in bytes. */
  total: number;
  /** Bytes per part. */
  parts: {
    /** Batch buffers: (queueDepth + 1) · N · T·C·tile² · 4 (one in the model, the others assembled ahead). */
    batchBuffers: number;
    /** Normalised input blocks (slabs) held at once: every band of a block as float32. */
    slabs: number;
    /** Model output buffers: 2 · N · K · tile² · 4 (one being computed, one being blended). */
    outputTensors: number;
    /** The model's working memory: onnxruntime copies the input batch (layout transforms) and keeps its activations; estimated as 1.5 batch buffers plus the outputs (measured on the bench models at batch 4 and 16). */
    model: number;
    /** Row-band accumulator of a chunk: min(tile + B, chunk, window height) · W · (K + 1) · 8, W = min(window width, chunk). */
    accumulator: number;
    /** Finished block rows of a chunk: 2 · B · W · K · 4 (one being filled, one being compressed/written). */
    outputBlocks: number;
    /** Plan: about 64 bytes per tile and 16 per region vertex. */
    plan: number;
    /** Node.js, onnxruntime's code, the worker threads, and the heap the collector lets grow during a run: measured peak minus the parts above. */
    runtime: number;
  };
}

/**
 * Resident memory of a run beyond its data: Node.js with onnxruntime loaded, the threads started
 * (about 160 MB before any data) and the garbage and allocator slack of a run in flight (about
 * 120 MB more, measured on the bench scene at batch 4 and 16).
 */
const RUNTIME_BYTES = 280 * 2 ** 20;

/**
 * Estimated peak memory of a run, in bytes (see MemoryEstimate for each part), with T the tile
 * size, W the width of a chunk (at most the window's), B the block size, N the batch size, K the
 * output bands. Nothing grows with the window's size except the plan's tile list.
 */
export function estimateMemory(plan: Plan, inputs: MemoryInputs): MemoryEstimate {
  const T2 = plan.tile * plan.tile;
  // the accumulator and the block rows span one chunk, not the window
  const W = Math.min(plan.window.width, plan.chunks.size);
  const rows = Math.min(plan.tile + (inputs.blockSize ?? plan.blocks.size), plan.chunks.size, plan.window.height);
  const B = inputs.blockSize ?? plan.blocks.size;
  const N = inputs.batchSize;
  const K = inputs.outBands;
  const batch = N * inputs.tileFloats * 4;
  let vertices = 0;
  for (const p of plan.region) for (const r of p) vertices += r.length;
  const outputTensors = 2 * N * K * T2 * 4;
  const parts = {
    batchBuffers: (inputs.queueDepth + 1) * batch,
    slabs: inputs.slabBytes,
    outputTensors,
    model: 1.5 * batch + outputTensors,
    accumulator: rows * W * (K + 1) * 8,
    outputBlocks: 2 * B * W * K * 4,
    plan: 64 * plan.tiles.length + 16 * vertices,
    runtime: RUNTIME_BYTES,
  };
  const total = Object.values(parts).reduce((a, b) => a + b, 0);
  return { total, parts };
}
