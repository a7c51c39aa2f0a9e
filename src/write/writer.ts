/**
 * Streaming GeoTIFF / BigTIFF / COG writer.
 *
 * Blocks (tiles) are submitted in any order with writeBlock() or a block row at a time with
 * writeBlockRow(); each is compressed concurrently off the main thread (deflate in libuv's
 * threadpool, zstd and LZW in a worker pool) and appended to a temporary file in submission
 * order, so identical calls give a byte-identical file whatever finishes first.
 * close() writes the IFD at the end of the file (or, for a COG, builds the overviews and writes
 * the COG layout) and renames the temporary file to the target; abort() deletes it.
 *
 * Layout choices:
 * - Band-separate (PlanarConfiguration 2). The writer gets one plane per band, so no interleaving
 *   pass is needed; reading one band (the usual way a prediction band is used) decodes only that
 *   band's blocks instead of every band's; the predictors work on one sample per pixel, which
 *   compresses at least as well as pixel interleaving. GDAL reads both layouts natively.
 * - Blocks never written stay sparse (offset 0, byte count 0): GDAL reads them as nodata, or 0
 *   when there is no nodata.
 * - Memory: the block offset and byte-count arrays (16 bytes per block and band), plus at most
 *   `concurrency` blocks being compressed.
 * - A process killed while writing leaves only its hidden temporary file
 *   (`.<name>.tilecast-tmp-<pid>-<random>`, plus `.cog` during a COG's close), never a partial
 *   target. A COG needs room for its data twice while close() runs.
 * - A colour table goes in the TIFF (ColorMap, Photometric Palette) and, with exactly its entries,
 *   in a `<path>.aux.xml` sidecar (GDAL PAM) with the category names; the sidecar is written under
 *   a hidden temporary name and renamed right after the image. A sidecar left at that path by an
 *   earlier file is deleted.
 */
import { randomBytes } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { AbortedError, OutputError, TilecastError, UsageError } from '../errors.js';
import { failpoint } from '../failpoints.js';
import { TYPED_ARRAY, bytesPerSample, isFloat } from '../raster/types.js';
import { BlockCoder } from './block-coder.js';
import { loadCodec } from './codecs.js';
import type { LevelBlocks } from './cog.js';
import { buildOverview, writeCog } from './cog.js';
import { gdalMetadataXml, georefEntries } from './georef.js';
import { encodeHeader, encodeIfd, headerLength } from './ifd.js';
import type { Level } from './levels.js';
import { cogLevels, level } from './levels.js';
import type { GeoTiffWriterOptions, ResolvedWriterOptions } from './options.js';
import { resolveWriterOptions } from './options.js';
import { DiskFullError, OrderedAppender, writeAll } from './ordered-appender.js';
import { resolveOutputTarget } from './target.js';
import { createTempFile, forgetTempFile, registerTempFile } from './temp-files.js';
import type { ImageSpec } from './tiff-entries.js';
import { colorMapValues, imageEntries } from './tiff-entries.js';
import { Sidecar, pamXml } from './pam.js';
import type { TypedArray } from './typed.js';
import { TYPED_ARRAY_NAME, viewOf } from './typed.js';

export type { TypedArray } from './typed.js';
export type { BigTiffOption, Compression, GeoTiffWriterOptions, OverviewResampling, PredictorOption } from './options.js';
export { DEFAULT_WRITER_OPTIONS } from './options.js';

/**
 * Pixel data of a block or block row: one typed array per band, or one typed array holding the
 * bands one after another (band-sequential, [band][row][col]). The array type must match the
 * writer's dataType (Float32Array for 'float32', …).
 */
export type BlockData = TypedArray | readonly TypedArray[];

type State = 'open' | 'closing' | 'closed' | 'aborted';

/**
 * What a temporary file holds at a checkpoint: its first `position` bytes are final, and these
 * blocks are in them. A resumed writer truncates the file there and goes on.
 */
export interface WriterCheckpoint {
  position: number;
  /** Blocks written since the previous checkpoint: [block index (row-major), band, offset, byte count] each. */
  blocks: [number, number, number, number][];
}

/** Where the writer keeps its temporary file, for runs that can be resumed. */
export interface TempFileOptions {
  /** A fixed temporary path; default a new hidden name beside the target. */
  path?: string;
  /** Continue the file at `path` from its checkpoints (every block they list is kept; anything after is discarded). */
  restore?: WriterCheckpoint[];
  /** Keep the temporary file when the writer is aborted, so that the run can be resumed. Default false. */
  keep?: boolean;
}

