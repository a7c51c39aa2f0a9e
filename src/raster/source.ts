/**
 * A GeoTIFF (a local file or an http(s) URL) opened for windowed reading: header facts,
 * georeferencing, and any pixel window of chosen bands as float planes, through the shared
 * decoded-block cache. Bytes come from a ByteSource (byte-source.ts); the file's overviews open
 * as RasterSources of their own (`overviews()`, or `open(path, { overview: k })`).
 */
import { globals } from 'geotiff';
import { InputError, TilecastError, UnsupportedError, UsageError } from '../errors.js';
import { BlockCache } from './block-cache.js';
import { openByteSource, type ByteSource } from './byte-source.js';
import { CodecError } from './codec-error.js';
import { checkCompression, compressionName, decompress, MAX_EXPANSION, usesPredictor, type BlockLayout } from './codecs.js';
import { crsFromGeoKeys } from './crs.js';
import { toSamples } from './predictor.js';
import type { HttpOptions } from './http-source.js';
import { checkFieldTypes, readTiffHeader, summarise, TAG, num, nums, str, type Ifd, type TiffHeader } from './tiff.js';
import type { Crs, DataType, GeoTransform, PixelWindow, RawGeoKeys, TypedArray } from './types.js';
import { TYPED_ARRAY, bytesPerSample } from './types.js';

/** Decoded blocks larger than this are refused (a damaged header claiming absurd sizes). */
const MAX_BLOCK_BYTES = 1024 * 1024 * 1024;
/** Sparse blocks (no bytes in the file) larger than this are refused: nothing in the file bounds them. */
const MAX_SPARSE_BYTES = 256 * 1024 * 1024;

/** Shared by every raster opened without a cache of its own. */
let defaultCache: BlockCache | undefined;
export function sharedBlockCache(): BlockCache {
  defaultCache ??= new BlockCache();
  return defaultCache;
}

export interface OpenOptions {
  /** Decoded-block cache; defaults to one shared cache of DEFAULT_BLOCK_CACHE.budgetMB. */
  cache?: BlockCache;
  /**
   * Open the file's reduced-resolution image number `overview` (0 = the largest, as GDAL's
   * GetOverview(k)) instead of the full-resolution one. Default: the full resolution.
   */
  overview?: number;
  /** How an http(s) URL is read (timeouts, retries, requests in flight); see DEFAULT_HTTP_OPTIONS. */
  http?: HttpOptions;
}

/** A block of one sample plane: column, row and (for band-interleaved files) band. */
export interface BlockRef {
  bx: number;
  by: number;
  /** Band of a band-interleaved (planar 2) file; ignored otherwise. Default 0. */
  sample?: number;
}

export interface ReadOptions {
  /** 0-based band indices to read; default all. */
  bands?: readonly number[];
  /** Output planes to fill (one per band, window.width*window.height); allocated when absent. */
  out?: Float32Array[] | Float64Array[];
  /** Per-band validity masks to fill (1 = inside the raster, not nodata, not NaN). */
  valid?: Uint8Array[];
  /**
   * Compute validity masks when no `valid` arrays are given. Default true, except when `out` is
   * given (callers that bring their own planes usually test values with `isValidValue`).
   */
  validity?: boolean;
}

export interface WindowData<T extends Float32Array | Float64Array = Float32Array> {
  data: T[];
  valid: Uint8Array[];
}

let nextId = 0;

export class RasterSource {
  /** The path or URL it was opened with. */
  readonly path: string;
  /** The path or URL as messages show it (a URL's credentials and signatures left out). */
  readonly name: string;
  /** Which overview this is (0 = the largest), or null for the full-resolution image. */
  readonly overviewLevel: number | null;
  readonly width: number;
  readonly height: number;
  readonly bandCount: number;
  readonly dataType: DataType;
  readonly blockWidth: number;
  readonly blockHeight: number;
  readonly tiled: boolean;
  readonly planar: 1 | 2;
  readonly compressionCode: number;
  readonly predictor: number;
  readonly photometric: number;
  readonly littleEndian: boolean;
  readonly bigTiff: boolean;
  readonly geoTransform: GeoTransform | null;
  readonly nodata: number | null;
  /** Overviews (reduced-resolution images) of the file; 0 for an overview itself. */
  readonly overviewCount: number;
  readonly bandDescriptions: (string | null)[];
  /** GDAL_METADATA dataset items (not per band). */
  readonly metadata: Record<string, string>;
  /** The colour table of a palette image (Photometric Palette): its ColorMap as 8-bit RGB; null for none. */
  readonly colorTable: (readonly [number, number, number])[] | null;
  readonly geoKeys: Record<string, unknown> | null;
  /** The GeoKey tags as stored, to copy a CRS (even one without an EPSG code) to an output. */
  readonly rawGeoKeys: RawGeoKeys | null;
  readonly cache: BlockCache;
  /** Blocks this raster decoded (cache misses). */
  blocksDecoded = 0;

