/**
 * GeoTIFF georeferencing and GDAL's private tags, written as GDAL writes them:
 * ModelPixelScale + ModelTiepoint for north-up rasters, ModelTransformation otherwise;
 * a GeoKeyDirectory with the EPSG code; GDAL_NODATA; GDAL_METADATA.
 */
import { UnsupportedError } from '../errors.js';
import { crsParams } from '../raster/crs.js';
import type { Crs, GeoTransform, RawGeoKeys } from '../raster/types.js';
import type { IfdEntry } from './ifd.js';
import { TAG, asciiEntry } from './ifd.js';

const GEOKEY = {
  GTModelType: 1024,
  GTRasterType: 1025,
  GeographicType: 2048,
  ProjectedCSType: 3072,
} as const;
const MODEL_PROJECTED = 1;
const MODEL_GEOGRAPHIC = 2;
const RASTER_PIXEL_IS_AREA = 1;

/** True when a proj4 definition is geographic (longitude/latitude). */

/** GeoKeyDirectory values: header, then one [key, location 0, count 1, value] per key, sorted by key. */
export function geoKeyDirectory(crs: Crs | null, path: string): number[] {
  const keys: [number, number][] = [];
  if (crs !== null) {
    if (crs.epsg === null) {
      throw new UnsupportedError(
        `${path}: the output CRS has no EPSG code (${crs.proj4}); the GeoTIFF writer stores CRSs by EPSG code only: ` +
          'reproject the inputs to a CRS with an EPSG code, or assign one with gdal_edit.py -a_srs EPSG:XXXX',
        { file: path },
      );
    }
    const geographic = crsParams(crs).geographic;
    keys.push([GEOKEY.GTModelType, geographic ? MODEL_GEOGRAPHIC : MODEL_PROJECTED]);
    keys.push([GEOKEY.GTRasterType, RASTER_PIXEL_IS_AREA]);
    keys.push([geographic ? GEOKEY.GeographicType : GEOKEY.ProjectedCSType, crs.epsg]);
  } else {
    keys.push([GEOKEY.GTRasterType, RASTER_PIXEL_IS_AREA]);
  }
  const out = [1, 1, 0, keys.length];
  for (const [key, value] of keys) out.push(key, 0, 1, value);
  return out;
}

/** Georeferencing tags for the main IFD; none when there is neither a geotransform nor a CRS. */
/**
 * Georeferencing tags. `raw`, when given, is written verbatim instead of keys built from `crs`:
 * it carries a CRS without an EPSG code (user-defined GeoKeys) from an input to an output.
 */
export function georefEntries(gt: GeoTransform | null, crs: Crs | null, path: string, raw: RawGeoKeys | null = null): IfdEntry[] {
  const entries: IfdEntry[] = [];
  if (gt !== null) {
    if (gt[2] === 0 && gt[4] === 0 && gt[5] < 0) {
      entries.push({ tag: TAG.ModelPixelScale, type: 'double', values: [gt[1], -gt[5], 0] });
      entries.push({ tag: TAG.ModelTiepoint, type: 'double', values: [0, 0, 0, gt[0], gt[3], 0] });
    } else {
      const m = [gt[1], gt[2], 0, gt[0], gt[4], gt[5], 0, gt[3], 0, 0, 0, 0, 0, 0, 0, 1];
      entries.push({ tag: TAG.ModelTransformation, type: 'double', values: m });
    }
  }
  if (raw !== null) {
    entries.push({ tag: TAG.GeoKeyDirectory, type: 'short', values: raw.directory });
    if (raw.doubles.length > 0) entries.push({ tag: TAG.GeoDoubleParams, type: 'double', values: raw.doubles });
    if (raw.ascii !== '') entries.push(asciiEntry(TAG.GeoAsciiParams, raw.ascii));
  } else if (gt !== null || crs !== null) {
    entries.push({ tag: TAG.GeoKeyDirectory, type: 'short', values: geoKeyDirectory(crs, path) });
  }
  return entries;
}

/** GDAL_NODATA text: "nan", "inf", "-inf", or the shortest decimal that reads back as the same double. */
export function gdalNodataText(nodata: number): string {
  if (Number.isNaN(nodata)) return 'nan';
  if (nodata === Infinity) return 'inf';
  if (nodata === -Infinity) return '-inf';
  return String(nodata);
}

export function gdalNodataEntry(nodata: number): IfdEntry {
  return asciiEntry(TAG.GdalNodata, gdalNodataText(nodata));
}

function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/**
 * GDAL_METADATA XML with dataset items and band descriptions; null when there is nothing to write.
 * GDAL escapes item values twice (it escapes the value, then the XML serialiser escapes the
 * result) and unescapes twice on reading, so values are escaped twice here too.
 */
export function gdalMetadataXml(metadata: Readonly<Record<string, string>>, bandDescriptions: readonly string[]): string | null {
  const items: string[] = [];
  for (const [k, v] of Object.entries(metadata)) items.push(`  <Item name="${xmlEscape(k)}">${xmlEscape(xmlEscape(String(v)))}</Item>`);
  bandDescriptions.forEach((d, i) => {
    if (d !== '') items.push(`  <Item name="DESCRIPTION" sample="${i}" role="description">${xmlEscape(xmlEscape(d))}</Item>`);
  });
  if (items.length === 0) return null;
  return `<GDALMetadata>\n${items.join('\n')}\n</GDALMetadata>`;
}

/** GeoKeys with PixelIsPoint turned into PixelIsArea, for a geotransform already shifted to corners. */
export function areaKeys(raw: RawGeoKeys): RawGeoKeys {
  const directory = [...raw.directory];
  for (let i = 4; i + 3 < directory.length; i += 4) {
    if (directory[i] === GEOKEY.GTRasterType && directory[i + 1] === 0) directory[i + 3] = RASTER_PIXEL_IS_AREA;
  }
  return { ...raw, directory };
}
