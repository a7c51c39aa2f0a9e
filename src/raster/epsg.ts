/**
 * The EPSG registry: EPSG code → name and a proj4 definition that proj4js applies the way PROJ
 * (GDAL) does without grid files.
 *
 * Definitions come from the `epsg-index` package (every CRS of the EPSG dataset, one small JSON
 * file per code, read on first use and cached; the package's all.json is never loaded). Its
 * proj4 strings are corrected where proj4js would otherwise differ from PROJ:
 * - the datum shift is the Helmert PROJ uses without grids (src/raster/datum-shifts.ts, generated
 *   from PROJ): grids proj4js does not have (+nadgrids=...) and registry shifts PROJ does not use
 *   are replaced;
 * - an ellipsoid name proj4js does not know (it silently falls back to WGS 84, e.g. for WGS72 and
 *   GSK2011) is replaced by the semi-major axis and inverse flattening of the registry's WKT.
 * CRSs tilecast cannot apply correctly are refused with the reason: non-horizontal kinds
 * (geocentric, vertical, compound), south- or west-pointing axes, angular units other than degrees.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import proj4 from 'proj4';
import { CODE_SHIFTS, DATUM_SHIFTS } from './datum-shifts.js';

/** A registry entry tilecast can use, or the reason it cannot. */
export type EpsgEntry = { name: string; proj4: string } | { name: string; unusable: string };

/** Where the per-code files are, and the package version for messages. */
const REGISTRY = (() => {
  const pkg = createRequire(import.meta.url).resolve('epsg-index/package.json');
  const version = (JSON.parse(readFileSync(pkg, 'utf8')) as { version?: string }).version ?? '?';
  return { dir: join(dirname(pkg), 's'), label: `epsg-index ${version}` };
})();

/** The registry package and version, for messages: `epsg-index 2.0.0`. */
export const EPSG_REGISTRY = REGISTRY.label;

interface RawEntry {
  kind?: string;
  name?: string;
  proj4?: string | null;
  wkt?: string | null;
}

const KIND_NAMES: Record<string, string> = {
  'CRS-GCENCRS': 'a geocentric (x, y, z) CRS',
  'CRS-VERTCRS': 'a vertical (height) CRS',
  'CRS-COMPOUNDCRS': 'a compound (horizontal + vertical) CRS; use the code of its horizontal part',
  'CRS-ENGCRS': 'an engineering (local) CRS',
  'CRS-DRVDCRS': 'a derived CRS',
};

const cache = new Map<number, EpsgEntry | null>();

/** The registry's entry for an EPSG code, corrected for proj4js; undefined when the registry lacks it. */
export function epsgEntry(code: number): EpsgEntry | undefined {
  if (!Number.isInteger(code) || code <= 0) return undefined;
  let entry = cache.get(code);
  if (entry === undefined) {
    entry = load(code);
    cache.set(code, entry);
  }
  return entry ?? undefined;
}

