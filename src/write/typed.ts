/** Typed-array views over raw block bytes. */
import type { DataType, TypedArrayMap } from '../raster/types.js';

export type TypedArray = TypedArrayMap[DataType];

/** A `dtype` view of `length` samples over `bytes` (whose byteOffset must be aligned). */
export function viewOf(dtype: DataType, bytes: Uint8Array, length: number): TypedArray {
  const { buffer, byteOffset } = bytes;
  switch (dtype) {
    case 'uint8':
      return new Uint8Array(buffer, byteOffset, length);
    case 'int8':
      return new Int8Array(buffer, byteOffset, length);
    case 'uint16':
      return new Uint16Array(buffer, byteOffset, length);
    case 'int16':
      return new Int16Array(buffer, byteOffset, length);
    case 'uint32':
      return new Uint32Array(buffer, byteOffset, length);
    case 'int32':
      return new Int32Array(buffer, byteOffset, length);
    case 'float32':
      return new Float32Array(buffer, byteOffset, length);
    case 'float64':
      return new Float64Array(buffer, byteOffset, length);
  }
}

/** Name of the typed-array class for a sample type, for messages. */
export const TYPED_ARRAY_NAME: { [K in DataType]: string } = {
  uint8: 'Uint8Array',
  int8: 'Int8Array',
  uint16: 'Uint16Array',
  int16: 'Int16Array',
  uint32: 'Uint32Array',
  int32: 'Int32Array',
  float32: 'Float32Array',
  float64: 'Float64Array',
};