const CLASSIC_LIMIT = 0xffffffff;

/** Worst-case stored size of a block relative to its raw size, for the BigTIFF estimate. */
const EXPANSION = { none: 1, deflate: 1.01, zstd: 1.01, lzw: 1.5 } as const;

export class GeoTiffWriter {
  /** The target path, as given. */
  readonly path: string;
  private readonly target: string;
  readonly options: Readonly<ResolvedWriterOptions>;
  /** Blocks across and down at full resolution. */
  readonly blocksAcross: number;
  readonly blocksDown: number;
  /** Whether the file is BigTIFF; for a COG with bigTiff 'auto' it is known only after close(). */
  get bigTiff(): boolean {
    return this.big;
  }

  private readonly level0: Level;
  private readonly spec: ImageSpec;
  private readonly coder: BlockCoder;
  private readonly appender: OrderedAppender;
  private readonly offsets: Float64Array;
  private readonly counts: Float64Array;
  private readonly submitted: Uint8Array;
  private readonly fill: number;
  private big: boolean;
  private state: State = 'open';
  private admission: Promise<void> = Promise.resolve();
  private closing: Promise<void> | null = null;
  private aborting: Promise<void> | null = null;
  private readonly onAbort: () => void;
  private sidecarValue: Sidecar | undefined;
  /** close() copied the blocks into compactPath (see compact()). */
  private compacted = false;
  private runMetadata: Readonly<Record<string, string>> = {};
  /** Blocks placed since the last checkpoint. */
  private placed: [number, number, number, number][] = [];