  private readonly bytes: ByteSource;
  /** Whether close() closes the byte source (overviews from overviews() share their file's). */
  private readonly ownsBytes: boolean;
  private readonly overviewIfds: Ifd[];
  private readonly header: TiffHeader;
  private children: RasterSource[] | undefined;
  private closed = false;
  /** Size of the file in bytes. */
  readonly fileSize: number;
  /** What changes when the file's content does: its modification time (ms), or a URL's ETag / Last-Modified ('' when unknown). */
  readonly fileVersion: string;
  private readonly offsets: number[];
  /** Byte counts; null for an uncompressed single strip without them (libtiff reads it anyway). */
  private readonly byteCounts: number[] | null;
  /** The predictor the decoder undoes: the tag's, for the codecs libtiff applies it with; else 1. */
  private readonly activePredictor: number;
  /** One strip holds the whole image (libtiff then re-derives a byte count of 0). */
  private readonly oneStrip: boolean;
  private readonly layout: BlockLayout;
  /** The block every sparse block reads as, by its rows (shared: blocks are read-only). */
  private readonly sparseBlocks = new Map<number, TypedArray>();
  private readonly keyPrefix: string;
  private crsValue: Crs | null | undefined;
  private crsError: TilecastError | undefined;

  /**
   * @param base the full-resolution image, when this is its overview `level`: what an overview's
   *   IFD leaves out (georeferencing, nodata, metadata) is taken from it
   */
  private constructor(
    path: string, bytes: ByteSource, ifd: Ifd, header: TiffHeader, cache: BlockCache,
    base: RasterSource | null, level: number | null, ownsBytes: boolean,
  ) {
    this.path = path;
    const name = bytes.name;
    this.name = name;
    this.bytes = bytes;
    this.ownsBytes = ownsBytes;
    this.header = header;
    this.overviewLevel = level;
    this.cache = cache;
    this.fileSize = header.fileSize;
    this.fileVersion = bytes.version;
    this.littleEndian = header.littleEndian;
    this.bigTiff = header.bigTiff;
    this.keyPrefix = `${nextId++}:`;

    const fail = (what: string): never => {
      throw new InputError(`${name}: ${what}; the file is damaged or not a raster GeoTIFF`, { file: name });
    };
    const unsupported = (what: string): never => {
      throw new UnsupportedError(`${name}: ${what}; convert it with: gdal_translate -co COMPRESS=DEFLATE -co TILED=YES ${name} out.tif`, { file: name });
    };
    this.width = num(ifd, TAG.ImageWidth, 0);
    this.height = num(ifd, TAG.ImageLength, 0);
    if (!(this.width > 0 && this.height > 0)) fail(`image size ${this.width}x${this.height} is empty`);
    this.bandCount = num(ifd, TAG.SamplesPerPixel, 1);
    if (!(this.bandCount >= 1 && this.bandCount <= 65535)) fail(`SamplesPerPixel ${this.bandCount} is invalid (1 to 65535)`);
    this.dataType = sampleType(ifd, this.bandCount, name);
    // libtiff refuses the directory otherwise (999 is a known writer's alpha, which it accepts)
    const extra = nums(ifd, TAG.ExtraSamples) ?? [];
    if (extra.length > this.bandCount || extra.some((v) => v > 2 && v !== 999)) {
      fail(`ExtraSamples (${summarise(extra)}) does not fit ${this.bandCount} sample(s) per pixel (at most that many values, each 0, 1 or 2)`);
    }
    this.compressionCode = num(ifd, TAG.Compression, 1);
    checkCompression(this.compressionCode, name);
    this.predictor = num(ifd, TAG.Predictor, 1);
    // libtiff (and so GDAL) applies the predictor only with LZW, deflate and zstd, and ignores it otherwise
    this.activePredictor = usesPredictor(this.compressionCode) ? this.predictor : 1;
    if (![1, 2, 3].includes(this.activePredictor)) {
      throw new UnsupportedError(`${name}: predictor ${this.predictor} is not supported (1, 2 or 3); convert it with: gdal_translate -co COMPRESS=DEFLATE -co PREDICTOR=2 ${name} out.tif`, { file: name });
    }
    if (this.activePredictor === 3 && !(this.dataType === 'float32' || this.dataType === 'float64')) {
      fail(`predictor 3 (floating point) on ${this.dataType} samples`);
    }
    this.photometric = num(ifd, TAG.Photometric, 1);
    const colorMap = this.photometric === 3 ? nums(ifd, TAG.ColorMap) : undefined;
    this.colorTable = colorMap !== undefined && colorMap.length === 3 * 256 ? paletteEntries(colorMap) : null; // 8-bit palettes only
    const planar = num(ifd, TAG.PlanarConfiguration, 1);
    if (planar !== 1 && planar !== 2) fail(`PlanarConfiguration ${planar} is invalid (1 or 2)`);
    this.planar = planar as 1 | 2;
    const spb = this.planar === 1 ? this.bandCount : 1;
    checkPhotometric(this.photometric, this.compressionCode, this.planar, unsupported);
    const sub = nums(ifd, TAG.YCbCrSubSampling) ?? [2, 2];
    if (this.photometric === 6 && (sub.length !== 2 || !sub.every((v) => v === 1 || v === 2 || v === 4))) {
      fail(`YCbCrSubSampling (${summarise(sub)}) is invalid (two values, each 1, 2 or 4)`);
    }
    if (this.compressionCode === 7 && (this.dataType !== 'uint8' || ![1, 3, 4].includes(spb))) {
      unsupported(`JPEG blocks of ${spb} ${this.dataType} sample(s) per pixel are not supported (1, 3 or 4 uint8)`);
    }
    if (this.compressionCode === 50001 && (this.dataType !== 'uint8' || ![3, 4].includes(spb))) {
      unsupported(`WebP blocks of ${spb} ${this.dataType} sample(s) per pixel are not supported (3 or 4 uint8, pixel interleaved)`);
    }

    this.tiled = ifd.tags.has(TAG.TileWidth) || ifd.tags.has(TAG.TileLength);
    let byteCounts: number[] | undefined;
    if (this.tiled) {
      this.blockWidth = num(ifd, TAG.TileWidth, 0);
      this.blockHeight = num(ifd, TAG.TileLength, 0);
      this.offsets = nums(ifd, TAG.TileOffsets) ?? [];
      byteCounts = nums(ifd, TAG.TileByteCounts);
    } else {
      this.blockWidth = this.width;
      const rowsPerStrip = num(ifd, TAG.RowsPerStrip, this.height);
      if (rowsPerStrip === 0) fail('RowsPerStrip is 0');
      this.blockHeight = Math.min(rowsPerStrip, this.height);
      this.offsets = nums(ifd, TAG.StripOffsets) ?? [];
      byteCounts = nums(ifd, TAG.StripByteCounts);
    }
    if (!(this.blockWidth > 0 && this.blockHeight > 0)) fail(`block size ${this.blockWidth}x${this.blockHeight} is empty`);
    const expected = this.blocksAcross * this.blocksDown * (this.planar === 2 ? this.bandCount : 1);
    this.oneStrip = !this.tiled && expected === 1;
    // libtiff reads an uncompressed single strip without StripByteCounts; GDAL too
    this.byteCounts = byteCounts ?? (this.oneStrip && this.compressionCode === 1 ? null : []);
    const listed = Math.min(this.offsets.length, this.byteCounts?.length ?? Infinity);
    if (listed < expected) {
      fail(`${expected} blocks expected for ${this.width}x${this.height} in ${this.blockWidth}x${this.blockHeight} blocks, but the offset/byte-count tags list ${listed}`);
    }
    const bits = bytesPerSample(this.dataType) * 8;
    const jpegTables = ifd.tags.get(TAG.JPEGTables);
    this.layout = {
      width: this.blockWidth,
      height: this.blockHeight,
      samplesPerBlock: spb,
      bitsPerSample: bits,
      planar: this.planar,
      littleEndian: this.littleEndian,
      float: this.dataType === 'float32' || this.dataType === 'float64',
      dataType: this.dataType,
      unassociatedAlpha: this.planar === 1 && nums(ifd, TAG.ExtraSamples)?.at(-1) === 2,
      photometric: this.photometric,
      ycbcrSubsampling: [sub[0]!, sub[1] ?? sub[0]!],
      ...(jpegTables instanceof Uint8Array ? { jpegTables } : {}),
      ...(nums(ifd, TAG.LercParameters) ? { lercParameters: nums(ifd, TAG.LercParameters)! } : {}),
    };

    const nd = str(ifd, TAG.GdalNodata);
    this.overviewIfds = base === null ? header.ifds.slice(1).filter(isOverview) : [];
    this.overviewCount = this.overviewIfds.length;
    if (base === null) {
      this.geoKeys = parseGeoKeys(ifd, name);
      const dir = nums(ifd, TAG.GeoKeyDirectory);
      this.rawGeoKeys = dir ? { directory: dir, doubles: nums(ifd, TAG.GeoDoubleParams) ?? [], ascii: str(ifd, TAG.GeoAsciiParams) ?? '' } : null;
      this.geoTransform = geoTransform(ifd, this.geoKeys);
      this.nodata = nd === undefined || nd.trim() === '' ? null : parseNodata(nd);
      const md = parseGdalMetadata(str(ifd, TAG.GdalMetadata), this.bandCount);
      this.bandDescriptions = md.descriptions;
      this.metadata = md.dataset;
    } else {
      // an overview: the full-resolution image's georeferencing, scaled; its nodata unless the IFD has one
      if (this.bandCount !== base.bandCount || this.dataType !== base.dataType) {
        fail(`overview ${level} has ${this.bandCount} band(s) of ${this.dataType}, the image ${base.bandCount} of ${base.dataType}`);
      }
      this.geoKeys = base.geoKeys;
      this.rawGeoKeys = base.rawGeoKeys;
      const g = base.geoTransform;
      const sx = base.width / this.width;
      const sy = base.height / this.height;
      this.geoTransform = g === null ? null : [g[0], g[1] * sx, g[2] * sy, g[3], g[4] * sx, g[5] * sy];
      this.nodata = nd === undefined ? base.nodata : nd.trim() === '' ? null : parseNodata(nd);
      this.bandDescriptions = base.bandDescriptions;
      this.metadata = base.metadata;
    }
  }

