/**
 * A class map written as `tilecast predict` writes one: TILECAST_* provenance items in the file
 * (GDAL_METADATA), the run record in the PAM sidecar (close(runMetadata)), a colour table and
 * category names. Used by the raster and CLI `info` tests.
 */
import { createGeoTiffWriter } from '../../src/write/writer.js';

export const INPUTS = Array.from({ length: 12 }, (_, i) => ({ file: `s2_2024-${String(i + 1).padStart(2, '0')}.tif`, bytes: 123_456_789 + i }));

export const FILE_METADATA: Record<string, string> = {
  TILECAST_VERSION: '0.1.0',
  TILECAST_MODEL: 'crops.onnx',
  TILECAST_MODEL_SHA256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  TILECAST_DYNAMIC: JSON.stringify(INPUTS),
  TILECAST_STATIC: JSON.stringify([{ file: 'dem.tif', bytes: 5_000_000 }]),
  TILECAST_REGION_SHA256: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
  TILECAST_NORM: JSON.stringify({ mean: Array.from({ length: 24 }, (_, i) => 1000.5 + i), std: Array.from({ length: 24 }, (_, i) => 300.25 + i) }),
  TILECAST_TILE: '128',
  TILECAST_STRIDE: '64',
  TILECAST_BLEND: 'pyramid',
  TILECAST_PLAN: '0123456789abcdef0123456789abcdef',
  // characters XML escapes, in a key and a value
  'NOTE_<&>': 'a "quoted" <value> & more',
};

export const RUN_METADATA: Record<string, string> = {
  TILECAST_COMMAND: `tilecast predict --model crops.onnx --dynamic ${INPUTS.map((i) => `data/${i.file}`).join(' ')} --static dem.tif --region district.geojson --out prediction.tif`,
  TILECAST_STARTED: '2026-01-05T10:00:00.000Z',
  TILECAST_FINISHED: '2026-01-05T10:12:31.250Z',
  TILECAST_BATCH_SIZE: '16',
  TILECAST_WORKERS: '4',
};

export const CLASSES = ['water', 'forest', 'crop', 'urban'];
export const COLOURS = [[0, 0, 255], [0, 128, 0], [255, 255, 0], [255, 0, 0]] as const;

/** Write the class map to `path` (and its sidecar beside it). */
export async function writeProvenanceFixture(path: string): Promise<void> {
  const w = await createGeoTiffWriter(path, {
    width: 300, height: 200, dataType: 'uint8', blockSize: 128, metadata: FILE_METADATA,
    colorTable: COLOURS, categoryNames: CLASSES, geoTransform: [500000, 10, 0, 4000000, 0, -10],
  });
  for (let row = 0; row < 2; row++) {
    const plane = new Uint8Array(300 * 128);
    for (let i = 0; i < plane.length; i++) plane[i] = (i + row) % 4;
    await w.writeBlockRow(row, plane);
  }
  await w.close(RUN_METADATA);
}
