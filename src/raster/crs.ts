/**
 * Coordinate reference systems: EPSG code → proj4 definition, GeoTIFF GeoKeys → Crs.
 *
 * EPSG definitions are generated in code for the families that cover nearly all rasters in
 * practice (WGS 84 and the common national datums in geographic, UTM and a few continental
 * projections); no EPSG database is bundled. A code outside them can be supplied with
 * `registerEpsg()`. The strings follow what PROJ's `projinfo EPSG:XXXX -o PROJ` prints,
 * except where proj4js would need a grid file it does not have: NAD27 uses the EPSG:1173
 * CONUS Helmert shift (about 10 m), which is what PROJ itself falls back to without grids.
 *
 * A user-defined CRS (code 32767) is rebuilt from its projection keys for the common
 * projection methods, or from an ESRI PE string in the citation keys; otherwise
 * `crsFromGeoKeys` throws an UnsupportedError that says how to reproject the file.
 */
import proj4 from 'proj4';
import { UnsupportedError, UsageError } from '../errors.js';
import type { Crs } from './types.js';

/** GeoKey value meaning "user-defined": the parameters follow in other keys. */
export const USER_DEFINED = 32767;

const WGS84_DATUM = '+datum=WGS84';
const NAD83_DATUM = '+ellps=GRS80 +towgs84=0,0,0,0,0,0,0';
const NAD27_DATUM = '+ellps=clrk66 +towgs84=-8,160,176,0,0,0,0';
const WGS72_DATUM = '+ellps=WGS72 +towgs84=0,0,4.5,0,0,0.554,0.2263';
const GRS80_DATUM = '+ellps=GRS80 +towgs84=0,0,0,0,0,0,0';
const GRS80_ONLY = '+ellps=GRS80';

interface Entry {
  name: string;
  proj4: string;
}

/** Geographic CRS: code → [name, datum part]. Also used for GeographicTypeGeoKey in user-defined projected CRS. */
const GEOGRAPHIC: Record<number, [string, string]> = {
  4326: ['WGS 84', WGS84_DATUM],
  4269: ['NAD83', NAD83_DATUM],
  4267: ['NAD27', NAD27_DATUM],
  4258: ['ETRS89', GRS80_DATUM],
  4674: ['SIRGAS 2000', GRS80_DATUM],
  4283: ['GDA94', GRS80_ONLY],
  7844: ['GDA2020', GRS80_ONLY],
  4322: ['WGS 72', WGS72_DATUM],
  4171: ['RGF93 v1', GRS80_DATUM],
};

/** Datum codes (GeogGeodeticDatumGeoKey) → datum part. */
const DATUMS: Record<number, string> = {
  6326: WGS84_DATUM,
  6269: NAD83_DATUM,
  6267: NAD27_DATUM,
  6258: GRS80_DATUM,
  6674: GRS80_DATUM,
  6283: GRS80_ONLY,
  1168: GRS80_ONLY,
  6322: WGS72_DATUM,
  6171: GRS80_DATUM,
};

/** Ellipsoid codes (GeogEllipsoidGeoKey) → proj4 ellipsoid names. */
const ELLIPSOIDS: Record<number, string> = {
  7030: 'WGS84',
  7019: 'GRS80',
  7008: 'clrk66',
  7022: 'intl',
  7043: 'WGS72',
  7004: 'bessel',
  7001: 'airy',
  7012: 'clrk80',
  7024: 'krass',
  7015: 'evrst30',
};

/** UTM families: first code, first zone, last zone, hemisphere, datum name, datum part. */
const UTM_FAMILIES: ReadonlyArray<[number, number, number, 'N' | 'S', string, string]> = [
  [32601, 1, 60, 'N', 'WGS 84', WGS84_DATUM],
  [32701, 1, 60, 'S', 'WGS 84', WGS84_DATUM],
  [32201, 1, 60, 'N', 'WGS 72', WGS72_DATUM],
  [32301, 1, 60, 'S', 'WGS 72', WGS72_DATUM],
  [26701, 1, 22, 'N', 'NAD27', NAD27_DATUM],
  [26901, 1, 23, 'N', 'NAD83', NAD83_DATUM],
  [25828, 28, 38, 'N', 'ETRS89', GRS80_DATUM],
  [31965, 11, 22, 'N', 'SIRGAS 2000', GRS80_DATUM],
  [6210, 23, 24, 'N', 'SIRGAS 2000', GRS80_DATUM],
  [31977, 17, 25, 'S', 'SIRGAS 2000', GRS80_DATUM],
];

