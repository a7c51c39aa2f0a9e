/**
 * tilecast: large-area prediction with an ONNX model over GeoTIFF rasters.
 *
 * @example
 * ```ts
 * import { predict } from 'tilecast';
 * const summary = await predict({
 *   model: 'model.onnx',
 *   dynamic: ['t0.tif', 't1.tif', 't2.tif'],
 *   static: ['dem.tif'],
 *   region: 'region.geojson',
 *   out: 'prediction.tif',
 *   tile: 128, stride: 64, batchSize: 16,
 * });
 * console.log(`${summary.tiles.computed} tiles in ${summary.seconds.toFixed(1)} s`);
 * ```
 */
export { predict, DEFAULT_PREDICT, type PredictOptions, type PredictSummary, type Progress } from './pipeline/predict.js';
export { makePlan, estimateMemory, type Plan, type PlannedTile } from './plan/plan.js';
export { parseRegion, regionToPixels, type Region } from './plan/region.js';
export { RasterSource, type ReadOptions, type WindowData } from './raster/source.js';
export { isUrl, readBytes, readText, type ByteSource } from './raster/byte-source.js';
export { merge, type MergeOptions, type MergeSummary } from './write/merge.js';
export { BlockCache, type BlockCacheOptions } from './raster/block-cache.js';
export { rasterInfo, type RasterInfo } from './raster/info.js';
export { bandChecksum } from './raster/checksum.js';
export { crsFromEpsg, registerCrsDefinition, registerEpsg } from './raster/crs.js';
export { createGeoTiffWriter, GeoTiffWriter } from './write/writer.js';
export { convert, type ConvertOptions, type ConvertSummary } from './write/convert.js';
export type { GeoTiffWriterOptions, Compression } from './write/options.js';
export { weightWindow, type WeightWindow } from './blend/window.js';
export type { InferenceBackend, ModelInfo } from './infer/backend.js';
export * from './errors.js';
export type { DataType, GeoTransform, Crs, PixelWindow } from './raster/types.js';