  /**
   * Open a GeoTIFF: a local path or an http(s) URL (read with range requests). Throws
   * InputError / UnsupportedError naming the file, UsageError for an overview it does not have.
   */
  static async open(path: string, options: OpenOptions = {}): Promise<RasterSource> {
    const bytes = await openByteSource(path, options);
    try {
      const header = await readTiffHeader(bytes, bytes.name);
      const cache = options.cache ?? sharedBlockCache();
      const k = options.overview;
      if (k === undefined) return new RasterSource(path, bytes, header.ifds[0]!, header, cache, null, null, true);
      const full = new RasterSource(path, bytes, header.ifds[0]!, header, cache, null, null, false);
      if (!(Number.isInteger(k) && k >= 0 && k < full.overviewCount)) {
        const has = full.overviewCount === 0 ? 'none (add them with gdaladdo, or write a COG)' : `${full.overviewCount} (0..${full.overviewCount - 1})`;
        throw new UsageError(`${bytes.name}: overview ${k} asked for; the file has ${has}`, { file: bytes.name });
      }
      return full.overviewSource(k, true);
    } catch (err) {
      await bytes.close();
      if (err instanceof TilecastError) throw err;
      throw new InputError(`${bytes.name}: cannot read the TIFF header: ${(err as Error).message}`, { file: bytes.name, cause: err });
    }
  }