/** MGA (Australia) families: UTM south on GRS80, named "MGA zone N". */
const MGA_FAMILIES: ReadonlyArray<[number, number, number, string]> = [
  [28348, 48, 58, 'GDA94'],
  [7846, 46, 59, 'GDA2020'],
];

const WEB_MERCATOR = '+proj=merc +a=6378137 +b=6378137 +lat_ts=0 +lon_0=0 +x_0=0 +y_0=0 +k=1 +units=m +nadgrids=@null +wktext +no_defs';

/** Single projected CRS. */
const PROJECTED: Record<number, Entry> = {
  3857: { name: 'WGS 84 / Pseudo-Mercator', proj4: WEB_MERCATOR },
  3395: { name: 'WGS 84 / World Mercator', proj4: '+proj=merc +lon_0=0 +k=1 +x_0=0 +y_0=0 +datum=WGS84 +units=m +no_defs' },
  3035: { name: 'ETRS89-extended / LAEA Europe', proj4: '+proj=laea +lat_0=52 +lon_0=10 +x_0=4321000 +y_0=3210000 +ellps=GRS80 +towgs84=0,0,0,0,0,0,0 +units=m +no_defs' },
  3034: { name: 'ETRS89-extended / LCC Europe', proj4: '+proj=lcc +lat_0=52 +lon_0=10 +lat_1=35 +lat_2=65 +x_0=4000000 +y_0=2800000 +ellps=GRS80 +units=m +no_defs' },
  5070: { name: 'NAD83 / Conus Albers', proj4: '+proj=aea +lat_0=23 +lon_0=-96 +lat_1=29.5 +lat_2=45.5 +x_0=0 +y_0=0 +ellps=GRS80 +towgs84=0,0,0,0,0,0,0 +units=m +no_defs' },
  2154: { name: 'RGF93 v1 / Lambert-93', proj4: '+proj=lcc +lat_0=46.5 +lon_0=3 +lat_1=49 +lat_2=44 +x_0=700000 +y_0=6600000 +ellps=GRS80 +towgs84=0,0,0,0,0,0,0 +units=m +no_defs' },
  6933: { name: 'WGS 84 / NSIDC EASE-Grid 2.0 Global', proj4: '+proj=cea +lat_ts=30 +lon_0=0 +x_0=0 +y_0=0 +datum=WGS84 +units=m +no_defs' },
  5041: { name: 'WGS 84 / UPS North (E,N)', proj4: '+proj=stere +lat_0=90 +lon_0=0 +k=0.994 +x_0=2000000 +y_0=2000000 +datum=WGS84 +units=m +no_defs' },
  5042: { name: 'WGS 84 / UPS South (E,N)', proj4: '+proj=stere +lat_0=-90 +lon_0=0 +k=0.994 +x_0=2000000 +y_0=2000000 +datum=WGS84 +units=m +no_defs' },
};

/** Non-EPSG codes still found in files (ESRI and old Google codes for Web Mercator). */
const ALIASES: Record<number, number> = { 900913: 3857, 3785: 3857, 102100: 3857, 102113: 3857 };

const registered = new Map<number, Entry>();

function utm(zone: number, south: boolean, datum: string): string {
  return `+proj=utm +zone=${zone}${south ? ' +south' : ''} ${datum} +units=m +no_defs`;
}