  private constructor(
    path: string,
    options: ResolvedWriterOptions,
    private file: FileHandle | null,
    private readonly tempPath: string,
    target: string,
    coder: BlockCoder,
    spec: ImageSpec,
    bigTiff: boolean,
    private readonly temp: TempFileOptions,
  ) {
    this.path = path;
    this.target = target;
    this.options = options;
    this.level0 = level(options.width, options.height, options.blockSize);
    this.blocksAcross = this.level0.across;
    this.blocksDown = this.level0.down;
    this.coder = coder;
    this.spec = spec;
    this.big = bigTiff;
    const blocks = this.blocksAcross * this.blocksDown;
    this.offsets = new Float64Array(blocks * options.bandCount);
    this.counts = new Float64Array(blocks * options.bandCount);
    this.submitted = new Uint8Array(blocks);
    this.fill = options.nodata ?? 0;
    let start = options.cog ? 0 : headerLength(bigTiff);
    for (const cp of temp.restore ?? []) {
      start = Math.max(start, cp.position);
      for (const [tile, band, offset, count] of cp.blocks) {
        this.offsets[band * blocks + tile] = offset;
        this.counts[band * blocks + tile] = count;
        this.submitted[tile] = 1;
      }
    }
    const end = options.cog || bigTiff ? Number.MAX_SAFE_INTEGER : CLASSIC_LIMIT;
    this.appender = new OrderedAppender(file!, start, options.concurrency, {
      end,
      error: () =>
        new OutputError(
          `${path}: the file grew past 4 GiB, the limit of classic TIFF (bigTiff '${options.bigTiff}'): write it with bigTiff 'yes'`,
          { file: path },
        ),
    });
    this.onAbort = () => void this.abort();
    options.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  /** Create the temporary file next to `path` and return a writer for it. */
  static async create(path: string, options: GeoTiffWriterOptions, temp: TempFileOptions = {}): Promise<GeoTiffWriter> {
    const o = resolveWriterOptions(path, options);
    if (o.signal?.aborted) throw new AbortedError(`writing ${path} was aborted before it started`);
    const georef = georefEntries(o.geoTransform, o.crs, path, o.geoKeys);
    const codec = await loadCodec(o.compression, o.level);
    const spec: ImageSpec = {
      bandCount: o.bandCount,
      dataType: o.dataType,
      blockSize: o.blockSize,
      compressionCode: codec.tiffCode,
      predictor: o.predictor,
      nodata: o.nodata,
      georef,
      gdalMetadata: gdalMetadataXml(o.metadata, o.bandDescriptions),
      colorMap: colorMapValues(o.colorTable),
    };
    const bigTiff = o.bigTiff === 'yes' || (o.bigTiff === 'auto' && !o.cog && estimateSize(o, spec) > CLASSIC_LIMIT);
    // a symlink is followed (the temporary file goes beside its target); a folder, device or
    // other non-regular file is refused before anything is created
    const target = resolveOutputTarget(path);
    const tempPath = temp.path ?? join(dirname(target), `.${basename(target)}.tilecast-tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
    const restoring = temp.restore !== undefined;
    let file: FileHandle;
    let created = false;
    try {
      if (!restoring) {
        createTempFile(tempPath, { keep: temp.keep });
        created = true;
      }
      file = await open(tempPath, 'r+');
    } catch (e) {
      if (created) {
        await unlink(tempPath).catch(() => undefined);
        forgetTempFile(tempPath);
      }
      throw outputError(e, dirname(target), path);
    }
    if (restoring && !temp.keep) registerTempFile(tempPath);
    const writer = new GeoTiffWriter(path, o, file, tempPath, target, new BlockCoder(codec, o.predictor, o.dataType, o.blockSize), spec, bigTiff, temp);
    if (restoring) {
      // what follows the last checkpoint was never vouched for: drop it
      try {
        await file.truncate(writer.appender.position);
      } catch (e) {
        await writer.abort();
        throw outputError(e, dirname(target), path);
      }
    } else if (!o.cog) {
      try {
        await file.write(encodeHeader(bigTiff, 0), 0, headerLength(bigTiff), 0);
      } catch (e) {
        await writer.abort();
        throw outputError(e, dirname(target), path);
      }
    }
    return writer;
  }

  /**
   * Write block (blockCol, blockRow). `data` holds either the full block (blockSize x blockSize
   * per band; the padding beyond the image edge is ignored) or the block clipped to the image
   * (edge blocks: min(blockSize, width - blockCol*blockSize) columns, likewise rows). Blocks may
   * come in any order, each at most once. Resolves once the data were copied and the block was
   * queued (the arrays may then be reused); the pixels must not change before that. At most
   * `concurrency` blocks are queued at once, so awaiting each call gives back-pressure.
   */
  async writeBlock(blockCol: number, blockRow: number, data: BlockData): Promise<void> {
    const where = `writeBlock(${blockCol}, ${blockRow})`;
    this.checkOpen(where);
    if (!Number.isInteger(blockCol) || !Number.isInteger(blockRow) || blockCol < 0 || blockRow < 0 || blockCol >= this.blocksAcross || blockRow >= this.blocksDown) {
      throw new UsageError(
        `${this.path}: ${where} is outside the block grid of ${this.blocksAcross} x ${this.blocksDown} blocks (columns 0..${this.blocksAcross - 1}, rows 0..${this.blocksDown - 1})`,
        { file: this.path },
      );
    }
    const bs = this.options.blockSize;
    const cw = Math.min(bs, this.options.width - blockCol * bs);
    const ch = Math.min(bs, this.options.height - blockRow * bs);
    const planes = this.planes(data, [bs * bs, cw * ch], where, `${bs} x ${bs} (full) or ${cw} x ${ch} (clipped)`);
    const stride = planes[0]!.length === bs * bs ? bs : cw;
    this.claim(blockCol, blockRow, where);
    await this.admit(() => this.submit(blockCol, blockRow, planes, stride, 0, cw, ch));
  }

  /**
   * Write every block of block row `blockRow` from full-width planes of `width` columns and
   * min(blockSize, height - blockRow*blockSize) rows (or blockSize rows; rows past the image are
   * ignored). Resolves once all its blocks were queued; the arrays may then be reused.
   */
  async writeBlockRow(blockRow: number, data: BlockData, part?: { firstBlock: number; blocks: number }): Promise<void> {
    const where = `writeBlockRow(${blockRow})`;
    this.checkOpen(where);
    if (!Number.isInteger(blockRow) || blockRow < 0 || blockRow >= this.blocksDown) {
      throw new UsageError(`${this.path}: ${where} is outside rows 0..${this.blocksDown - 1} of the block grid`, { file: this.path });
    }
    const { blockSize: bs } = this.options;
    const first = part?.firstBlock ?? 0;
    const count = part?.blocks ?? this.blocksAcross;
    if (!Number.isInteger(first) || !Number.isInteger(count) || first < 0 || count < 1 || first + count > this.blocksAcross) {
      throw new UsageError(`${this.path}: ${where}: blocks ${first}..${first + count - 1} are outside columns 0..${this.blocksAcross - 1} of the block grid`, { file: this.path });
    }
    // the planes span the columns of these blocks only
    const width = Math.min(count * bs, this.options.width - first * bs);
    const ch = Math.min(bs, this.options.height - blockRow * bs);
    const planes = this.planes(data, [width * ch, width * bs], where, `${width} x ${ch} (width x block-row height)`);
    for (let c = first; c < first + count; c++) this.claim(c, blockRow, where);
    for (let c = first; c < first + count; c++) {
      const cw = Math.min(bs, this.options.width - c * bs);
      await this.admit(() => this.submit(c, blockRow, planes, width, (c - first) * bs, cw, ch));
    }
  }

  /**
   * Write block (blockCol, blockRow) from bytes already encoded for this file's codec and
   * predictor, one array per band (as another writer with the same options stored them).
   */
  async writeEncodedBlock(blockCol: number, blockRow: number, bands: readonly Uint8Array[]): Promise<void> {
    const where = `writeEncodedBlock(${blockCol}, ${blockRow})`;
    this.checkOpen(where);
    if (bands.length !== this.options.bandCount) {
      throw new UsageError(`${this.path}: ${where} got ${bands.length} band(s); the writer has ${this.options.bandCount}`, { file: this.path });
    }
    this.claim(blockCol, blockRow, where);
    await this.admit(() => this.place(blockCol, blockRow, Promise.resolve([...bands]), () => {}));
  }

  /**
   * Wait until every block submitted so far is in the file and on the disk (fdatasync), and say
   * where they are: a run that is killed later can resume from here.
   */
  async checkpoint(): Promise<WriterCheckpoint> {
    this.checkOpen('checkpoint()');
    await this.admission;
    await this.appender.drain();
    await this.file!.datasync();
    const blocks = this.placed;
    this.placed = [];
    return { position: this.appender.position, blocks };
  }

  /**
   * Finish the file and rename it to the target. On failure the temporary file is deleted.
   * @param runMetadata metadata items about the run that made the file (command, times): written
   *   to the PAM sidecar, not into the file, whose bytes then depend on its pixels alone
   */
  async close(runMetadata?: Readonly<Record<string, string>>): Promise<void> {
    if (this.state === 'closed') return;
    if (this.closing !== null) return this.closing;
    this.checkOpen('close()');
    this.runMetadata = runMetadata ?? {};
    this.state = 'closing';
    this.closing = this.finish();
    return this.closing;
  }

  /** Stop writing and delete the temporary file; the target is never touched. Safe to call at any time. */
  abort(): Promise<void> {
    if (this.aborting !== null) return this.aborting;
    if (this.state === 'closed') return Promise.resolve();
    const closing = this.state === 'closing' ? this.closing : null;
    this.state = 'aborted';
    // A close() in progress notices the abort at its next step and cleans up itself.
    this.aborting = closing !== null ? closing.then(
      () => undefined,
      () => undefined,
    ) : this.cleanup();
    return this.aborting;
  }

  private async finish(): Promise<void> {
    try {
      await this.admission;
      await this.appender.drain();
      this.checkAborted();
      if (this.options.cog) await this.finishCog();
      else await this.finishPlain();
      await this.sidecar.write();
      this.checkAborted();
      await this.file!.close();
      this.file = null;
      failpoint('close');
      // the file written last becomes the target; a resumable temporary file stays untouched until
      // then, so a run killed before this point resumes from the bytes its journal describes
      const finished = this.options.cog ? this.cogPath : this.compacted ? this.compactPath : this.tempPath;
      await rename(finished, this.target);
      if (finished !== this.tempPath) await unlink(this.tempPath);
      await this.sidecar.place();
      for (const p of [this.tempPath, this.cogPath, this.compactPath]) forgetTempFile(p);
      this.state = 'closed';
      this.options.signal?.removeEventListener('abort', this.onAbort);
    } catch (e) {
      this.state = 'aborted';
      await this.cleanup();
      throw this.asOutputError(e);
    }
  }

  private get cogPath(): string {
    return `${this.tempPath}.cog`;
  }

  private get compactPath(): string {
    return `${this.tempPath}.compact`;
  }

  /** The PAM sidecar with band 1's colour table and category names (see GeoTiffWriterOptions). */
  private get sidecar(): Sidecar {
    const fixedTemp = this.temp.path !== undefined ? `${this.tempPath}.aux.xml` : undefined;
    this.sidecarValue ??= new Sidecar(this.path, pamXml(this.options.categoryNames, this.options.colorTable, this.runMetadata), fixedTemp);
    return this.sidecarValue;
  }

  private async finishPlain(): Promise<void> {
    if (!this.inCanonicalOrder()) await this.compact();
    const big = this.big;
    const at = Math.ceil(this.appender.position / 8) * 8;
    const entries = imageEntries(this.spec, this.options.width, this.options.height, this.offsets, this.counts, big, false);
    const ifd = encodeIfdChecked(entries, at, big, this.path, this.options.bigTiff);
    const file = this.file!;
    await file.write(ifd, 0, ifd.length, at);
    await file.write(encodeHeader(big, at), 0, headerLength(big), 0);
  }

  /**
   * The canonical layout: blocks row-major, each block's bands in order, back to back from the
   * header on. A file written block row by block row is already in it; one written in another
   * order (chunks, a resumed run, merged parts) is rewritten into it at close, so the file's
   * bytes depend on its pixels alone.
   */
  private inCanonicalOrder(): boolean {
    const perBand = this.blocksAcross * this.blocksDown;
    let next = headerLength(this.big);
    for (let tile = 0; tile < perBand; tile++) {
      for (let band = 0; band < this.options.bandCount; band++) {
        const i = band * perBand + tile;
        if (this.counts[i] === 0) continue;
        if (this.offsets[i] !== next) return false;
        next += this.counts[i]!;
      }
    }
    return true;
  }

  /**
   * Copy every block, in canonical order, into a new temporary file that the rest of close()
   * finishes. The temporary file it copies from is left as it is (see finish()).
   */
  private async compact(): Promise<void> {
    const perBand = this.blocksAcross * this.blocksDown;
    const path = this.compactPath;
    createTempFile(path, { replace: true }); // a leftover of a run killed while compacting is ours to replace
    const out = await open(path, 'r+');
    try {
      let at = headerLength(this.big);
      await out.write(encodeHeader(this.big, 0), 0, at, 0);
      let buf = new Uint8Array(0);
      for (let tile = 0; tile < perBand; tile++) {
        this.checkAborted();
        for (let band = 0; band < this.options.bandCount; band++) {
          const i = band * perBand + tile;
          const n = this.counts[i]!;
          if (n === 0) continue;
          if (buf.length < n) buf = new Uint8Array(n);
          const { bytesRead } = await this.file!.read(buf, 0, n, this.offsets[i]!);
          if (bytesRead !== n) throw new OutputError(`${this.path}: block ${i} runs past the end of the temporary file ${this.tempPath}`, { file: this.path });
          await writeAll(out, [buf.subarray(0, n)], at, n);
          this.offsets[i] = at;
          at += n;
        }
      }
      await this.file!.close();
      this.file = out;
      this.compacted = true;
      this.appender.position = at;
    } catch (e) {
      await out.close().catch(() => undefined);
      await unlink(path).catch(() => undefined);
      forgetTempFile(path);
      throw e;
    }
  }

  private async finishCog(): Promise<void> {
    const o = this.options;
    const levels = cogLevels(o.width, o.height, o.blockSize);
    const blocks: LevelBlocks[] = [{ level: levels[0]!, offsets: this.offsets, counts: this.counts }];
    const ctx = {
      file: this.file!,
      appender: this.appender,
      coder: this.coder,
      dataType: o.dataType,
      bandCount: o.bandCount,
      blockSize: o.blockSize,
      downsample: {
        blockSize: o.blockSize,
        mode: o.overviewResampling,
        nodata: o.nodata,
        integer: !isFloat(o.dataType),
        empty: o.nodata ?? (isFloat(o.dataType) ? NaN : 0),
      },
      fill: this.fill,
      checkAborted: () => this.checkAborted(),
    };
    for (let k = 1; k < levels.length; k++) blocks.push(await buildOverview(ctx, blocks[k - 1]!, levels[k]!));
    const tooLarge = (): Error =>
      new OutputError(`${this.path}: the COG is over 4 GiB, the limit of classic TIFF (bigTiff 'no'): write it with bigTiff 'yes' or 'auto'`, {
        file: this.path,
      });
    const wanted = o.bigTiff === 'auto' ? null : o.bigTiff === 'yes';
    this.big = await writeCog(this.cogPath, this.file!, this.spec, blocks, wanted, tooLarge, () => this.checkAborted());
  }

  private async cleanup(): Promise<void> {
    this.options.signal?.removeEventListener('abort', this.onAbort);
    await this.admission.catch(() => undefined);
    await this.appender.drain().catch(() => undefined);
    if (this.file !== null) {
      await this.file.close().catch(() => undefined);
      this.file = null;
    }
    for (const p of this.temp.keep ? [this.cogPath, this.compactPath] : [this.tempPath, this.cogPath, this.compactPath]) {
      await unlink(p).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'ENOENT') throw e;
      });
      forgetTempFile(p);
    }
    await this.sidecar.discard();
  }

  private checkAborted(): void {
    if (this.state === 'aborted' || this.options.signal?.aborted) {
      throw new AbortedError(`writing ${this.path} was aborted`);
    }
  }

  private checkOpen(where: string): void {
    this.checkAborted();
    if (this.state !== 'open') {
      throw new UsageError(`${this.path}: ${where} after close(): the writer is ${this.state}`, { file: this.path });
    }
    if (this.appender.failure !== undefined) throw this.asOutputError(this.appender.failure);
  }

  private asOutputError(e: unknown): Error {
    return e instanceof TilecastError ? e : outputError(e, dirname(this.target), this.path, estimateSize(this.options, this.spec));
  }

  private claim(col: number, row: number, where: string): void {
    const i = row * this.blocksAcross + col;
    if (this.submitted[i] !== 0) {
      throw new UsageError(`${this.path}: ${where}: block (${col}, ${row}) was already written; each block is written once`, { file: this.path });
    }
    this.submitted[i] = 1;
  }

  /** Split block data into per-band planes of one of the allowed lengths. */
  private planes(data: BlockData, lengths: readonly number[], where: string, shape: string): TypedArray[] {
    const { bandCount, dataType } = this.options;
    const ctor = TYPED_ARRAY[dataType];
    let planes: TypedArray[];
    if (isTypedArray(data)) {
      const n = lengths.find((l) => l * bandCount === data.length);
      if (n === undefined) {
        throw new UsageError(
          `${this.path}: ${where} got one array of ${data.length} samples; expected ${bandCount} band(s) of ${shape} samples one after another`,
          { file: this.path },
        );
      }
      planes = [];
      for (let b = 0; b < bandCount; b++) planes.push(data.subarray(b * n, (b + 1) * n));
    } else {
      planes = [...data];
      if (planes.length !== bandCount) {
        throw new UsageError(`${this.path}: ${where} got ${planes.length} band arrays; the writer has ${bandCount} band(s)`, { file: this.path });
      }
    }
    planes.forEach((p, b) => {
      if (!(p instanceof ctor)) {
        throw new UsageError(
          `${this.path}: ${where}: band ${b + 1} is a ${p?.constructor?.name ?? typeof p}; the writer's dataType '${dataType}' needs ${TYPED_ARRAY_NAME[dataType]}`,
          { file: this.path },
        );
      }
      if (p.length !== planes[0]!.length || !lengths.includes(p.length)) {
        throw new UsageError(`${this.path}: ${where}: band ${b + 1} has ${p.length} samples; expected ${shape}`, { file: this.path });
      }
    });
    return planes;
  }

  /** Run `fn` once there is room in the pipeline, in call order. */
  private admit(fn: () => void): Promise<void> {
    const run = this.admission.then(async () => {
      await this.appender.room();
      this.checkAborted();
      if (this.appender.failure !== undefined) throw this.asOutputError(this.appender.failure);
      fn();
    });
    this.admission = run.catch(() => undefined);
    return run;
  }

  /** Copy one block out of the planes (rows of `stride` samples, starting at column x0), encode and queue it. */
  private submit(col: number, row: number, planes: readonly TypedArray[], stride: number, x0: number, cw: number, ch: number): void {
    const bs = this.options.blockSize;
    const raws: Uint8Array[] = [];
    const parts: Promise<Uint8Array>[] = [];
    for (const plane of planes) {
      const raw = this.coder.take();
      raws.push(raw);
      copyBlock(viewOf(this.options.dataType, raw, bs * bs), plane, stride, x0, cw, ch, bs, this.fill);
      parts.push(this.coder.encode(raw));
    }
    this.place(col, row, Promise.all(parts), () => {
      for (const r of raws) this.coder.give(r);
    });
  }

  /** Append a block's encoded bands (in submission order) and record where they went. */
  private place(col: number, row: number, parts: Promise<Uint8Array[]>, release: () => void): void {
    const perBand = this.blocksAcross * this.blocksDown;
    const tile = row * this.blocksAcross + col;
    this.appender.submit(
      parts,
      (band, offset, length) => {
        this.offsets[band * perBand + tile] = offset;
        this.counts[band * perBand + tile] = length;
        this.placed.push([tile, band, offset, length]);
      },
      release,
    );
  }
}