  /**
   * The file's overviews (reduced-resolution images), largest first, numbered as GDAL numbers
   * them (GetOverview(k)); empty for a file without overviews and for an overview itself. They
   * share this source's bytes and block cache; closing this source closes them.
   */
  async overviews(): Promise<RasterSource[]> {
    if (this.closed) throw new UsageError(`${this.name}: overviews() after close()`, { file: this.name });
    this.children ??= this.overviewIfds.map((_, k) => this.overviewSource(k, false));
    return this.children;
  }

  private overviewSource(k: number, owns: boolean): RasterSource {
    const ifd = this.overviewIfds[k]!;
    checkFieldTypes(ifd, this.name, this.bigTiff);
    return new RasterSource(this.path, this.bytes, ifd, this.header, this.cache, this, k, owns);
  }

  get blocksAcross(): number {
    return Math.ceil(this.width / this.blockWidth);
  }

  get blocksDown(): number {
    return Math.ceil(this.height / this.blockHeight);
  }

  /** Compression name as GDAL reports it (DEFLATE, LZW, ...). */
  get compression(): string {
    return compressionName(this.compressionCode);
  }

  /** The CRS, or null without georeferencing. Throws UnsupportedError for a CRS tilecast cannot define. */
  get crs(): Crs | null {
    if (this.crsValue === undefined && this.crsError === undefined) {
      try {
        this.crsValue = crsFromGeoKeys(this.geoKeys, this.name);
      } catch (err) {
        if (!(err instanceof TilecastError)) throw err;
        this.crsError = err;
      }
    }
    if (this.crsError) throw this.crsError;
    return this.crsValue!;
  }

  /**
   * Read a window of chosen bands as float planes. Pixels outside the raster come back as the
   * nodata value (NaN when there is none) and are marked invalid, as are nodata and NaN pixels.
   */
  async readWindow(win: PixelWindow, options: ReadOptions & { out: Float64Array[] }): Promise<WindowData<Float64Array>>;
  async readWindow(win: PixelWindow, options?: ReadOptions): Promise<WindowData<Float32Array>>;
  async readWindow(win: PixelWindow, options: ReadOptions = {}): Promise<WindowData<Float32Array | Float64Array>> {
    const bands = options.bands ?? Array.from({ length: this.bandCount }, (_, i) => i);
    for (const b of bands) {
      if (!(Number.isInteger(b) && b >= 0 && b < this.bandCount)) {
        throw new RangeError(`${this.name}: band index ${b} out of range 0..${this.bandCount - 1}`);
      }
    }
    const n = win.width * win.height;
    const data = options.out ?? bands.map(() => new Float32Array(n));
    // intersection with the raster
    const x0 = Math.max(win.x, 0);
    const y0 = Math.max(win.y, 0);
    const x1 = Math.min(win.x + win.width, this.width);
    const y1 = Math.min(win.y + win.height, this.height);
    if (x0 > win.x || y0 > win.y || x1 < win.x + win.width || y1 < win.y + win.height) {
      // pixels outside the raster read as nodata (NaN without one): invalid by the rule below
      for (let i = 0; i < bands.length; i++) data[i]!.fill(this.nodata ?? NaN, 0, n);
    }
    if (x0 < x1 && y0 < y1) {
      const bx0 = Math.floor(x0 / this.blockWidth);
      const bx1 = Math.floor((x1 - 1) / this.blockWidth);
      const by0 = Math.floor(y0 / this.blockHeight);
      const by1 = Math.floor((y1 - 1) / this.blockHeight);
      const jobs: Promise<void>[] = [];
      for (let by = by0; by <= by1; by++) {
        for (let bx = bx0; bx <= bx1; bx++) {
          const rect = {
            x0: Math.max(x0, bx * this.blockWidth), x1: Math.min(x1, (bx + 1) * this.blockWidth),
            y0: Math.max(y0, by * this.blockHeight), y1: Math.min(y1, (by + 1) * this.blockHeight),
            bx: bx * this.blockWidth, by: by * this.blockHeight,
          };
          const spb = this.planar === 2 ? 1 : this.bandCount;
          const copy = (blk: TypedArray, b: number, i: number) => this.copy(blk, spb, spb === 1 ? 0 : b, rect, win, data[i]!);
          if (this.planar === 2) {
            bands.forEach((b, i) => jobs.push(this.block(bx, by, b).then((blk) => copy(blk, b, i))));
          } else {
            jobs.push(this.block(bx, by, 0).then((blk) => bands.forEach((b, i) => copy(blk, b, i))));
          }
        }
      }
      await Promise.all(jobs);
    }
    const valid = options.valid ?? (options.out && !options.validity ? [] : bands.map(() => new Uint8Array(n)));
    valid.forEach((ok, i) => markValid(data[i]!, ok, n, this.nodata));
    return { data, valid };
  }