function builtIn(code: number): Entry | undefined {
  const geo = GEOGRAPHIC[code];
  if (geo) return { name: geo[0], proj4: `+proj=longlat ${geo[1]} +no_defs` };
  const proj = PROJECTED[code];
  if (proj) return proj;
  for (const [first, z0, z1, hemi, datumName, datum] of UTM_FAMILIES) {
    const zone = z0 + code - first;
    if (code >= first && zone <= z1) return { name: `${datumName} / UTM zone ${zone}${hemi}`, proj4: utm(zone, hemi === 'S', datum) };
  }
  for (const [first, z0, z1, datumName] of MGA_FAMILIES) {
    const zone = z0 + code - first;
    if (code >= first && zone <= z1) return { name: `${datumName} / MGA zone ${zone}`, proj4: utm(zone, true, GRS80_ONLY) };
  }
  return undefined;
}

/**
 * Add or replace the definition of an EPSG code, for codes outside the built-in families.
 * The definition must be a proj4 string or WKT that proj4js accepts.
 */
export function registerEpsg(code: number, definition: string, name?: string): void {
  checkDefinition(definition, `EPSG:${code}`);
  registered.set(code, { name: name ?? `EPSG:${code}`, proj4: definition });
}

/** The CRS of an EPSG code; throws UnsupportedError when tilecast has no definition for it. */
export function crsFromEpsg(code: number): Crs {
  const canonical = ALIASES[code] ?? code;
  const entry = registered.get(code) ?? builtIn(canonical);
  if (!Number.isInteger(code) || entry === undefined) {
    throw new UnsupportedError(
      `EPSG:${code} is not among the coordinate systems tilecast knows (WGS 84, NAD27/NAD83/ETRS89/SIRGAS 2000/GDA UTM zones, Web Mercator, LAEA/LCC Europe, Conus Albers, Lambert-93, ...): ` +
        `reproject with gdalwarp -t_srs EPSG:<utm zone code, e.g. 32633> in.tif out.tif, or register its proj4 definition with registerEpsg(${code}, '+proj=...')`,
    );
  }
  return { epsg: canonical, proj4: entry.proj4, name: entry.name };
}

/** EPSG:4326, the CRS of GeoJSON coordinates (RFC 7946, longitude first). */
export const WGS84: Crs = crsFromEpsg(4326);

/**
 * Parse a CRS given on the command line or in a config file: `EPSG:32633`, `32633`,
 * `urn:ogc:def:crs:EPSG::32633`, `CRS84`, or a proj4 string starting with `+proj=`.
 * @param flag the flag or field to name in errors, e.g. `--region-crs`
 */
export function parseCrs(text: string, flag: string): Crs {
  const t = text.trim();
  if (/^(urn:ogc:def:crs:)?OGC:(1\.3:)?CRS84$/i.test(t) || /^CRS84$/i.test(t)) return WGS84;
  const m = /^(?:urn:ogc:def:crs:)?(?:EPSG:{1,2}(?:[0-9.]*:)?)?(\d+)$/i.exec(t);
  if (m) {
    try {
      return crsFromEpsg(Number(m[1]));
    } catch (err) {
      throw new UsageError(`${flag} ${t}: ${(err as Error).message}`, { cause: err });
    }
  }
  if (t.startsWith('+proj=')) {
    checkDefinition(t, flag);
    return { epsg: null, proj4: t };
  }
  throw new UsageError(`${flag} '${text}' is not a CRS: expected EPSG:<code> (e.g. EPSG:32633) or a proj4 string starting with +proj=`);
}

function checkDefinition(definition: string, what: string): void {
  try {
    proj4(definition);
  } catch (err) {
    throw new UsageError(`${what}: proj4 cannot parse '${definition}': ${(err as Error).message}`, { cause: err });
  }
}

// ---------------------------------------------------------------------------------------------
// GeoKeys

type GeoKeys = Record<string, unknown>;

function num(keys: GeoKeys, name: string): number | undefined {
  const v = keys[name];
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (v !== null && typeof v === 'object' && 'length' in v && (v as ArrayLike<unknown>).length > 0) {
    const first = (v as ArrayLike<unknown>)[0];
    return typeof first === 'number' && Number.isFinite(first) ? first : undefined;
  }
  return undefined;
}

