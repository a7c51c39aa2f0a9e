/**
 * LERC blocks (Esri's Limited Error Raster Compression, version 2), decoded by the `lerc` package
 * (4.x: Esri's C++ library in wasm, the library GDAL uses). The blob's header is checked against
 * the block before the decoder allocates anything: size, values per pixel, sample type and blob
 * length must be what the TIFF says.
 *
 * LERC's mask of invalid pixels is read as libtiff reads it: for 8-bit pixel-interleaved data
 * whose last sample is an unassociated alpha, the blob leaves the alpha out and the mask is the
 * alpha (0 or 255); for float samples one per pixel, invalid pixels are NaN; in any other layout
 * libtiff cannot decode a blob with invalid pixels, and neither does tilecast.
 *
 * libtiff byte-swaps a big-endian file's samples before encoding them, whatever the codec, so a
 * blob holds the samples in the file's byte order: the output here is in file order too.
 */
import { CodecError, describeThrown } from './codec-error.js';
import type { DataType } from './types.js';

/** LERC's data type codes, by tilecast's names. */
const LERC_TYPE: Record<DataType, number> = {
  int8: 0, uint8: 1, int16: 2, uint16: 3, int32: 4, uint32: 5, float32: 6, float64: 7,
};
const LERC_TYPE_NAMES = ['int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'float32', 'float64'];

export interface LercTarget {
  width: number;
  /** Accepted heights: the block's rows (and, for a last strip, also the rows inside the image). */
  heights: readonly number[];
  /** Samples per pixel in the block (1 for band-interleaved files). */
  samples: number;
  dataType: DataType;
  /** The block is pixel-interleaved and its last sample is an unassociated alpha. */
  alpha: boolean;
}

interface LercResult {
  width: number;
  height: number;
  pixels: ArrayLike<number>[];
  mask: Uint8Array | null;
}
interface LercModule {
  load(): Promise<void>;
  decode(b: Uint8Array, o: { returnInterleaved: boolean }): LercResult;
}
let lerc: Promise<LercModule> | undefined;

function lercModule(): Promise<LercModule> {
  lerc ??= (async () => {
    const m = (await import('lerc')) as unknown as LercModule & { default?: LercModule };
    const mod = typeof m.decode === 'function' ? m : m.default!;
    await mod.load();
    return mod;
  })();
  return lerc;
}

interface Header {
  version: number;
  width: number;
  height: number;
  depth: number;
  blobSize: number;
  dataType: number;
}

function readHeader(b: Uint8Array): Header {
  const id = String.fromCharCode(...b.subarray(0, 6));
  if (id !== 'Lerc2 ') throw new CodecError(`the block does not start with a LERC 2 header (found ${JSON.stringify(id)})`);
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const need = 6 + 4 + 4 + 4 * 7 + 24;
  if (b.length < need) throw new CodecError(`the LERC block is ${b.length} bytes, shorter than its header`);
  const version = v.getInt32(6, true);
  if (version < 2 || version > 6) throw new CodecError(`LERC version 2.${version} is not supported (2.2 to 2.6)`, { unsupported: true });
  let p = version >= 3 ? 14 : 10;
  const height = v.getInt32(p, true);
  const width = v.getInt32(p + 4, true);
  p += 8;
  const depth = version >= 4 ? v.getInt32(p, true) : 1;
  if (version >= 4) p += 4;
  return { version, width, height, depth, blobSize: v.getInt32(p + 8, true), dataType: v.getInt32(p + 12, true) };
}

/** Decode one LERC blob to the block's samples (in the file's byte order, see above). */
export async function decodeLerc(blob: Uint8Array, t: LercTarget): Promise<Uint8Array> {
  const h = readHeader(blob);
  if (h.width !== t.width || !t.heights.includes(h.height)) {
    throw new CodecError(`the LERC blob is ${h.width}x${h.height} pixels, the block is ${t.width}x${t.heights.join(' or ')}`);
  }
  if (h.dataType !== LERC_TYPE[t.dataType]) {
    throw new CodecError(`the LERC blob holds ${LERC_TYPE_NAMES[h.dataType] ?? `type ${h.dataType}`} values, the TIFF says ${t.dataType}`);
  }
  if (h.blobSize > blob.length) throw new CodecError(`the LERC blob claims ${h.blobSize} bytes but the block has ${blob.length}; it is truncated`);
  if (h.blobSize < blob.length) {
    if (String.fromCharCode(...blob.subarray(h.blobSize, h.blobSize + 6)) === 'Lerc2 ') {
      throw new CodecError('LERC blocks holding several bands as separate blobs are not supported', { unsupported: true });
    }
    throw new CodecError(`${blob.length - h.blobSize} byte(s) follow the LERC blob (${h.blobSize} bytes)`);
  }
  const float = t.dataType === 'float32' || t.dataType === 'float64';
  const mode = t.alpha && t.dataType === 'uint8' && h.depth === t.samples - 1 ? 'alpha' : float && t.samples === 1 ? 'nan' : 'none';
  const depth = mode === 'alpha' ? t.samples - 1 : t.samples;
  if (h.depth !== depth) throw new CodecError(`the LERC blob has ${h.depth} value(s) per pixel, the block ${t.samples}`);

  const mod = await lercModule();
  let r: LercResult;
  try {
    r = mod.decode(blob, { returnInterleaved: true });
  } catch (err) {
    throw new CodecError(`the LERC blob is corrupt (${describeThrown(err, 'the decoder gave no reason')})`, { cause: err });
  }
  const n = h.width * h.height * h.depth;
  const px = r.pixels[0] as unknown as Float32Array | undefined;
  if (r.pixels.length !== 1 || px === undefined || px.length !== n) {
    throw new CodecError(`the LERC blob decoded to ${px?.length ?? 0} values, expected ${n}`);
  }
  const mask = r.mask;
  if (mode === 'alpha') {
    // the alpha is the mask: 255 where valid
    const px8 = px as unknown as Uint8Array;
    const out = new Uint8Array(h.width * h.height * t.samples);
    for (let i = 0, k = 0, o = 0; i < h.width * h.height; i++) {
      for (let d = 0; d < depth; d++) out[o++] = px8[k++]!;
      out[o++] = mask === null || mask[i] !== 0 ? 255 : 0;
    }
    return out;
  }
  if (mask !== null && mask.includes(0)) {
    if (mode !== 'nan') throw new CodecError(`the LERC blob marks pixels invalid, which ${t.dataType} data with ${t.samples} sample(s) per pixel cannot hold (libtiff refuses it too)`);
    // (In a big-endian file the NaN lands byte-swapped, as it does in libtiff before it swaps the
    // block back: GDAL reads the same value there.)
    for (let i = 0; i < mask.length; i++) if (mask[i] === 0) px[i] = NaN;
  }
  return new Uint8Array(px.buffer, px.byteOffset, px.byteLength);
}
