/**
 * The region: GeoJSON in, polygons in raster pixel space out.
 *
 * `parseRegion` validates a GeoJSON Polygon, MultiPolygon, Feature, FeatureCollection or
 * GeometryCollection of those (holes kept) and reports every problem with the file name and
 * the JSON path of the offending member. `regionToPixels` reprojects the polygons from their
 * CRS (RFC 7946: EPSG:4326, longitude first; or `--region-crs`; or the legacy GeoJSON "crs"
 * member) to the raster CRS and applies the inverse geotransform.
 *
 * Densification: RFC 7946 edges are straight lines in longitude/latitude, which are curves in
 * a projected CRS. Every edge is bisected (in the source CRS) until, in pixel space, the
 * projected midpoint lies within `tolerancePx` of the chord midpoint AND the piece is at most
 * `maxSegmentPx` long. The length bound catches curves whose midpoint happens to lie on the
 * chord; the defaults (0.05 px, 16 px = 1/8 of a 128-pixel tile) keep the boundary error far
 * below the pixel-centre test's resolution at a cost of one vertex per 16 boundary pixels.
 * When the region and the raster share a CRS no densification is needed and none is done.
 */
import proj4, { type Converter } from 'proj4';
import { RegionError } from '../errors.js';
import { crsFromEpsg, WGS84 } from '../raster/crs.js';
import type { Crs, GeoTransform } from '../raster/types.js';
import { clipRing, firstCrossing, polygonBounds, type Bounds, type Polygon, type Ring } from './geometry.js';
import { crsToPixelFn, pixelToCrs } from './geotransform.js';

/** A parsed region, in the coordinates of its file. */
export interface Region {
  /** The polygons: outer ring first, then holes; rings closed. */
  polygons: Polygon[];
  /** The CRS the file declares in the legacy (2008) GeoJSON "crs" member; null when absent (RFC 7946: EPSG:4326). */
  declaredCrs: Crs | null;
  /** The file the region came from, named in errors. */
  file: string;
}

/**
 * Parse and validate a GeoJSON region.
 * @param input the file's text, or an already-parsed GeoJSON object
 * @param file the file name to put in error messages
 */
export function parseRegion(input: string | unknown, file: string): Region {
  let root: unknown = input;
  if (typeof input === 'string') {
    try {
      root = JSON.parse(input);
    } catch (err) {
      throw new RegionError(`${file}: not valid JSON (${(err as Error).message}); expected a GeoJSON Polygon, MultiPolygon, Feature or FeatureCollection`, { file, cause: err });
    }
  }
  const polygons: Polygon[] = [];
  collect(root, '', polygons, file, 0);
  if (polygons.length === 0) {
    throw new RegionError(`${file}: the GeoJSON has no polygon; expected at least one Polygon or MultiPolygon`, { file });
  }
  return { polygons, declaredCrs: declaredCrs(root, file), file };
}