function nums(keys: GeoKeys, name: string): number[] | undefined {
  const v = keys[name];
  if (typeof v === 'number') return [v];
  if (v === null || typeof v !== 'object') return undefined;
  const arr = Array.isArray(v) || ArrayBuffer.isView(v) ? Array.from(v as ArrayLike<number>) : Object.values(v as Record<string, unknown>);
  return arr.every((x) => typeof x === 'number' && Number.isFinite(x)) ? (arr as number[]) : undefined;
}

function str(keys: GeoKeys, name: string): string | undefined {
  const v = keys[name];
  return typeof v === 'string' ? v : undefined;
}

/** First of several keys that is present (GeoTIFF writers differ in which origin keys they use). */
function firstNum(keys: GeoKeys, names: string[], fallback?: number): number | undefined {
  for (const n of names) {
    const v = num(keys, n);
    if (v !== undefined) return v;
  }
  return fallback;
}

function describeKeys(keys: GeoKeys): string {
  const interesting = Object.entries(keys).filter(([k]) => k !== 'GTRasterTypeGeoKey' && !k.endsWith('CitationGeoKey'));
  return interesting.map(([k, v]) => `${k}=${typeof v === 'object' && v !== null ? `[${nums(keys, k)?.join(',') ?? '?'}]` : String(v)}`).join(', ');
}

/**
 * The EPSG code a GeoKey directory declares (projected first, else geographic), whether or not
 * tilecast can define that CRS; null for user-defined or missing codes.
 */
export function declaredEpsg(geoKeys: GeoKeys | null): number | null {
  if (!geoKeys) return null;
  const ok = (c: number | undefined) => (c !== undefined && c !== USER_DEFINED && c !== 0 ? c : undefined);
  const model = num(geoKeys, 'GTModelTypeGeoKey');
  const projected = num(geoKeys, 'ProjectedCSTypeGeoKey');
  if (projected !== undefined || model === 1) return ok(projected) ?? null;
  return ok(num(geoKeys, 'GeographicTypeGeoKey')) ?? null;
}

/**
 * The CRS a GeoTIFF declares in its GeoKey directory (key names as geotiff.js's `getGeoKeys()`
 * returns them). Null when the file has no georeferencing keys.
 * @param file the file's path, named in errors
 */
export function crsFromGeoKeys(geoKeys: GeoKeys | null, file: string): Crs | null {
  if (!geoKeys) return null;
  const model = num(geoKeys, 'GTModelTypeGeoKey');
  const projected = num(geoKeys, 'ProjectedCSTypeGeoKey');
  const geographic = num(geoKeys, 'GeographicTypeGeoKey');
  if (model === undefined && projected === undefined && geographic === undefined) return null;

  const fail = (why: string, cause?: unknown): never => {
    const found = describeKeys(geoKeys);
    throw new UnsupportedError(
      `${file}: ${why}; GeoKeys found: ${found || 'none'}. Reproject the file to an EPSG-coded CRS, e.g. gdalwarp -t_srs EPSG:XXXX ${file} out.tif (XXXX = the UTM zone code such as 32633)`,
      { file, cause },
    );
  };
  const byCode = (code: number, what: string): Crs => {
    try {
      return crsFromEpsg(code);
    } catch (err) {
      return fail(`${what} EPSG:${code} is not among the coordinate systems tilecast knows`, err);
    }
  };

  if (model === 3) fail('the CRS is geocentric (GTModelTypeGeoKey=3), which a raster grid cannot use');
  if (projected !== undefined && projected !== USER_DEFINED && projected !== 0) return byCode(projected, 'the projected CRS');
  if (model === 2 || (model === undefined && projected === undefined)) {
    if (geographic !== undefined && geographic !== USER_DEFINED && geographic !== 0) return byCode(geographic, 'the geographic CRS');
    const datum = userDatum(geoKeys);
    if (datum === undefined) return fail('the CRS is user-defined (32767) and its datum/ellipsoid keys are missing or unknown');
    return { epsg: null, proj4: `+proj=longlat ${datum}${primeMeridian(geoKeys)} +no_defs`, name: str(geoKeys, 'GeogCitationGeoKey') ?? 'user-defined geographic' };
  }

  // Projected and user-defined (32767), or the model type itself is user-defined.
  const pe = esriWkt(geoKeys);
  if (pe !== undefined) {
    try {
      proj4(WGS84.proj4, pe).forward([0, 0]);
    } catch (err) {
      fail('the CRS is user-defined (32767) and proj4 cannot use its ESRI PE string', err);
    }
    return { epsg: null, proj4: pe, name: /^PROJCS\["([^"]*)"/.exec(pe)?.[1] ?? 'ESRI PE string' };
  }
  if (model !== 1) return fail(`the model type is ${model === USER_DEFINED ? 'user-defined (32767)' : String(model)} and no ESRI PE string describes it`);
  const def = userProjected(geoKeys, fail);
  try {
    const p = proj4(WGS84.proj4, def);
    const [x, y] = p.inverse(p.forward([1, 1])) as number[];
    if (!Number.isFinite(x) || !Number.isFinite(y)) throw new Error('round trip gave non-finite values');
  } catch (err) {
    fail(`the CRS is user-defined (32767) and the definition built from it ('${def}') does not work in proj4`, err);
  }
  return { epsg: null, proj4: def, name: str(geoKeys, 'PCSCitationGeoKey') ?? str(geoKeys, 'GTCitationGeoKey') ?? 'user-defined projected' };
}

