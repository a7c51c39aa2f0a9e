/**
 * The coordinate systems checked against GDAL, with the tolerance each is held to, and the GDAL
 * (osr) oracle that transforms points from EPSG:4326 into them.
 */
import { execFileSync } from 'node:child_process';
import { GDAL_PYTHON } from '../helpers/env.js';

/**
 * How closely tilecast must agree with GDAL for a CRS, in metres:
 * - `exact`: no datum shift to WGS 84, or one Helmert that PROJ uses over the whole area too;
 * - `regional`: PROJ switches between regional transformations (or none) inside the CRS's area,
 *   tilecast applies the one PROJ uses at the area's centre;
 * - `grid`: GDAL applies a grid shift file installed with it (Debian proj-data), tilecast the
 *   Helmert PROJ uses without the grid.
 */
export const TOLERANCE = { exact: 0.01, regional: 25, grid: 5 } as const;

export interface CrsCase {
  code: number;
  family: string;
  tolerance: keyof typeof TOLERANCE;
}

const c = (code: number, family: string, tolerance: keyof typeof TOLERANCE = 'exact'): CrsCase => ({ code, family, tolerance });

export const CASES: readonly CrsCase[] = [
  // national grids users asked for
  c(27700, 'British National Grid (OSGB36, Helmert for OSTN15)'),
  c(2056, 'Swiss LV95 (oblique Mercator, CH1903+)'),
  c(31287, 'Austria Lambert (MGI)', 'regional'),
  c(28992, 'Dutch RD New (oblique stereographic, Amersfoort)'),
  c(5514, 'Krovak East North (S-JTSK)', 'regional'),
  c(2180, 'Polish CS92'),
  c(3794, 'Slovene national grid'),
  c(3006, 'SWEREF99 TM'),
  c(2193, 'New Zealand TM 2000'),
  c(3413, 'NSIDC polar stereographic north'),
  c(3031, 'Antarctic polar stereographic'),
  c(32761, 'UPS South (N,E)'),
  // UTM families, both hemispheres
  c(32633, 'UTM WGS 84 north'),
  c(32718, 'UTM WGS 84 south'),
  c(32232, 'UTM WGS 72 north'),
  c(32335, 'UTM WGS 72 south'),
  c(26717, 'UTM NAD27', 'regional'),
  c(26915, 'UTM NAD83'),
  c(25832, 'UTM ETRS89'),
  c(31975, 'UTM SIRGAS 2000 north'),
  c(31983, 'UTM SIRGAS 2000 south'),
  c(28355, 'MGA GDA94'),
  c(7855, 'MGA GDA2020'),
  c(5041, 'UPS North (E,N)'),
  // continental and world projections
  c(3035, 'LAEA Europe'),
  c(3034, 'LCC Europe'),
  c(5070, 'Albers CONUS'),
  c(3577, 'Australian Albers'),
  c(3857, 'web Mercator'),
  c(3395, 'World Mercator'),
  c(2154, 'Lambert-93'),
  c(3978, 'Canada Atlas Lambert'),
  c(6933, 'equal-area cylindrical (EASE-Grid 2.0)'),
  c(6931, 'polar LAEA (EASE-Grid 2.0 north)'),
  c(3976, 'polar stereographic south (NSIDC)'),
  // transverse Mercator variants and other national grids
  c(2157, 'Irish Transverse Mercator'),
  c(29902, 'Irish Grid (TM65, 7-parameter Helmert)'),
  c(3067, 'Finland TM35FIN'),
  c(3763, 'Portugal TM06'),
  c(2100, 'Greek Grid (GGRS87, 3-parameter Helmert)'),
  c(31370, 'Belgian Lambert 72 (BD72)'),
  c(21781, 'Swiss LV03 (CH1903)'),
  c(3375, 'oblique Mercator (Peninsular Malaysia RSO)'),
  c(2326, 'Hong Kong 1980 Grid'),
  c(31467, 'Gauss-Krüger DHDN (BETA2007 grid in proj-data)', 'grid'),
  // geographic
  c(4326, 'geographic WGS 84'),
  c(4258, 'geographic ETRS89'),
  c(4269, 'geographic NAD83 (PROJ shifts to WGS 84 differently in Alaska)', 'regional'),
  c(4322, 'geographic WGS 72'),
  c(4277, 'geographic OSGB36'),
];

const PY_ORACLE = `
import sys, json, os
os.environ['PROJ_NETWORK'] = 'OFF'
from osgeo import osr
osr.UseExceptions()
req = json.loads(sys.stdin.read())
src = osr.SpatialReference(); src.ImportFromEPSG(4326); src.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
out = {}
for code, fractions in req['jobs']:
    dst = osr.SpatialReference(); dst.ImportFromEPSG(code); dst.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    a = dst.GetAreaOfUse()
    w, e, s, n = a.west_lon_degree, a.east_lon_degree, a.south_lat_degree, a.north_lat_degree
    if e < w: e += 360
    ct = osr.CoordinateTransformation(src, dst)
    pts = []
    for fx, fy in fractions:
        lon = w + (e - w) * fx
        lon = lon - 360 if lon > 180 else lon
        lat = s + (n - s) * fy
        x, y = ct.TransformPoint(lon, lat)[:2]
        pts.append([lon, lat, x, y])
    out[code] = {'name': dst.GetName(), 'geographic': bool(dst.IsGeographic()), 'area': [w, s, e, n], 'points': pts}
print(json.dumps(out))
`;

export interface OraclePoints {
  name: string;
  geographic: boolean;
  /** West, south, east (east > west across the antimeridian), north, in degrees. */
  area: [number, number, number, number];
  /** [lon, lat, x, y]: x, y as GDAL transforms lon, lat (traditional GIS axis order). */
  points: [number, number, number, number][];
}

/**
 * GDAL's transformation of points given as fractions [fx, fy] of each CRS's area of use (GDAL's
 * own area), one Python run for all CRSs. PROJ's network grids are off.
 */
export function gdalTransform(jobs: [number, [number, number][]][]): Record<number, OraclePoints> {
  return JSON.parse(execFileSync(GDAL_PYTHON, ['-c', PY_ORACLE], { input: JSON.stringify({ jobs }), encoding: 'utf8', env: { ...process.env, PROJ_NETWORK: 'OFF' } })) as Record<number, OraclePoints>;
}

/** Distance in metres between two positions of a CRS (degrees for geographic CRSs, near latitude `lat`). */
export function metres(geographic: boolean, lat: number, dx: number, dy: number): number {
  if (!geographic) return Math.hypot(dx, dy);
  const wrapped = ((((dx + 180) % 360) + 360) % 360) - 180;
  return Math.hypot(wrapped * 111320 * Math.cos((lat * Math.PI) / 180), dy * 110574);
}