  /** Sample `at` of each pixel of a block (`spb` samples per pixel) into a window plane. */
  private copy(blk: TypedArray, spb: number, at: number, r: BlockRect, win: PixelWindow, out: Float32Array | Float64Array): void {
    for (let y = r.y0; y < r.y1; y++) {
      let src = ((y - r.by) * this.blockWidth + (r.x0 - r.bx)) * spb + at;
      let dst = (y - win.y) * win.width + (r.x0 - win.x);
      for (let x = r.x0; x < r.x1; x++, src += spb, dst++) out[dst] = blk[src]!;
    }
  }

  /** Decoded samples of one block (all samples interleaved for planar 1), via the cache. */
  block(bx: number, by: number, sample: number): Promise<TypedArray> {
    if (this.closed) return Promise.reject(new UsageError(`${this.name}: read after close()`, { file: this.name }));
    const index = (this.planar === 2 ? sample * this.blocksAcross * this.blocksDown : 0) + by * this.blocksAcross + bx;
    return this.cache.get(this.keyPrefix + index, () => this.decodeBlock(index, by));
  }

  /**
   * Several blocks at once, as `block` gives each. Blocks asked for together (in one call, or in
   * the same turn of the event loop) have their bytes read together: over HTTP, neighbouring
   * blocks come in one request.
   */
  blocks(list: readonly BlockRef[]): Promise<TypedArray[]> {
    return Promise.all(list.map((b) => this.block(b.bx, b.by, b.sample ?? 0)));
  }

  /**
   * The blocks that hold a window's pixels (clipped to the raster) of the given bands (default
   * all), in file order as far as it is known (band, then row, then column): hand them to
   * `blocks()` to fetch, e.g., a chunk's blocks ahead of its tiles with few requests.
   */
  blocksFor(win: PixelWindow, bands?: readonly number[]): BlockRef[] {
    const x0 = Math.max(win.x, 0);
    const y0 = Math.max(win.y, 0);
    const x1 = Math.min(win.x + win.width, this.width);
    const y1 = Math.min(win.y + win.height, this.height);
    if (!(x0 < x1 && y0 < y1)) return [];
    const samples = this.planar === 2 ? (bands ?? Array.from({ length: this.bandCount }, (_, b) => b)) : [0];
    const out: BlockRef[] = [];
    for (const sample of samples) {
      for (let by = Math.floor(y0 / this.blockHeight); by <= Math.floor((y1 - 1) / this.blockHeight); by++) {
        for (let bx = Math.floor(x0 / this.blockWidth); bx <= Math.floor((x1 - 1) / this.blockWidth); bx++) out.push({ bx, by, sample });
      }
    }
    return out;
  }

  /** Cache key prefix of this raster's blocks (to evict them when done). */
  get cacheKeyPrefix(): string {
    return this.keyPrefix;
  }