function esriWkt(keys: GeoKeys): string | undefined {
  for (const k of ['PCSCitationGeoKey', 'GTCitationGeoKey']) {
    const s = str(keys, k);
    const at = s?.indexOf('ESRI PE String = ') ?? -1;
    if (s !== undefined && at >= 0) {
      const wkt = s.slice(at + 'ESRI PE String = '.length).trim();
      if (wkt.startsWith('PROJCS[')) return wkt;
    }
  }
  return undefined;
}

/** Datum/ellipsoid part of a proj4 string from the Geog* keys, or undefined when unknown. */
function userDatum(keys: GeoKeys): string | undefined {
  const geographic = num(keys, 'GeographicTypeGeoKey');
  if (geographic !== undefined && geographic !== USER_DEFINED && GEOGRAPHIC[geographic]) return GEOGRAPHIC[geographic][1];
  const datum = num(keys, 'GeogGeodeticDatumGeoKey');
  if (datum !== undefined && datum !== USER_DEFINED && DATUMS[datum]) return DATUMS[datum];
  const towgs = nums(keys, 'GeogTOWGS84GeoKey');
  const shift = towgs && (towgs.length === 3 || towgs.length === 7) ? ` +towgs84=${towgs.join(',')}` : '';
  const ellipsoid = num(keys, 'GeogEllipsoidGeoKey');
  if (ellipsoid !== undefined && ellipsoid !== USER_DEFINED && ELLIPSOIDS[ellipsoid]) return `+ellps=${ELLIPSOIDS[ellipsoid]}${shift}`;
  const a = num(keys, 'GeogSemiMajorAxisGeoKey');
  if (a === undefined) return undefined;
  const rf = num(keys, 'GeogInvFlatteningGeoKey');
  const b = num(keys, 'GeogSemiMinorAxisGeoKey');
  if (rf !== undefined && rf !== 0) return `+a=${a} +rf=${rf}${shift}`;
  if (b !== undefined) return `+a=${a} +b=${b}${shift}`;
  return `+a=${a} +b=${a}${shift}`;
}

function primeMeridian(keys: GeoKeys): string {
  const pm = num(keys, 'GeogPrimeMeridianLongGeoKey');
  return pm !== undefined && pm !== 0 ? ` +pm=${pm}` : '';
}

