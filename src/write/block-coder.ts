/**
 * One band's block from raw samples to the bytes stored in the file (predictor, then codec)
 * and back (through the reader's decoders, so the COG pass reads what any reader would).
 */
import { decompress, type BlockLayout } from '../raster/codecs.js';
import { toSamples } from '../raster/predictor.js';
import type { DataType } from '../raster/types.js';
import { bytesPerSample, isFloat } from '../raster/types.js';
import type { Codec } from './codecs.js';
import type { PredictorCode } from './options.js';
import { applyPredictor } from './predictor.js';

export class BlockCoder {
  /** Bytes of one band's full (padded) block. */
  readonly blockBytes: number;
  private readonly bps: number;
  private readonly scratch: Uint8Array;
  private readonly pool: Uint8Array[] = [];
  /** How the reader decodes one of these blocks. */
  private readonly layout: BlockLayout;

  constructor(
    private readonly codec: Codec,
    private readonly predictor: PredictorCode,
    private readonly dataType: DataType,
    private readonly blockSize: number,
  ) {
    this.bps = bytesPerSample(dataType);
    this.blockBytes = blockSize * blockSize * this.bps;
    this.scratch = new Uint8Array(blockSize * this.bps);
    this.layout = { width: blockSize, height: blockSize, samplesPerBlock: 1, bitsPerSample: this.bps * 8, planar: 2, littleEndian: true, float: isFloat(dataType) };
  }

  /** A block buffer from the pool (contents undefined). */
  take(): Uint8Array {
    return this.pool.pop() ?? new Uint8Array(this.blockBytes);
  }

  /** Return a buffer obtained from take(). */
  give(buf: Uint8Array): void {
    this.pool.push(buf);
  }

  /** Encode a raw block: the predictor runs now, in place (the buffer is spent), the codec asynchronously. */
  encode(raw: Uint8Array): Promise<Uint8Array> {
    applyPredictor(raw, this.predictor, this.bps, this.blockSize, this.blockSize, this.scratch);
    return this.codec.encode(raw);
  }

  /** Decode stored bytes into `out` (a buffer from take()), with the reader's codecs and predictors. */
  async decode(stored: Uint8Array, out: Uint8Array): Promise<void> {
    const raw = await decompress(this.codec.tiffCode, stored, this.blockBytes, this.layout);
    if (raw.length !== this.blockBytes) throw new Error(`block decoded to ${raw.length} bytes, expected ${this.blockBytes}`);
    const samples = toSamples(raw, this.dataType, true, this.predictor, this.blockSize, this.blockSize, 1);
    out.set(new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength));
  }
}