function load(code: number): EpsgEntry | null {
  let raw: RawEntry;
  try {
    raw = JSON.parse(readFileSync(join(REGISTRY.dir, `${code}.json`), 'utf8')) as RawEntry;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const name = raw.name ?? `EPSG:${code}`;
  const kind = raw.kind ?? '';
  const wkt = raw.wkt ?? '';
  if (KIND_NAMES[kind]) return { name, unusable: `it is ${KIND_NAMES[kind]}, and a raster grid needs a geographic or projected CRS` };
  if (!raw.proj4) return { name, unusable: 'the registry gives no proj4 definition for it' };
  let def = raw.proj4.replace(/ \+type=crs\b/, '');
  const axis = /\+axis=(\w+)/.exec(def)?.[1];
  if (axis !== undefined && axis !== 'enu') {
    return { name, unusable: `its axes point ${axisWords(axis)} (+axis=${axis}), which tilecast does not apply; use the east/north variant of this CRS` };
  }
  const geographic = kind === 'CRS-GEOGCRS' || kind === 'CRS-GEOG3DCRS';
  if (geographic) {
    // EPSG counts its geographic CRSs on the Paris meridian in grads, whatever the registry's WKT says
    const unit = /\+pm=paris\b/.test(def) ? 'grad' : lastUnit(wkt);
    if (unit !== undefined && !/^degree/i.test(unit)) return { name, unusable: `its coordinates are in ${unit}, and tilecast reads geographic coordinates in degrees` };
  }
  def = withEllipsoid(def, wkt);
  def = withDatumShift(def, code, geographic ? code : baseGeographic(wkt));
  try {
    proj4(WGS84_PROJ4, def);
  } catch (err) {
    return { name, unusable: `proj4js cannot use its definition '${def}' (${err instanceof Error ? err.message : String(err)})` };
  }
  return { name, proj4: def };
}

const WGS84_PROJ4 = '+proj=longlat +datum=WGS84 +no_defs';

function axisWords(axis: string): string {
  const words: Record<string, string> = { e: 'east', w: 'west', n: 'north', s: 'south', u: 'up', d: 'down' };
  return [...axis.slice(0, 2)].map((c) => words[c] ?? c).join('/');
}

/** The name of the last UNIT of a WKT1 GEOGCS (its angular unit). */
function lastUnit(wkt: string): string | undefined {
  const units = [...wkt.matchAll(/UNIT\["([^"]*)"/g)];
  return units.at(-1)?.[1];
}

/** The text of the bracketed WKT node starting at `start` (the index of its keyword). */
function wktNode(wkt: string, start: number): string {
  let depth = 0;
  for (let i = wkt.indexOf('[', start); i < wkt.length; i++) {
    if (wkt[i] === '[') depth++;
    else if (wkt[i] === ']' && --depth === 0) return wkt.slice(start, i + 1);
  }
  return wkt.slice(start);
}

/** EPSG code of the geographic CRS a WKT1 PROJCS is based on (the GEOGCS node's own AUTHORITY). */
function baseGeographic(wkt: string): number | undefined {
  const at = wkt.indexOf('GEOGCS[');
  if (at < 0) return undefined;
  const m = /AUTHORITY\["EPSG","(\d+)"\]\]$/.exec(wktNode(wkt, at));
  return m ? Number(m[1]) : undefined;
}

/**
 * Replace `+ellps=NAME` by `+a= +rf=` from the WKT's SPHEROID when proj4js's idea of NAME differs
 * (proj4js takes an unknown name for WGS 84 without a word).
 */
function withEllipsoid(def: string, wkt: string): string {
  const ellps = /\+ellps=(\S+)/.exec(def);
  const sph = /SPHEROID\["[^"]*",([0-9.eE+-]+),([0-9.eE+-]+)/.exec(wkt);
  if (!ellps || !sph) return def;
  const a = Number(sph[1]);
  const rf = Number(sph[2]);
  const b = rf === 0 ? a : a * (1 - 1 / rf);
  let known: { a: number; b: number };
  try {
    known = proj4.Proj(`+proj=longlat +ellps=${ellps[1]} +no_defs`) as unknown as { a: number; b: number };
  } catch {
    known = { a: NaN, b: NaN };
  }
  if (Math.abs(known.a - a) < 1e-3 && Math.abs(known.b - b) < 1e-3) return def;
  return def.replace(ellps[0], rf === 0 ? `+a=${a} +b=${a}` : `+a=${a} +rf=${rf}`);
}

/** The ellipsoid each `+datum=` of the registry stands for, when its shift is replaced. */
const DATUM_ELLIPSOIDS: Record<string, string> = { WGS84: 'WGS84', NAD83: 'GRS80', NAD27: 'clrk66' };

/** Put PROJ's grid-free datum shift in place of the registry's, where they differ. */
function withDatumShift(def: string, code: number, base: number | undefined): string {
  const shift = CODE_SHIFTS[code] ?? (base === undefined ? undefined : DATUM_SHIFTS[base]);
  const grid = /\+nadgrids=(?!@null)("[^"]*"|\S+)/.test(def);
  if (shift === undefined && !grid) return def;
  let out = def
    .replace(/ \+nadgrids=(?!@null)("[^"]*"|\S+)/, '')
    .replace(/\+datum=(\w+)/, (m, d: string) => (DATUM_ELLIPSOIDS[d] ? `+ellps=${DATUM_ELLIPSOIDS[d]}` : m));
  if (shift === undefined) return out; // a grid PROJ does not know either: no shift, as PROJ's ballpark
  out = out.replace(/ \+towgs84=\S+/, '');
  if (shift === '') return out;
  const at = out.search(/ \+units=| \+to_meter=| \+no_defs/);
  return at < 0 ? `${out} +towgs84=${shift}` : `${out.slice(0, at)} +towgs84=${shift}${out.slice(at)}`;
}