/** Linear unit: [proj4 units part, metres per unit]. */
function linearUnits(keys: GeoKeys): [string, number] | undefined {
  const code = num(keys, 'ProjLinearUnitsGeoKey') ?? 9001;
  if (code === 9001) return ['+units=m', 1];
  if (code === 9002) return ['+units=ft', 0.3048];
  if (code === 9003) return ['+units=us-ft', 1200 / 3937];
  const size = num(keys, 'ProjLinearUnitSizeGeoKey');
  if (code === USER_DEFINED && size !== undefined && size > 0) return [size === 1 ? '+units=m' : `+to_meter=${size}`, size];
  return undefined;
}

/** Projection method codes (ProjCoordTransGeoKey) that tilecast rebuilds. */
const CT_NAMES: Record<number, string> = {
  1: 'TransverseMercator',
  7: 'Mercator',
  8: 'LambertConfConic_2SP',
  9: 'LambertConfConic_1SP',
  10: 'LambertAzimEqualArea',
  11: 'AlbersEqualArea',
  12: 'AzimuthalEquidistant',
  14: 'Stereographic',
  15: 'PolarStereographic',
  16: 'ObliqueStereographic',
  17: 'Equirectangular',
  18: 'CassiniSoldner',
  24: 'Sinusoidal',
  28: 'CylindricalEqualArea',
};