function fail(file: string, path: string, message: string): never {
  throw new RegionError(`${file}: ${path === '' ? 'the GeoJSON' : path} ${message}`, { file });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const NOT_POLYGON = new Set(['Point', 'MultiPoint', 'LineString', 'MultiLineString']);

function collect(node: unknown, path: string, out: Polygon[], file: string, depth: number): void {
  if (!isObject(node)) return fail(file, path, `is ${describe(node)}, expected a GeoJSON object with a "type"`);
  const type = node.type;
  if (typeof type !== 'string') return fail(file, path, 'has no "type" member; expected Polygon, MultiPolygon, Feature or FeatureCollection');
  const at = (member: string) => (path === '' ? member : `${path}.${member}`);
  switch (type) {
    case 'FeatureCollection': {
      const features = node.features;
      if (!Array.isArray(features)) return fail(file, path, 'is a FeatureCollection without a "features" array');
      if (features.length === 0) return fail(file, path, 'is an empty FeatureCollection; it needs at least one Polygon or MultiPolygon feature');
      features.forEach((f, i) => collect(f, at(`features[${i}]`), out, file, depth + 1));
      return;
    }
    case 'Feature': {
      const g = node.geometry;
      if (g === null || g === undefined) return fail(file, path, 'is a Feature without geometry; every feature must be a Polygon or MultiPolygon');
      collect(g, at('geometry'), out, file, depth + 1);
      return;
    }
    case 'GeometryCollection': {
      const gs = node.geometries;
      if (!Array.isArray(gs) || gs.length === 0) return fail(file, path, 'is a GeometryCollection without geometries');
      if (depth > 16) return fail(file, path, 'nests GeometryCollections too deeply');
      gs.forEach((g, i) => collect(g, at(`geometries[${i}]`), out, file, depth + 1));
      return;
    }
    case 'Polygon':
      out.push(polygon(node.coordinates, at('coordinates'), file));
      return;
    case 'MultiPolygon': {
      const c = node.coordinates;
      if (!Array.isArray(c)) return fail(file, at('coordinates'), `is ${describe(c)}, expected an array of polygons`);
      if (c.length === 0) return fail(file, at('coordinates'), 'is empty; a MultiPolygon needs at least one polygon');
      c.forEach((p, i) => out.push(polygon(p, `${at('coordinates')}[${i}]`, file)));
      return;
    }
    default:
      if (NOT_POLYGON.has(type)) {
        return fail(file, path, `is a ${type}; a region must be a Polygon or MultiPolygon (buffer points and lines into polygons first, e.g. with ogr2ogr -dialect sqlite -sql "SELECT ST_Buffer(geometry, 100) FROM layer")`);
      }
      return fail(file, path, `has type "${type}", expected Polygon, MultiPolygon, Feature, FeatureCollection or GeometryCollection`);
  }
}

function polygon(coords: unknown, path: string, file: string): Polygon {
  if (!Array.isArray(coords)) return fail(file, path, `is ${describe(coords)}, expected an array of linear rings`);
  if (coords.length === 0) return fail(file, path, 'is empty; a Polygon needs an outer ring');
  return coords.map((r, i) => ring(r, `${path}[${i}]`, file));
}

function ring(coords: unknown, path: string, file: string): Ring {
  if (!Array.isArray(coords)) return fail(file, path, `is ${describe(coords)}, expected a linear ring (an array of positions)`);
  if (coords.length < 4) return fail(file, path, `has ${coords.length} position(s); a linear ring needs at least 4 (3 corners and the first repeated at the end)`);
  const out: Ring = coords.map((p, i) => position(p, `${path}[${i}]`, file));
  const a = out[0]!;
  const b = out[out.length - 1]!;
  if (a[0] !== b[0] || a[1] !== b[1]) {
    return fail(file, path, `is not closed: it starts at [${a.join(', ')}] and ends at [${b.join(', ')}]; repeat the first position at the end`);
  }
  return out;
}

function position(p: unknown, path: string, file: string): [number, number] {
  if (!Array.isArray(p) || p.length < 2) return fail(file, path, `is ${describe(p)}, expected a position [x, y]`);
  const [x, y] = p as unknown[];
  if (typeof x !== 'number' || typeof y !== 'number' || !Number.isFinite(x) || !Number.isFinite(y)) {
    return fail(file, path, `is ${describe(p)}, expected two finite numbers [x, y]`);
  }
  return [x, y];
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) {
    const s = JSON.stringify(v);
    return s.length > 60 ? `an array of ${v.length}` : s;
  }
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

/** The legacy GeoJSON "crs" member: {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32633"}}. */
function declaredCrs(root: unknown, file: string): Crs | null {
  if (!isObject(root) || root.crs === undefined || root.crs === null) return null;
  const crs = root.crs;
  const name = isObject(crs) && isObject(crs.properties) ? crs.properties.name : undefined;
  if (typeof name !== 'string') {
    return fail(file, 'crs', 'is not a named CRS ({"type": "name", "properties": {"name": "EPSG:XXXX"}}); remove it and pass --region-crs EPSG:XXXX');
  }
  if (/^urn:ogc:def:crs:OGC:(1\.3:)?CRS84$/i.test(name)) return WGS84;
  const m = /^(?:urn:ogc:def:crs:)?EPSG:{1,2}(?:[0-9.]*:)?(\d+)$/i.exec(name.trim());
  if (!m) return fail(file, 'crs', `names "${name}", which tilecast cannot read; pass --region-crs EPSG:XXXX`);
  try {
    return crsFromEpsg(Number(m[1]));
  } catch (err) {
    throw new RegionError(`${file}: crs ${name}: ${(err as Error).message}; or reproject the region to EPSG:4326 (ogr2ogr -t_srs EPSG:4326 out.geojson ${file})`, { file, cause: err });
  }
}

/** Options for `regionToPixels`. */
export interface RegionToPixelsOptions {
  /** The raster's CRS. */
  rasterCrs: Crs;
  /** The raster's geotransform. */
  geoTransform: GeoTransform;
  /** The CRS of the region's coordinates (`--region-crs`). Default: the file's "crs" member, else EPSG:4326. */
  regionCrs?: Crs | null;
  /** Largest distance, in pixels, between a densified edge and the projected curve. Default 0.05. */
  tolerancePx?: number;
  /** Longest densified edge piece, in pixels. Default 16. */
  maxSegmentPx?: number;
  /** The raster file, named when its geotransform cannot be inverted. */
  rasterFile?: string;
  /**
   * The raster's size in pixels. When given, the region is clipped to the raster's extent grown by
   * its own span on every side (in the region's CRS) before it is projected, so a region much
   * larger than the raster (a continent, the whole world) is not projected where the raster CRS is
   * meaningless. Pixels inside the raster are unaffected; only parts of the region more than one
   * raster extent away are cut, which can only narrow the window's empty margin.
   */
  rasterSize?: { width: number; height: number };
}

export const DEFAULT_REGION_TO_PIXELS: Required<Pick<RegionToPixelsOptions, 'tolerancePx' | 'maxSegmentPx'>> = {
  tolerancePx: 0.05,
  maxSegmentPx: 16,
};

/** Deepest bisection of one edge: 2^20 pieces. */
const MAX_DEPTH = 20;

function isGeographic(crs: Crs): boolean {
  return /\+proj=(longlat|latlong|lonlat|latlon)\b/.test(crs.proj4) || /^GEOGCS\[/.test(crs.proj4);
}

function sameCrs(a: Crs, b: Crs): boolean {
  return a.proj4 === b.proj4 || (a.epsg !== null && a.epsg === b.epsg);
}

/** Reproject a region into the raster's pixel space: rings of [col, row], (0, 0) = top-left corner of the raster. */
export function regionToPixels(region: Region, options: RegionToPixelsOptions): Polygon[] {
  const source = options.regionCrs ?? region.declaredCrs ?? WGS84;
  const target = options.rasterCrs;
  const tol = options.tolerancePx ?? DEFAULT_REGION_TO_PIXELS.tolerancePx;
  const maxSeg = options.maxSegmentPx ?? DEFAULT_REGION_TO_PIXELS.maxSegmentPx;
  const toPixel = crsToPixelFn(options.geoTransform, options.rasterFile);
  const file = region.file;
  const crsLabel = (c: Crs) => (c.epsg !== null ? `EPSG:${c.epsg}` : (c.name ?? c.proj4));

  if (isGeographic(source)) checkLonLat(region, source, crsLabel(source));

  if (sameCrs(source, target)) {
    return region.polygons.map((p) => p.map((r) => r.map(([x, y]) => toPixel(x, y))));
  }

  const converter = proj4(source.proj4, target.proj4);
  let polygons = region.polygons;
  if (options.rasterSize) {
    const extent = rasterExtent(converter, options.geoTransform, options.rasterSize, isGeographic(source));
    if (extent !== null) {
      polygons = clipPolygons(polygons, extent);
      if (polygons.length === 0) {
        const f = (v: number) => Number(v.toPrecision(7));
        throw new RegionError(
          `${file}: the region does not overlap the raster ${options.rasterFile ?? ''}: in ${crsLabel(source)} the raster spans x ${f(extent.minX)}..${f(extent.maxX)}, y ${f(extent.minY)}..${f(extent.maxY)} (grown by its span on every side). Check the region's coordinates (GeoJSON is longitude, latitude per RFC 7946) and --region-crs`,
          { file },
        );
      }
    }
  }
  const project = (x: number, y: number): [number, number] => {
    const out = converter.forward([x, y]) as number[];
    const px = toPixel(out[0]!, out[1]!);
    if (!Number.isFinite(px[0]) || !Number.isFinite(px[1])) {
      throw new RegionError(
        `${file}: the point [${x}, ${y}] (${crsLabel(source)}) cannot be projected to the raster CRS ${crsLabel(target)}; the region lies outside the area that CRS can represent. Check the coordinates and --region-crs`,
        { file },
      );
    }
    return px;
  };

  const densifyRing = (ring: Ring): Ring => {
    const out: Ring = [];
    let a = ring[0]!;
    let pa = project(a[0], a[1]);
    out.push(pa);
    for (let i = 1; i < ring.length; i++) {
      const b = ring[i]!;
      const pb = i === ring.length - 1 && b[0] === ring[0]![0] && b[1] === ring[0]![1] ? out[0]! : project(b[0], b[1]);
      bisect(a[0], a[1], pa, b[0], b[1], pb, 0, out);
      out.push(pb);
      a = b;
      pa = pb;
    }
    return out;
  };

  // Push the interior points of edge a→b (not a, not b), in order.
  const bisect = (ax: number, ay: number, pa: [number, number], bx: number, by: number, pb: [number, number], depth: number, out: Ring): void => {
    if (depth >= MAX_DEPTH) return;
    const dx = pb[0] - pa[0];
    const dy = pb[1] - pa[1];
    const mx = (ax + bx) / 2;
    const my = (ay + by) / 2;
    const pm = project(mx, my);
    const ex = pm[0] - (pa[0] + pb[0]) / 2;
    const ey = pm[1] - (pa[1] + pb[1]) / 2;
    if (ex * ex + ey * ey <= tol * tol && dx * dx + dy * dy <= maxSeg * maxSeg) return;
    bisect(ax, ay, pa, mx, my, pm, depth + 1, out);
    out.push(pm);
    bisect(mx, my, pm, bx, by, pb, depth + 1, out);
  };

  return polygons.map((p) => p.map(densifyRing));
}

/** Positions sampled along each side of the raster when its extent is mapped to the region's CRS. */
const EXTENT_SAMPLES = 32;

/**
 * The raster's extent in the region's CRS: the bounds of its densified outline mapped back, grown
 * by the span on each side. A geographic CRS spans every longitude when the outline crosses
 * the antimeridian or the raster holds a pole, and reaches that pole. Null when the outline
 * cannot be mapped (the clip is then skipped).
 */
function rasterExtent(converter: Converter, gt: GeoTransform, size: { width: number; height: number }, geographic: boolean): Bounds | null {
  const pts: [number, number][] = [];
  for (let i = 0; i <= EXTENT_SAMPLES; i++) {
    const t = i / EXTENT_SAMPLES;
    for (const [c, r] of [[t * size.width, 0], [t * size.width, size.height], [0, t * size.height], [size.width, t * size.height]] as const) {
      const p = converter.inverse(pixelToCrs(gt, c, r)) as number[];
      if (Number.isFinite(p[0]) && Number.isFinite(p[1])) pts.push([p[0]!, p[1]!]);
    }
  }
  if (pts.length < 4 * EXTENT_SAMPLES) return null;
  const b = polygonBounds([[pts]])!;
  const mx = b.maxX - b.minX + 1e-9;
  const my = b.maxY - b.minY + 1e-9;
  const out = { minX: b.minX - mx, minY: b.minY - my, maxX: b.maxX + mx, maxY: b.maxY + my };
  if (!geographic) return out;
  const toPixel = crsToPixelFn(gt);
  const holds = (lat: number) => {
    try {
      const [c, r] = toPixel(...(converter.forward([0, lat]) as [number, number]));
      return c >= 0 && c <= size.width && r >= 0 && r <= size.height;
    } catch {
      return false;
    }
  };
  if (b.maxX - b.minX > 180 || holds(90) || holds(-90)) {
    out.minX = -180;
    out.maxX = 180;
  }
  if (holds(90)) out.maxY = 90;
  if (holds(-90)) out.minY = -90;
  return { minX: Math.max(out.minX, -180), maxX: Math.min(out.maxX, 180), minY: Math.max(out.minY, -90), maxY: Math.min(out.maxY, 90) };
}

/** Every polygon clipped to the bounds; a polygon whose outer ring vanishes goes, with its holes. */
function clipPolygons(polygons: readonly Polygon[], bounds: Bounds): Polygon[] {
  const out: Polygon[] = [];
  for (const p of polygons) {
    const outer = clipRing(p[0]!, bounds);
    if (outer === null) continue;
    const holes = p.slice(1).map((r) => clipRing(r, bounds)).filter((r): r is Ring => r !== null);
    out.push([outer, ...holes]);
  }
  return out;
}

/**
 * Problems of a valid-looking region that change which pixels are in it: rings that cross
 * themselves or each other (a bow-tie). Pixels are still assigned by the even-odd rule; each
 * problem is a one-line warning naming the polygon and where.
 */
export function regionWarnings(region: Region): string[] {
  const out: string[] = [];
  region.polygons.forEach((p, i) => {
    const c = firstCrossing(p);
    if (c !== null) {
      out.push(
        `${region.file}: polygon ${i + 1} ${crossingText(c.rings)} near [${c.at.map((v) => Number(v.toPrecision(9))).join(', ')}]; ` +
          'pixels are assigned by the even-odd rule, so the crossed parts may be left out; repair it with ogr2ogr -makevalid out.geojson ' + region.file,
      );
    }
  });
  return out;
}

/** Which rings of a polygon cross (ring 0 is the outer ring, the others its holes). */
function crossingText([a, b]: [number, number]): string {
  const name = (r: number) => (r === 0 ? 'its outer ring' : `hole ${r}`);
  if (a === b) return a === 0 ? 'crosses itself' : `has hole ${a} crossing itself`;
  return `has ${name(a)} crossing ${name(b)}`;
}

function checkLonLat(region: Region, crs: Crs, label: string): void {
  for (const polygon of region.polygons) {
    for (const ring of polygon) {
      for (const [x, y] of ring) {
        if (x < -180 || x > 180 || y < -90 || y > 90) {
          const how = crs.epsg === 4326 ? 'GeoJSON coordinates are longitude, latitude in degrees (RFC 7946)' : `the region CRS ${label} is geographic`;
          throw new RegionError(
            `${region.file}: the position [${x}, ${y}] is not a longitude/latitude (expected -180..180, -90..90); ${how}. ` +
              `If the file is in a projected CRS, pass --region-crs EPSG:XXXX, or reproject it with ogr2ogr -t_srs EPSG:4326 out.geojson ${region.file}`,
            { file: region.file },
          );
        }
      }
    }
  }
}