  private async decodeBlock(index: number, by: number): Promise<TypedArray> {
    this.blocksDecoded++;
    const spb = this.layout.samplesPerBlock;
    const rowBytes = this.blockWidth * spb * bytesPerSample(this.dataType);
    // Rows of this block inside the image. A strip's rows below the image do not exist. A tile has
    // them, but its writer may leave some out: GDAL asks libtiff for blockHeight - (end mod height)
    // rows of a tile that overhangs the image (the rows inside, when it overhangs by less than the
    // image's height), so a tile holding that many is read, as GDAL reads it.
    const inside = Math.min(this.blockHeight, this.height - by * this.blockHeight);
    const rows = this.tiled ? this.blockHeight : inside;
    const shortRows = this.tiled && inside < this.blockHeight ? this.blockHeight - (((by + 1) * this.blockHeight) % this.height) : inside;
    const fullBytes = rowBytes * this.blockHeight;
    const shortBytes = rowBytes * shortRows;
    const damaged = (what: string): never => {
      throw new InputError(`${this.name}: block ${index} ${what}; the file is truncated or damaged`, { file: this.name });
    };
    if (fullBytes > MAX_BLOCK_BYTES) {
      throw new InputError(`${this.name}: block ${index} would decode to ${fullBytes} bytes, over the ${MAX_BLOCK_BYTES}-byte limit; the header is damaged or the blocks are too large (rewrite with gdal_translate -co TILED=YES)`, { file: this.name });
    }
    const offset = this.offsets[index]!;
    const count = this.byteCounts === null ? -1 : this.byteCounts[index]!;
    if (count === 0 && (offset === 0 || !this.oneStrip)) {
      // sparse block: GDAL reads it as nodata, or 0 without nodata
      if (rowBytes * rows > MAX_SPARSE_BYTES) damaged(`has no data (sparse) but would read as ${rowBytes * rows} bytes of nodata, over the ${MAX_SPARSE_BYTES}-byte limit for sparse blocks`);
      let out = this.sparseBlocks.get(rows);
      if (out === undefined) {
        out = new TYPED_ARRAY[this.dataType](this.blockWidth * rows * spb);
        out.fill(this.nodata ?? 0);
        this.sparseBlocks.set(rows, out);
      }
      return out;
    }
    if (offset === 0) damaged(`is at offset 0 (inside the TIFF header)`);
    let bytes: Uint8Array;
    if (this.compressionCode === 1) {
      // libtiff reads an uncompressed block's bytes from its offset, whatever its byte count says
      if (offset + shortBytes > this.fileSize) damaged(`needs ${shortBytes} bytes at offset ${offset}, past the end of the file (${this.fileSize} bytes)`);
      bytes = await this.bytes.read(offset, Math.min(rowBytes * rows, this.fileSize - offset));
    } else {
      if (count === 0) {
        throw new InputError(`${this.name}: StripByteCounts is 0 for the only strip (at offset ${offset}) of ${this.compression} data; tilecast does not guess the length of compressed data: rewrite the file with gdal_translate -co COMPRESS=DEFLATE ${this.name} out.tif`, { file: this.name });
      }
      if (offset + count > this.fileSize) damaged(`(${count} bytes at offset ${offset}) runs past the end of the file (${this.fileSize} bytes)`);
      // refuse, before allocating, a size the compressed bytes cannot hold
      const ratio = MAX_EXPANSION[this.compressionCode];
      if (ratio !== undefined && shortBytes > count * ratio) {
        damaged(`would decode to ${shortBytes} bytes from ${count} bytes of ${this.compression}, more than ${this.compression} can expand (${ratio}:1)`);
      }
      const capacity = ratio !== undefined && fullBytes > count * ratio ? shortBytes : fullBytes;
      const raw = await this.bytes.read(offset, count);
      try {
        bytes = await decompress(this.compressionCode, new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength), capacity, this.layout, shortBytes);
      } catch (err) {
        if (!(err instanceof CodecError)) throw err;
        const where = `${this.name}: block ${index} (${count} bytes of ${this.compression} at offset ${offset})`;
        const fix = err.fix ?? `convert it with: gdal_translate -co COMPRESS=DEFLATE ${this.name} out.tif`;
        if (err.unsupported) throw new UnsupportedError(`${where}: ${err.message}; ${fix}`, { file: this.name, cause: err });
        throw new InputError(`${where} cannot be decoded: ${err.message}; the file is damaged`, { file: this.name, cause: err });
      }
    }
    // a short tile (rows below the image left out) is padded with zeros by toSamples
    return toSamples(bytes.subarray(0, rowBytes * rows), this.dataType, this.littleEndian, this.activePredictor, this.blockWidth, rows, spb);
  }

  /** Bytes of block `index` as stored in the file (compressed); 0 for a sparse block. */
  storedBlockSize(index: number): number {
    return this.byteCounts?.[index] ?? 0;
  }

  /** Block `index` as stored in the file, not decoded: for copying blocks between files. */
  async readStoredBlock(index: number): Promise<Uint8Array> {
    const offset = this.offsets[index]!;
    const count = this.storedBlockSize(index);
    if (offset + count > this.fileSize) {
      throw new InputError(`${this.name}: block ${index} (${count} bytes at offset ${offset}) runs past the end of the file (${this.fileSize} bytes); the file is truncated`, { file: this.name });
    }
    return this.bytes.read(offset, count);
  }

  /** Evict this image's blocks and close the file (and the overviews from overviews()). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.cache.evictPrefix(this.keyPrefix);
    for (const c of this.children ?? []) await c.close();
    if (this.ownsBytes) await this.bytes.close();
  }
}

/** A reduced-resolution image (NewSubfileType bit 0), not a mask (bit 2). */
function isOverview(ifd: Ifd): boolean {
  const t = num(ifd, TAG.NewSubfileType, 0);
  return (t & 1) === 1 && (t & 4) === 0;
}

