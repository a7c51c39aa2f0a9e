/**
 * One band's block from raw samples to the bytes stored in the file (predictor, then codec)
 * and back.
 */
import type { DataType } from '../raster/types.js';
import { bytesPerSample } from '../raster/types.js';
import type { Codec } from './codecs.js';
import type { PredictorCode } from './options.js';
import { applyPredictor, undoPredictor } from './predictor.js';

export class BlockCoder {
  /** Bytes of one band's full (padded) block. */
  readonly blockBytes: number;
  private readonly bps: number;
  private readonly scratch: Uint8Array;
  private readonly pool: Uint8Array[] = [];

  constructor(
    private readonly codec: Codec,
    private readonly predictor: PredictorCode,
    dataType: DataType,
    private readonly blockSize: number,
  ) {
    this.bps = bytesPerSample(dataType);
    this.blockBytes = blockSize * blockSize * this.bps;
    this.scratch = new Uint8Array(blockSize * this.bps);
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

  /** Decode stored bytes into `out` (a buffer from take()). */
  async decode(stored: Uint8Array, out: Uint8Array): Promise<void> {
    const raw = await this.codec.decode(stored, this.blockBytes);
    out.set(raw);
    undoPredictor(out, this.predictor, this.bps, this.blockSize, this.blockSize, this.scratch);
  }
}