function userProjected(keys: GeoKeys, fail: (why: string) => never): string {
  const datum = userDatum(keys);
  if (datum === undefined) return fail('the CRS is user-defined (32767) and its datum/ellipsoid keys are missing or unknown');
  const units = linearUnits(keys);
  if (units === undefined) return fail(`the CRS is user-defined (32767) with an unknown linear unit (ProjLinearUnitsGeoKey=${String(keys.ProjLinearUnitsGeoKey)})`);
  const [unitPart, toMetre] = units;
  const tail = `${datum}${primeMeridian(keys)} ${unitPart} +no_defs`;

  // ProjectionGeoKey codes 16001-16060 / 16101-16160 are UTM zones north / south.
  const projection = num(keys, 'ProjectionGeoKey');
  if (projection !== undefined && projection >= 16001 && projection <= 16160 && projection % 100 >= 1 && projection % 100 <= 60) {
    return `+proj=utm +zone=${projection % 100}${projection >= 16100 ? ' +south' : ''} ${tail}`;
  }
  const ct = num(keys, 'ProjCoordTransGeoKey');
  if (ct === undefined) {
    return fail(
      projection !== undefined && projection !== USER_DEFINED
        ? `the CRS is user-defined (32767) with projection code ${projection}, which tilecast does not know`
        : 'the CRS is user-defined (32767) without a projection method (ProjCoordTransGeoKey)',
    );
  }
  if (!CT_NAMES[ct]) return fail(`the CRS is user-defined (32767) with projection method ${ct} (ProjCoordTransGeoKey), which tilecast does not rebuild`);

  const natLat = firstNum(keys, ['ProjNatOriginLatGeoKey', 'ProjFalseOriginLatGeoKey', 'ProjCenterLatGeoKey'], 0)!;
  const natLon = firstNum(keys, ['ProjNatOriginLongGeoKey', 'ProjFalseOriginLongGeoKey', 'ProjCenterLongGeoKey'], 0)!;
  const cenLat = firstNum(keys, ['ProjCenterLatGeoKey', 'ProjNatOriginLatGeoKey', 'ProjFalseOriginLatGeoKey'], 0)!;
  const cenLon = firstNum(keys, ['ProjCenterLongGeoKey', 'ProjNatOriginLongGeoKey', 'ProjFalseOriginLongGeoKey'], 0)!;
  const k = firstNum(keys, ['ProjScaleAtNatOriginGeoKey', 'ProjScaleAtCenterGeoKey'], 1)!;
  const kc = firstNum(keys, ['ProjScaleAtCenterGeoKey', 'ProjScaleAtNatOriginGeoKey'], 1)!;
  const sp1 = num(keys, 'ProjStdParallel1GeoKey');
  const sp2 = num(keys, 'ProjStdParallel2GeoKey');
  // False easting/northing are in the projection's linear unit; proj4 wants metres.
  const fe = (firstNum(keys, ['ProjFalseEastingGeoKey', 'ProjFalseOriginEastingGeoKey', 'ProjCenterEastingGeoKey'], 0)! * toMetre);
  const fn = (firstNum(keys, ['ProjFalseNorthingGeoKey', 'ProjFalseOriginNorthingGeoKey', 'ProjCenterNorthingGeoKey'], 0)! * toMetre);
  const feo = (firstNum(keys, ['ProjFalseOriginEastingGeoKey', 'ProjFalseEastingGeoKey'], 0)! * toMetre);
  const fno = (firstNum(keys, ['ProjFalseOriginNorthingGeoKey', 'ProjFalseNorthingGeoKey'], 0)! * toMetre);
  const xy = `+x_0=${fe} +y_0=${fn}`;

  let head: string;
  switch (ct) {
    case 1:
      head = `+proj=tmerc +lat_0=${natLat} +lon_0=${natLon} +k=${k} ${xy}`;
      break;
    case 7:
      head = sp1 !== undefined && sp1 !== 0 ? `+proj=merc +lat_ts=${sp1} +lon_0=${natLon} ${xy}` : `+proj=merc +lon_0=${natLon} +k=${k} ${xy}`;
      break;
    case 8: {
      const lat0 = firstNum(keys, ['ProjFalseOriginLatGeoKey', 'ProjNatOriginLatGeoKey'], 0)!;
      const lon0 = firstNum(keys, ['ProjFalseOriginLongGeoKey', 'ProjNatOriginLongGeoKey'], 0)!;
      if (sp1 === undefined || sp2 === undefined) return fail('the CRS is user-defined Lambert Conformal Conic (2SP) without both standard parallels');
      head = `+proj=lcc +lat_0=${lat0} +lon_0=${lon0} +lat_1=${sp1} +lat_2=${sp2} +x_0=${feo} +y_0=${fno}`;
      break;
    }
    case 9:
      head = `+proj=lcc +lat_1=${natLat} +lat_0=${natLat} +lon_0=${natLon} +k_0=${k} ${xy}`;
      break;
    case 10:
      head = `+proj=laea +lat_0=${cenLat} +lon_0=${cenLon} ${xy}`;
      break;
    case 11:
      if (sp1 === undefined || sp2 === undefined) return fail('the CRS is user-defined Albers Equal Area without both standard parallels');
      head = `+proj=aea +lat_0=${natLat} +lon_0=${natLon} +lat_1=${sp1} +lat_2=${sp2} ${xy}`;
      break;
    case 12:
      head = `+proj=aeqd +lat_0=${cenLat} +lon_0=${cenLon} ${xy}`;
      break;
    case 14:
      head = `+proj=stere +lat_0=${cenLat} +lon_0=${cenLon} +k=${kc} ${xy}`;
      break;
    case 15: {
      // Latitude of origin ±90 means variant A (scale factor); any other latitude is the latitude of true scale (variant B).
      const lonPole = firstNum(keys, ['ProjStraightVertPoleLongGeoKey', 'ProjNatOriginLongGeoKey'], 0)!;
      head =
        Math.abs(natLat) === 90
          ? `+proj=stere +lat_0=${natLat} +lon_0=${lonPole} +k=${k} ${xy}`
          : `+proj=stere +lat_0=${natLat < 0 ? -90 : 90} +lat_ts=${natLat} +lon_0=${lonPole} ${xy}`;
      break;
    }
    case 16:
      head = `+proj=sterea +lat_0=${natLat} +lon_0=${natLon} +k=${k} ${xy}`;
      break;
    case 17:
      head = `+proj=eqc +lat_ts=${sp1 ?? 0} +lat_0=${cenLat} +lon_0=${cenLon} ${xy}`;
      break;
    case 18:
      head = `+proj=cass +lat_0=${natLat} +lon_0=${natLon} ${xy}`;
      break;
    case 24:
      head = `+proj=sinu +lon_0=${cenLon} ${xy}`;
      break;
    default: // 28
      head = `+proj=cea +lat_ts=${sp1 ?? 0} +lon_0=${natLon} ${xy}`;
  }
  return `${head} ${tail}`;
}