interface BlockRect { x0: number; x1: number; y0: number; y1: number; bx: number; by: number }

/**
 * The value a read pixel must not have to be valid, as the plane stores it: nodata rounded to the
 * plane's precision (GDAL compares in the band's type), NaN when there is no nodata (then only
 * NaN pixels are invalid). A pixel `v` is valid when `v === v && v !== invalidValue(...)`.
 */
function invalidValue(nodata: number | null, plane: Float32Array | Float64Array): number {
  if (nodata === null) return NaN;
  return plane instanceof Float32Array ? Math.fround(nodata) : nodata;
}

/** 1 where the plane holds a valid value: not NaN, not nodata (out-of-raster pixels hold nodata or NaN). */
function markValid(plane: Float32Array | Float64Array, ok: Uint8Array, n: number, nodata: number | null): void {
  const nd = invalidValue(nodata, plane);
  for (let i = 0; i < n; i++) {
    const v = plane[i]!;
    ok[i] = v === v && v !== nd ? 1 : 0;
  }
}


/**
 * Photometric interpretations whose samples GDAL hands out as stored. YCbCr is converted to RGB by
 * libjpeg for JPEG; GDAL converts it (and CIE L*a*b*, LogLuv) through libtiff's RGBA interface
 * otherwise, which tilecast does not reproduce.
 */
function checkPhotometric(photometric: number, compression: number, planar: number, unsupported: (what: string) => never): void {
  if (photometric === 6 && !(compression === 7 && planar === 1)) {
    unsupported(`YCbCr samples without JPEG compression${compression === 7 ? ' in separate planes' : ''} are not supported`);
  }
  if (![0, 1, 2, 3, 4, 5, 6].includes(photometric)) {
    const name = { 8: 'CIE L*a*b*', 9: 'ICC L*a*b*', 10: 'ITU L*a*b*', 32844: 'LogL', 32845: 'LogLuv' }[photometric] ?? `Photometric ${photometric}`;
    unsupported(`${name} samples are not supported`);
  }
}

function sampleType(ifd: Ifd, spp: number, file: string): DataType {
  const bits = nums(ifd, TAG.BitsPerSample) ?? [1];
  const formats = nums(ifd, TAG.SampleFormat) ?? [1];
  // one value for every sample, or one for all (libtiff refuses the directory otherwise)
  for (const [name, values] of [['BitsPerSample', bits], ['SampleFormat', formats]] as const) {
    if (values.length !== 1 && values.length < spp) {
      throw new InputError(`${file}: ${name} holds ${values.length} values for ${spp} samples per pixel, expected 1 or ${spp}; the file is damaged`, { file });
    }
  }
  const b = bits[0]!;
  const f = formats[0]!;
  if (bits.some((x) => x !== b) || formats.some((x) => x !== f)) {
    throw new UnsupportedError(`${file}: bands of different sample types (BitsPerSample ${summarise(bits)}; SampleFormat ${summarise(formats)}) are not supported; convert with gdal_translate -ot Float32 ${file} out.tif`, { file });
  }
  if (!(f >= 1 && f <= 6)) {
    throw new InputError(`${file}: SampleFormat ${f} is invalid (1 to 6); the file is damaged`, { file });
  }
  const name = f === 3 ? `float${b}` : f === 2 ? `int${b}` : f === 1 || f === 4 ? `uint${b}` : f === 5 ? `cint${b}` : f === 6 ? `cfloat${b}` : `format ${f}`;
  const ok: Record<string, DataType> = {
    uint8: 'uint8', int8: 'int8', uint16: 'uint16', int16: 'int16', uint32: 'uint32', int32: 'int32', float32: 'float32', float64: 'float64',
  };
  const t = ok[name];
  if (t === undefined) {
    const hint = f === 5 || f === 6 ? 'complex samples' : f === 3 && b === 16 ? 'half-precision floats' : b < 8 ? `${b}-bit samples` : `${name} samples`;
    throw new UnsupportedError(`${file}: ${hint} (${name}, ${spp} band(s)) are not supported; supported: uint8/int8/uint16/int16/uint32/int32/float32/float64. Convert with gdal_translate -ot Float32 ${file} out.tif`, { file });
  }
  return t;
}

const GEOKEY_NAMES = (globals as unknown as { geoKeyNames: Record<number, string> }).geoKeyNames;

/**
 * The GeoKeys by name. A key whose values lie outside the tag that holds them makes the file's
 * georeferencing unreadable, as it does for libgeotiff (GDAL refuses the file): an InputError.
 */