/** Create a writer; see GeoTiffWriter. */
export function createGeoTiffWriter(path: string, options: GeoTiffWriterOptions, temp: TempFileOptions = {}): Promise<GeoTiffWriter> {
  return GeoTiffWriter.create(path, options, temp);
}

function copyBlock(dst: TypedArray, src: TypedArray, stride: number, x0: number, cw: number, ch: number, bs: number, fill: number): void {
  for (let r = 0; r < ch; r++) {
    const s = r * stride + x0;
    dst.set(src.subarray(s, s + cw), r * bs);
    if (cw < bs) dst.fill(fill, r * bs + cw, (r + 1) * bs);
  }
  if (ch < bs) dst.fill(fill, ch * bs);
}

/** Upper bound of a streamed (non-COG) file's size, to choose BigTIFF before writing. */
function estimateSize(o: ResolvedWriterOptions, spec: ImageSpec): number {
  const blocks = Math.ceil(o.width / o.blockSize) * Math.ceil(o.height / o.blockSize) * o.bandCount;
  const blockBytes = o.blockSize * o.blockSize * bytesPerSample(o.dataType);
  const data = blocks * (blockBytes * EXPANSION[o.compression] + 64);
  return 16 + data + blocks * 8 + 65536 + (spec.gdalMetadata?.length ?? 0);
}

