/**
 * Coordinate reference systems: EPSG code → proj4 definition, GeoTIFF GeoKeys → Crs.
 *
 * EPSG codes are looked up in the EPSG registry (src/raster/epsg.ts: every code of the EPSG
 * dataset, with the datum shift PROJ uses without grid files). A code the registry lacks, or a
 * different definition, can be supplied with `registerEpsg()` or `registerCrsDefinition()` (the
 * CLI's `--crs-def EPSG:N=<proj4>`).
 *
 * A user-defined CRS (code 32767) is rebuilt from its projection keys for the common
 * projection methods, or from an ESRI PE string in the citation keys; otherwise
 * `crsFromGeoKeys` throws an UnsupportedError that says how to reproject the file.
 */
import proj4 from 'proj4';
import { UnsupportedError, UsageError } from '../errors.js';
import { EPSG_REGISTRY, epsgEntry } from './epsg.js';
import type { Crs } from './types.js';

/** GeoKey value meaning "user-defined": the parameters follow in other keys. */
export const USER_DEFINED = 32767;

/** Ellipsoid codes (GeogEllipsoidGeoKey) → proj4 ellipsoid parameters (WGS 72 by value: proj4js lacks its name). */
const ELLIPSOIDS: Record<number, string> = {
  7030: '+ellps=WGS84',
  7019: '+ellps=GRS80',
  7008: '+ellps=clrk66',
  7022: '+ellps=intl',
  7043: '+a=6378135 +rf=298.26',
  7004: '+ellps=bessel',
  7001: '+ellps=airy',
  7012: '+ellps=clrk80',
  7024: '+ellps=krass',
  7015: '+ellps=evrst30',
};

/** Codes outside the EPSG dataset still found in files (ESRI's and Google's for Web Mercator). */
const ALIASES: Record<number, number> = { 900913: 3857, 3785: 3857, 102100: 3857, 102113: 3857 };

const registered = new Map<number, { name: string; proj4: string }>();

/**
 * Add or replace the definition of an EPSG code (one the registry lacks, or a definition of your
 * own). The definition must be a proj4 string or WKT that proj4js accepts.
 */
export function registerEpsg(code: number, definition: string, name?: string): void {
  if (!Number.isInteger(code) || code <= 0) throw new UsageError(`registerEpsg: the code must be a positive integer, found ${code}`);
  checkDefinition(definition, `EPSG:${code}`);
  registered.set(code, { name: name ?? `EPSG:${code}`, proj4: definition });
}

/**
 * Register a definition written `EPSG:N=<proj4 string or WKT>` (the `--crs-def` option), e.g.
 * `EPSG:21781=+proj=somerc +lat_0=46.95 ...`; returns the CRS it defines.
 * @param flag the flag or field to name in errors
 */
export function registerCrsDefinition(text: string, flag = '--crs-def'): Crs {
  const m = /^\s*(?:EPSG:)?(\d+)\s*=\s*(\S[\s\S]*?)\s*$/i.exec(text);
  if (!m) {
    throw new UsageError(`${flag} '${text}' is not a definition: expected EPSG:<code>=<proj4 string>, e.g. ${flag} 'EPSG:2056=+proj=somerc +lat_0=46.95 ... +units=m'`);
  }
  const code = Number(m[1]);
  try {
    registerEpsg(code, m[2]!);
  } catch (err) {
    throw new UsageError(`${flag} ${(err as Error).message}`, { cause: err });
  }
  return crsFromEpsg(code);
}

/** The CRS of an EPSG code; throws UnsupportedError when tilecast has no usable definition for it. */
export function crsFromEpsg(code: number): Crs {
  const own = registered.get(code);
  if (own) return { epsg: code, proj4: own.proj4, name: own.name };
  const canonical = ALIASES[code] ?? code;
  const entry = epsgEntry(canonical);
  const howToDefine = `give a definition with registerEpsg(${code}, '+proj=...') or, on the command line, --crs-def 'EPSG:${code}=+proj=...' (gdalsrsinfo -o proj4 EPSG:${code} prints one)`;
  if (entry === undefined) {
    throw new UnsupportedError(`EPSG:${code} is not among the coordinate systems of the EPSG registry tilecast reads (${EPSG_REGISTRY}): ${howToDefine}`);
  }
  if ('unusable' in entry) throw new UnsupportedError(`EPSG:${code} (${entry.name}) cannot be used: ${entry.unusable}; use another code, or ${howToDefine}`);
  return { epsg: canonical, proj4: entry.proj4, name: entry.name };
}

/**
 * EPSG:4326, the CRS of GeoJSON coordinates (RFC 7946, longitude first), as crsFromEpsg(4326)
 * gives it: a literal, so that importing this module reads no registry.
 */
