/**
 * Open the input rasters and check they share one pixel grid (size, geotransform, CRS) and that
 * the dynamic files agree on their band count.
 */
import { GridMismatchError, InputError, UsageError } from '../errors.js';
import type { BlockCache } from '../raster/block-cache.js';
import { RasterSource } from '../raster/source.js';

export interface Inputs {
  dynamic: RasterSource[];
  statics: RasterSource[];
  /** All of them, dynamic first. */
  all: RasterSource[];
}

export async function openInputs(dynamic: readonly string[], statics: readonly string[], cache: BlockCache): Promise<Inputs> {
  if (dynamic.length === 0) throw new UsageError('no dynamic inputs: give one GeoTIFF per time step with --dynamic t0.tif t1.tif ...');
  const opened: RasterSource[] = [];
  try {
    for (const f of [...dynamic, ...statics]) opened.push(await RasterSource.open(f, { cache }));
    const inputs = { dynamic: opened.slice(0, dynamic.length), statics: opened.slice(dynamic.length), all: opened };
    checkInputs(inputs);
    return inputs;
  } catch (err) {
    await Promise.all(opened.map((s) => s.close()));
    throw err;
  }
}

export async function closeInputs(inputs: Inputs): Promise<void> {
  await Promise.all(inputs.all.map((s) => s.close()));
}

function sameNumber(a: number, b: number, scale: number): boolean {
  return Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b), scale);
}

function checkInputs({ dynamic, all }: Inputs): void {
  const ref = all[0]!;
  if (!ref.geoTransform) {
    throw new InputError(`${ref.path}: has no georeferencing (geotransform); tilecast needs georeferenced inputs to place the region`, { file: ref.path });
  }
  const refCrs = ref.crs;
  if (!refCrs) throw new InputError(`${ref.path}: has no CRS; assign one with gdal_edit.py -a_srs EPSG:XXXX ${ref.path}`, { file: ref.path });
  const g = ref.geoTransform;
  const fix = () => {
    const [minX, maxY] = [g[0], g[3]];
    const maxX = g[0] + ref.width * g[1];
    const minY = g[3] + ref.height * g[5];
    return `put every input on the grid of ${ref.path}: gdalwarp -t_srs EPSG:${refCrs.epsg ?? 'XXXX'} -tr ${g[1]} ${Math.abs(g[5])} -te ${minX} ${minY} ${maxX} ${maxY} -tap INPUT.tif OUTPUT.tif`;
  };
  for (const s of all.slice(1)) {
    const diff: string[] = [];
    if (s.width !== ref.width || s.height !== ref.height) diff.push(`size ${s.width}x${s.height} vs ${ref.width}x${ref.height}`);
    const sg = s.geoTransform;
    if (!sg) diff.push('no geotransform');
    else if (!sg.every((v, i) => sameNumber(v, g[i]!, Math.abs(g[1]) + Math.abs(g[5])))) diff.push(`geotransform [${sg.join(', ')}] vs [${g.join(', ')}]`);
    const c = s.crs;
    if (!c) diff.push('no CRS');
    else if (!(c.epsg !== null && c.epsg === refCrs.epsg) && c.proj4 !== refCrs.proj4) diff.push(`CRS ${c.epsg !== null ? `EPSG:${c.epsg}` : c.proj4} vs ${refCrs.epsg !== null ? `EPSG:${refCrs.epsg}` : refCrs.proj4}`);
    if (diff.length > 0) {
      throw new GridMismatchError(`${s.path} and ${ref.path} are not on the same pixel grid (${diff.join('; ')}); ${fix()}`, { file: s.path });
    }
  }
  const bands = dynamic[0]!.bandCount;
  for (const d of dynamic.slice(1)) {
    if (d.bandCount !== bands) {
      throw new InputError(`${d.path} has ${d.bandCount} bands but ${dynamic[0]!.path} has ${bands}: every --dynamic file (one per time step) must have the same bands`, { file: d.path });
    }
  }
}