function parseGeoKeys(ifd: Ifd, file: string): Record<string, unknown> | null {
  const dir = nums(ifd, TAG.GeoKeyDirectory);
  if (!dir || dir.length < 4) return null;
  const doubles = nums(ifd, TAG.GeoDoubleParams) ?? [];
  const ascii = str(ifd, TAG.GeoAsciiParams) ?? '';
  const keys: Record<string, unknown> = {};
  const n = dir[3]!;
  const damaged = (what: string): never => {
    throw new InputError(`${file}: ${what}; the georeferencing is damaged: assign the CRS again with gdal_edit.py -a_srs EPSG:<code> ${file}`, { file });
  };
  if (4 + 4 * n > dir.length) damaged(`the GeoKey directory lists ${n} keys but holds ${Math.floor((dir.length - 4) / 4)}`);
  for (let k = 0; k < n; k++) {
    const [id, loc, count, off] = [dir[4 + k * 4]!, dir[5 + k * 4]!, dir[6 + k * 4]!, dir[7 + k * 4]!];
    const name = GEOKEY_NAMES[id] ?? `GeoKey${id}`;
    const within = (what: string, length: number) => {
      if (off + count > length) damaged(`GeoKey ${name} (${id}) refers to values ${off} to ${off + count - 1} of ${what}, which holds ${length}`);
    };
    if (loc === 0) {
      if (count !== 1) damaged(`GeoKey ${name} (${id}) stored in the directory has ${count} values, expected 1`);
      keys[name] = off;
    } else if (loc === TAG.GeoDoubleParams) {
      within('GeoDoubleParams', doubles.length);
      keys[name] = count === 1 ? doubles[off] : doubles.slice(off, off + count);
    } else if (loc === TAG.GeoAsciiParams) {
      within('GeoAsciiParams', ascii.length);
      keys[name] = ascii.substring(off, off + count).replace(/\|$/, '');
    } else if (loc === TAG.GeoKeyDirectory) {
      within('the GeoKey directory', dir.length);
      keys[name] = count === 1 ? dir[off] : dir.slice(off, off + count);
    }
  }
  return keys;
}

function geoTransform(ifd: Ifd, keys: Record<string, unknown> | null): GeoTransform | null {
  const m = nums(ifd, TAG.ModelTransformation);
  let gt: [number, number, number, number, number, number] | null = null;
  if (m && m.length >= 16) {
    gt = [m[3]!, m[0]!, m[1]!, m[7]!, m[4]!, m[5]!];
  } else {
    const tie = nums(ifd, TAG.ModelTiepoint);
    const scale = nums(ifd, TAG.ModelPixelScale);
    // several tiepoints are GCPs, not a geotransform
    if (tie && scale && tie.length >= 6 && tie.length < 12 && scale.length >= 2) {
      const [i, j, , x, y] = tie as [number, number, number, number, number];
      const [sx, sy] = scale as [number, number];
      gt = [x - i * sx, sx, 0, y + j * sy, 0, -sy];
    }
  }
  if (gt && keys && keys.GTRasterTypeGeoKey === 2) {
    // PixelIsPoint: shift to the corner convention, as GDAL does by default
    gt[0] -= 0.5 * gt[1] + 0.5 * gt[2];
    gt[3] -= 0.5 * gt[4] + 0.5 * gt[5];
  }
  return gt;
}

function parseNodata(s: string): number {
  const t = s.trim().toLowerCase();
  if (t === 'nan' || t === '-nan') return NaN;
  if (t === 'inf' || t === '+inf') return Infinity;
  if (t === '-inf') return -Infinity;
  return Number.parseFloat(t);
}

function unescapeXml(s: string): string {
  return s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
}

function parseGdalMetadata(xml: string | undefined, bands: number): { descriptions: (string | null)[]; dataset: Record<string, string> } {
  const descriptions: (string | null)[] = new Array(bands).fill(null);
  const dataset: Record<string, string> = {};
  if (!xml) return { descriptions, dataset };
  const re = /<Item\s+([^>]*)>([\s\S]*?)<\/Item>/g;
  for (let m = re.exec(xml); m; m = re.exec(xml)) {
    const attrs: Record<string, string> = {};
    for (const a of m[1]!.matchAll(/(\w+)="([^"]*)"/g)) attrs[a[1]!] = unescapeXml(a[2]!);
    const value = unescapeXml(unescapeXml(m[2]!)); // GDAL escapes item values twice
    if (attrs.sample !== undefined) {
      const s = Number(attrs.sample);
      if (attrs.role === 'description' && s >= 0 && s < bands) descriptions[s] = value;
    } else if (attrs.name !== undefined && attrs.role === undefined) {
      dataset[attrs.name] = value;
    }
  }
  return { descriptions, dataset };
}

/** A TIFF ColorMap (all reds, then greens, then blues, 0..65535) as 8-bit RGB entries. */
function paletteEntries(map: readonly number[]): (readonly [number, number, number])[] {
  const n = map.length / 3;
  return Array.from({ length: n }, (_, i) => [Math.round(map[i]! / 257), Math.round(map[n + i]! / 257), Math.round(map[2 * n + i]! / 257)] as const);
}