function encodeIfdChecked(entries: Parameters<typeof encodeIfd>[0], at: number, big: boolean, path: string, option: string): Uint8Array {
  try {
    return encodeIfd(entries, at, big, 0);
  } catch (e) {
    if (e instanceof RangeError) {
      throw new OutputError(`${path}: the file grew past 4 GiB, the limit of classic TIFF (bigTiff '${option}'): write it with bigTiff 'yes'`, {
        file: path,
        cause: e,
      });
    }
    throw e;
  }
}

function diskFull(e: unknown, folder: string, estimate: number | undefined): string {
  const mb = (n: number) => `${(n / 2 ** 20).toFixed(1)} MB`;
  const where = code(e) === 'EDQUOT' ? `the disk quota on ${folder} is used up` : code(e) === 'EFBIG' ? `the file size limit (ulimit -f) was reached in ${folder}` : `the disk holding ${folder} is full`;
  const at = e instanceof DiskFullError ? `: ${mb(e.written)} were written and ${mb(e.needed)} more were needed for the next blocks` : '';
  const total = estimate !== undefined ? ` (the whole file needs up to about ${mb(estimate)})` : '';
  return `${where}${at}${total}; free space or choose another output path`;
}

function code(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException)?.code;
}

export function outputError(e: unknown, folder: string, path: string, estimate?: number): OutputError {
  const code = (e as NodeJS.ErrnoException)?.code;
  const reason =
    code === 'ENOENT'
      ? `the folder ${folder} does not exist: create it (mkdir -p ${folder}) or choose another output path`
      : code === 'ENOTDIR'
        ? `${folder} is not a folder: choose an output path inside an existing folder`
        : code === 'EACCES' || code === 'EPERM' || code === 'EROFS'
          ? `the folder ${folder} is not writable (${code}): fix its permissions or choose another output path`
          : code === 'ENOSPC' || code === 'EDQUOT' || code === 'EFBIG'
            ? diskFull(e, folder, estimate)
            : `${e instanceof Error ? e.message : String(e)}`;
  return new OutputError(`cannot write ${path}: ${reason}`, { file: path, cause: e });
}

function isTypedArray(d: BlockData): d is TypedArray {
  return ArrayBuffer.isView(d);
}
