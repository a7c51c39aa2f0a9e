/** Sample types tilecast reads and writes, named as in numpy / rasterio. */
export type DataType = 'uint8' | 'int8' | 'uint16' | 'int16' | 'uint32' | 'int32' | 'float32' | 'float64';

export interface TypedArrayMap {
  uint8: Uint8Array;
  int8: Int8Array;
  uint16: Uint16Array;
  int16: Int16Array;
  uint32: Uint32Array;
  int32: Int32Array;
  float32: Float32Array;
  float64: Float64Array;
}

export type TypedArray = TypedArrayMap[DataType];

interface TypedArrayCtor<T> {
  new (length: number): T;
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): T;
  BYTES_PER_ELEMENT: number;
}

export const TYPED_ARRAY: { [K in DataType]: TypedArrayCtor<TypedArrayMap[K]> } = {
  uint8: Uint8Array,
  int8: Int8Array,
  uint16: Uint16Array,
  int16: Int16Array,
  uint32: Uint32Array,
  int32: Int32Array,
  float32: Float32Array,
  float64: Float64Array,
};

export function bytesPerSample(dtype: DataType): number {
  return TYPED_ARRAY[dtype].BYTES_PER_ELEMENT;
}

export function isFloat(dtype: DataType): boolean {
  return dtype === 'float32' || dtype === 'float64';
}

/**
 * GDAL's affine geotransform: x = gt[0] + col*gt[1] + row*gt[2], y = gt[3] + col*gt[4] + row*gt[5],
 * for the top-left corner of pixel (col, row).
 */
export type GeoTransform = readonly [number, number, number, number, number, number];

/** Coordinate reference system as far as tilecast needs it. */
export interface Crs {
  /** EPSG code, or null for a user-defined CRS. */
  epsg: number | null;
  /** proj4 definition string usable with proj4js. */
  proj4: string;
  /** Human-readable name when known. */
  name?: string;
}

/** A rectangle of pixels: columns x..x+width, rows y..y+height. */
export interface PixelWindow {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** A GeoTIFF's GeoKey directory as stored: the three tags, verbatim. */
export interface RawGeoKeys {
  /** GeoKeyDirectoryTag (34735) values. */
  directory: number[];
  /** GeoDoubleParamsTag (34736) values. */
  doubles: number[];
  /** GeoAsciiParamsTag (34737) text. */
  ascii: string;
}