export const WGS84: Crs = { epsg: 4326, proj4: '+proj=longlat +datum=WGS84 +no_defs', name: 'WGS 84' };

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
      throw new UnsupportedError(`${file}: ${what} ${(err as Error).message}`, { file, cause: err });
    }
  };

  if (model === 3) fail('the CRS is geocentric (GTModelTypeGeoKey=3), which a raster grid cannot use');
  if (projected !== undefined && projected !== USER_DEFINED && projected !== 0) return byCode(projected, 'the projected CRS');
  if (model === 2 || (model === undefined && projected === undefined)) {
    if (geographic !== undefined && geographic !== USER_DEFINED && geographic !== 0) return byCode(geographic, 'the geographic CRS');
    const datum = userDatum(geoKeys);
    if (datum === undefined) return fail('the CRS is user-defined (32767) and its datum/ellipsoid keys are missing or unknown');
    return { epsg: null, proj4: `+proj=longlat ${datum}${primeMeridian(geoKeys, datum)} +no_defs`, name: str(geoKeys, 'GeogCitationGeoKey') ?? 'user-defined geographic' };
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
  const byCode = geographic !== undefined && geographic !== USER_DEFINED ? datumOf(geographic) : undefined;
  if (byCode !== undefined) return byCode;
  // EPSG geodetic datum codes 6001-6999 belong to the geographic CRS 2000 below them (6326 → 4326)
  const datum = num(keys, 'GeogGeodeticDatumGeoKey');
  const byDatum = datum !== undefined && datum > 6000 && datum < 7000 ? datumOf(datum - 2000) : undefined;
  if (byDatum !== undefined) return byDatum;
  const towgs = nums(keys, 'GeogTOWGS84GeoKey');
  const shift = towgs && (towgs.length === 3 || towgs.length === 7) ? ` +towgs84=${towgs.join(',')}` : '';
  const ellipsoid = num(keys, 'GeogEllipsoidGeoKey');
  if (ellipsoid !== undefined && ellipsoid !== USER_DEFINED && ELLIPSOIDS[ellipsoid]) return `${ELLIPSOIDS[ellipsoid]}${shift}`;
  const a = num(keys, 'GeogSemiMajorAxisGeoKey');
  if (a === undefined) return undefined;
  const rf = num(keys, 'GeogInvFlatteningGeoKey');
  const b = num(keys, 'GeogSemiMinorAxisGeoKey');
  if (rf !== undefined && rf !== 0) return `+a=${a} +rf=${rf}${shift}`;
  if (b !== undefined) return `+a=${a} +b=${b}${shift}`;
  return `+a=${a} +b=${a}${shift}`;
}

/** The ellipsoid and datum shift of a geographic CRS in the registry (its proj4 less +proj and +no_defs). */
function datumOf(geographicCode: number): string | undefined {
  const entry = epsgEntry(geographicCode);
  if (entry === undefined || !('proj4' in entry) || !entry.proj4.startsWith('+proj=longlat ')) return undefined;
  return entry.proj4.replace('+proj=longlat ', '').replace(/ ?\+no_defs\b/, '');
}

function primeMeridian(keys: GeoKeys, datum: string): string {
  const pm = num(keys, 'GeogPrimeMeridianLongGeoKey');
  return pm !== undefined && pm !== 0 && !datum.includes('+pm=') ? ` +pm=${pm}` : '';
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
  const tail = `${datum}${primeMeridian(keys, datum)} ${unitPart} +no_defs`;

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

/** What a CRS's definition (proj4 string or WKT) says, as proj4js reads it. */
export interface CrsParams {
  /** Longitude/latitude in degrees (proj4 longlat). */
  geographic: boolean;
  /** Ellipsoid semi-axes in metres. */
  a: number;
  b: number;
  /** Metres per unit of a projected CRS's coordinates; null for a unit that is not a length. */
  toMeter: number | null;
}

const paramsCache = new Map<string, CrsParams>();

/** The parameters of `crs` (cached per definition); throws UnsupportedError when proj4js cannot read it. */
export function crsParams(crs: Crs): CrsParams {
  let p = paramsCache.get(crs.proj4);
  if (p === undefined) {
    let proj: { projName?: string; a: number; b: number; to_meter?: number; units?: string };
    try {
      proj = proj4.Proj(crs.proj4) as unknown as typeof proj;
    } catch (err) {
      throw new UnsupportedError(`${crs.name ?? crs.proj4}: proj4js cannot read its definition (${(err as Error).message})`, { cause: err });
    }
    const metric = proj.units === undefined || /^(m|meter|metre)s?$/i.test(proj.units);
    // +a alone is a sphere (as PROJ reads it); proj4js leaves b undefined
    const b = Number.isFinite(proj.b) ? proj.b : proj.a;
    p = { geographic: proj.projName === 'longlat', a: proj.a, b, toMeter: proj.to_meter ?? (metric ? 1 : null) };
    paramsCache.set(crs.proj4, p);
  }
  return p;
}
