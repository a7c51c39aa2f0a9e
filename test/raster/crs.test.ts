import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fromFile } from 'geotiff';
import proj4 from 'proj4';
import { RegionError, UnsupportedError, UsageError } from '../../src/errors.js';
import { parseRegion } from '../../src/plan/region.js';
import { crsFromEpsg, crsFromGeoKeys, parseCrs, registerCrsDefinition, registerEpsg, WGS84 } from '../../src/raster/crs.js';
import { CORPUS_DIR, GDAL_PYTHON, needCorpus, needGdal } from '../helpers/env.js';

/** The codes of the table the registry replaced: every one must still resolve. */
const FAMILY_CODES = [
  ...[4326, 4269, 4267, 4258, 4674, 4283, 7844, 4322, 4171],
  ...[3857, 3395, 3035, 3034, 5070, 2154, 6933, 5041, 5042],
  ...range(32601, 32660),
  ...range(32701, 32760),
  ...range(32201, 32260),
  ...range(32301, 32360),
  ...range(26701, 26722),
  ...range(26901, 26923),
  ...range(25828, 25837), // 25838 is deprecated in EPSG and not in the registry
  ...range(31965, 31985),
  6210,
  6211,
  ...range(28348, 28358),
  ...range(7846, 7859),
];

function range(a: number, b: number): number[] {
  return Array.from({ length: b - a + 1 }, (_, i) => a + i);
}

test('crsFromEpsg reads names and proj4 definitions from the EPSG registry', () => {
  assert.deepEqual(crsFromEpsg(32633), { epsg: 32633, proj4: '+proj=utm +zone=33 +datum=WGS84 +units=m +no_defs', name: 'WGS 84 / UTM zone 33N' });
  assert.deepEqual(crsFromEpsg(32760), { epsg: 32760, proj4: '+proj=utm +zone=60 +south +datum=WGS84 +units=m +no_defs', name: 'WGS 84 / UTM zone 60S' });
  assert.equal(crsFromEpsg(31985).name, 'SIRGAS 2000 / UTM zone 25S');
  assert.equal(crsFromEpsg(6211).name, 'SIRGAS 2000 / UTM zone 24N');
  assert.equal(crsFromEpsg(26711).name, 'NAD27 / UTM zone 11N');
  assert.equal(crsFromEpsg(26923).name, 'NAD83 / UTM zone 23N');
  assert.equal(crsFromEpsg(28355).name, 'GDA94 / MGA zone 55');
  assert.equal(crsFromEpsg(3035).name, 'ETRS89-extended / LAEA Europe');
  assert.equal(crsFromEpsg(27700).name, 'OSGB36 / British National Grid');
  assert.deepEqual(crsFromEpsg(4326), { epsg: 4326, proj4: '+proj=longlat +datum=WGS84 +no_defs', name: 'WGS 84' });
  assert.deepEqual(WGS84, crsFromEpsg(4326));
  // old codes for web mercator resolve to 3857
  assert.equal(crsFromEpsg(900913).epsg, 3857);
  assert.equal(crsFromEpsg(102100).proj4, crsFromEpsg(3857).proj4);
  // the registry's grids proj4js lacks are replaced by PROJ's Helmert; names proj4js does not know by a and rf
  assert.match(crsFromEpsg(27700).proj4, /\+ellps=airy \+towgs84=446\.448,-125\.157,542\.06,0\.15,0\.247,0\.842,-20\.489 /);
  assert.doesNotMatch(crsFromEpsg(26711).proj4, /nadgrids|datum=/);
  assert.match(crsFromEpsg(32233).proj4, /\+a=6378135 \+rf=298\.26 /);
  for (const code of [25838, 99999, 0, -5, 1.5]) {
    assert.throws(
      () => crsFromEpsg(code),
      (e: unknown) =>
        e instanceof UnsupportedError &&
        e.message.includes(`EPSG:${code} is not among the coordinate systems of the EPSG registry`) &&
        e.message.includes(`registerEpsg(${code}, '+proj=...')`) &&
        e.message.includes(`--crs-def 'EPSG:${code}=+proj=...'`) &&
        !e.message.includes('gdalwarp'),
      String(code),
    );
  }
  // codes the registry has but a raster cannot use say why
  const unusable: [number, RegExp][] = [
    [4978, /geocentric/],
    [5703, /vertical/],
    [7405, /compound .*horizontal part/],
    [5513, /axes point south\/west \(\+axis=swu\)/],
    [4807, /coordinates are in grad/],
    [32600, /registry gives no proj4 definition/],
  ];
  for (const [code, why] of unusable) {
    assert.throws(() => crsFromEpsg(code), (e: unknown) => e instanceof UnsupportedError && e.message.startsWith(`EPSG:${code} (`) && why.test(e.message) && e.message.includes('--crs-def'), String(code));
  }
  // every code of the table the registry replaced is usable by proj4
  for (const code of FAMILY_CODES) proj4(WGS84.proj4, crsFromEpsg(code).proj4).forward([0, 0]);
});

test('registerEpsg and registerCrsDefinition add codes; parseCrs reads EPSG codes, URNs and proj4 strings', () => {
  const lv95 = '+proj=somerc +lat_0=46.9524055555556 +lon_0=7.43958333333333 +k_0=1 +x_0=2600000 +y_0=1200000 +ellps=bessel +towgs84=674.374,15.056,405.346,0,0,0,0 +units=m +no_defs';
  registerEpsg(990001, lv95, 'my LV95');
  assert.deepEqual(crsFromEpsg(990001), { epsg: 990001, proj4: lv95, name: 'my LV95' });
  const [x, y] = proj4(WGS84.proj4, crsFromEpsg(990001).proj4).forward([7.43958333333333, 46.9524055555556]) as number[];
  // value from gdaltransform -s_srs EPSG:4326 -t_srs EPSG:2056
  assert.ok(Math.abs(x! - 2600072.38970263) < 1e-3 && Math.abs(y! - 1200147.05558247) < 1e-3, `${x}, ${y}`);
  assert.throws(() => registerEpsg(1, '+proj=nonsense'), UsageError);

  assert.deepEqual(registerCrsDefinition(`EPSG:990002=${lv95}`), { epsg: 990002, proj4: lv95, name: 'EPSG:990002' });
  assert.equal(registerCrsDefinition(` 990003 = ${lv95} `, 'crsDefs').proj4, lv95);
  assert.equal(parseCrs('EPSG:990002', '--region-crs').proj4, lv95);
  assert.throws(() => registerCrsDefinition(lv95), (e: unknown) => e instanceof UsageError && /^--crs-def '\+proj=somerc.*' is not a definition: expected EPSG:<code>=<proj4 string>/.test(e.message));
  assert.throws(() => registerCrsDefinition('EPSG:990004=+proj=nonsense'), (e: unknown) => e instanceof UsageError && /^--crs-def EPSG:990004: proj4 cannot parse/.test(e.message));

  assert.equal(parseCrs('EPSG:32633', '--region-crs').epsg, 32633);
  assert.equal(parseCrs('32633', '--region-crs').epsg, 32633);
  assert.equal(parseCrs('urn:ogc:def:crs:EPSG::3035', '--region-crs').epsg, 3035);
  assert.deepEqual(parseCrs('EPSG:27700', '--region-crs'), crsFromEpsg(27700));
  assert.deepEqual(parseCrs('epsg:4326', '--region-crs'), WGS84);
  assert.equal(parseCrs('OGC:CRS84', '--region-crs'), WGS84);
  assert.deepEqual(parseCrs('+proj=utm +zone=5 +datum=WGS84', '--region-crs'), { epsg: null, proj4: '+proj=utm +zone=5 +datum=WGS84' });
  assert.throws(() => parseCrs('EPSG:99999', '--region-crs'), (e: unknown) => e instanceof UsageError && /^--region-crs EPSG:99999: EPSG:99999 is not among/.test(e.message));
  assert.throws(() => parseCrs('UTM33', '--region-crs'), (e: unknown) => e instanceof UsageError && /^--region-crs 'UTM33' is not a CRS/.test(e.message));

  // the legacy GeoJSON "crs" member reads the same registry
  const square = { type: 'Polygon', coordinates: [[[0, 0], [1, 0], [1, 1], [0, 0]]] };
  assert.deepEqual(parseRegion({ ...square, crs: { type: 'name', properties: { name: 'urn:ogc:def:crs:EPSG::27700' } } }, 'r.geojson').declaredCrs, crsFromEpsg(27700));
  assert.throws(
    () => parseRegion({ ...square, crs: { type: 'name', properties: { name: 'EPSG:99999' } } }, 'r.geojson'),
    (e: unknown) => e instanceof RegionError && /^r\.geojson: crs EPSG:99999: EPSG:99999 is not among .*--crs-def/.test(e.message),
  );
});

test('crsFromGeoKeys: no keys → null; EPSG-coded projected and geographic CRS', () => {
  assert.equal(crsFromGeoKeys(null, 'a.tif'), null);
  assert.equal(crsFromGeoKeys({ GTRasterTypeGeoKey: 1 }, 'a.tif'), null);
  assert.equal(crsFromGeoKeys({ GTModelTypeGeoKey: 1, ProjectedCSTypeGeoKey: 32618 }, 'a.tif')?.epsg, 32618);
  assert.deepEqual(crsFromGeoKeys({ GTModelTypeGeoKey: 2, GeographicTypeGeoKey: 4326 }, 'a.tif'), WGS84);
  assert.deepEqual(crsFromGeoKeys({ GTModelTypeGeoKey: 2, GeographicTypeGeoKey: [4269] }, 'a.tif'), crsFromEpsg(4269));
  // a national grid from GeoKeys is the very Crs --region-crs gives (the pixel grid check compares them)
  for (const code of [27700, 2056, 28992, 5514, 3413]) {
    assert.deepEqual(crsFromGeoKeys({ GTModelTypeGeoKey: 1, ProjectedCSTypeGeoKey: code }, 'a.tif'), parseCrs(`EPSG:${code}`, '--region-crs'));
  }
  // a code nobody defines: the file, the code, the way out; no advice to resample the data
  assert.throws(
    () => crsFromGeoKeys({ GTModelTypeGeoKey: 1, ProjectedCSTypeGeoKey: 99999 }, 'in/odd.tif'),
    (e: unknown) =>
      e instanceof UnsupportedError && e.file === 'in/odd.tif' && /^in\/odd\.tif: the projected CRS EPSG:99999 is not among .* registerEpsg\(99999, .* --crs-def 'EPSG:99999=\+proj=\.\.\.'/.test(e.message) && !e.message.includes('gdalwarp'),
  );
});

test('crsFromGeoKeys rebuilds user-defined CRS from projection keys and ESRI PE strings', () => {
  // the keys of GDAL's autotest byte_user_defined_geokeys.tif, as geotiff.js returns them
  const tm = crsFromGeoKeys(
    {
      GTModelTypeGeoKey: 1,
      GTRasterTypeGeoKey: 1,
      GeographicTypeGeoKey: 32767,
      GeogGeodeticDatumGeoKey: 32767,
      GeogPrimeMeridianGeoKey: 8901,
      GeogAngularUnitsGeoKey: 9102,
      GeogEllipsoidGeoKey: 32767,
      GeogSemiMajorAxisGeoKey: 6378137,
      GeogInvFlatteningGeoKey: 298.257222932958,
      GeogPrimeMeridianLongGeoKey: 0,
      GeogTOWGS84GeoKey: { 0: 0, 1: 0, 2: 0, 3: 0, 4: 0, 5: 0, 6: 0 },
      ProjectedCSTypeGeoKey: 32767,
      ProjectionGeoKey: 32767,
      ProjCoordTransGeoKey: 1,
      ProjLinearUnitsGeoKey: 32767,
      ProjLinearUnitSizeGeoKey: 1,
      ProjNatOriginLongGeoKey: 13.80915679,
      ProjNatOriginLatGeoKey: 52.48504474,
      ProjFalseEastingGeoKey: 48240.903,
      ProjFalseNorthingGeoKey: 53243.364,
      ProjScaleAtNatOriginGeoKey: 1,
    },
    'user.tif',
  );
  // GDAL reads this file as:
  const gdal = '+proj=tmerc +lat_0=52.48504474 +lon_0=13.80915679 +k=1 +x_0=48240.903 +y_0=53243.364 +a=6378137 +rf=298.257222932961 +towgs84=0,0,0,0,0,0,0 +units=m +no_defs';
  assert.equal(tm?.epsg, null);
  assertSameProjection(tm!.proj4, gdal, [13.9, 52.5], 1e-3);

  // UTM zone from ProjectionGeoKey 16125 (stars' olinda_dem_utm25s.tif)
  const utm = crsFromGeoKeys(
    { GTModelTypeGeoKey: 1, GeographicTypeGeoKey: 32767, GeogGeodeticDatumGeoKey: 32767, GeogEllipsoidGeoKey: 32767, GeogSemiMajorAxisGeoKey: 6378137, GeogInvFlatteningGeoKey: 298.257222101, GeogTOWGS84GeoKey: [0, 0, 0], ProjectedCSTypeGeoKey: 32767, ProjectionGeoKey: 16125, ProjLinearUnitsGeoKey: 9001 },
    'olinda.tif',
  );
  assertSameProjection(utm!.proj4, '+proj=utm +zone=25 +south +ellps=GRS80 +towgs84=0,0,0,0,0,0,0 +units=m +no_defs', [-34.9, -8], 1e-3);

  // ESRI PE string (rasterio's test_esri_wkt.tif)
  const pe = crsFromGeoKeys(
    {
      GTModelTypeGeoKey: 32767,
      GeographicTypeGeoKey: 32767,
      PCSCitationGeoKey:
        'ESRI PE String = PROJCS["USA_Contiguous_Albers_Equal_Area_Conic_USGS_version",GEOGCS["GCS_North_American_1983",DATUM["D_North_American_1983",SPHEROID["GRS_1980",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.017453292519943295]],PROJECTION["Albers"],PARAMETER["false_easting",0.0],PARAMETER["false_northing",0.0],PARAMETER["central_meridian",-96.0],PARAMETER["standard_parallel_1",29.5],PARAMETER["standard_parallel_2",45.5],PARAMETER["latitude_of_origin",23.0],UNIT["Meter",1.0]]',
    },
    'esri.tif',
  );
  assert.equal(pe?.name, 'USA_Contiguous_Albers_Equal_Area_Conic_USGS_version');
  assertSameProjection(pe!.proj4, '+proj=aea +lat_0=23 +lon_0=-96 +lat_1=29.5 +lat_2=45.5 +x_0=0 +y_0=0 +datum=NAD83 +units=m +no_defs', [-100, 40], 1e-3);

  // user-defined geographic
  const geo = crsFromGeoKeys({ GTModelTypeGeoKey: 2, GeographicTypeGeoKey: 32767, GeogEllipsoidGeoKey: 7019 }, 'g.tif');
  assert.equal(geo?.proj4, '+proj=longlat +ellps=GRS80 +no_defs');
  // user-defined projection on a coded datum: the datum (and its shift) comes from the registry
  const onDatum = crsFromGeoKeys(
    { GTModelTypeGeoKey: 1, ProjectedCSTypeGeoKey: 32767, GeographicTypeGeoKey: 32767, GeogGeodeticDatumGeoKey: 6277, ProjCoordTransGeoKey: 1, ProjNatOriginLatGeoKey: 49, ProjNatOriginLongGeoKey: -2, ProjScaleAtNatOriginGeoKey: 0.9996012717, ProjFalseEastingGeoKey: 400000, ProjFalseNorthingGeoKey: -100000 },
    'osgb.tif',
  );
  assertSameProjection(onDatum!.proj4, crsFromEpsg(27700).proj4, [-1.5, 52.5], 1e-3);
});

test('crsFromGeoKeys explains what it cannot use: file, user-defined 32767, the keys found, gdalwarp', () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ GTModelTypeGeoKey: 1, ProjectedCSTypeGeoKey: 32767, GeographicTypeGeoKey: 4326, ProjectionGeoKey: 32767 }, /user-defined \(32767\) without a projection method/],
    [{ GTModelTypeGeoKey: 1, ProjectedCSTypeGeoKey: 32767, GeographicTypeGeoKey: 4326, ProjCoordTransGeoKey: 3 }, /projection method 3 \(ProjCoordTransGeoKey\)/],
    [{ GTModelTypeGeoKey: 1, ProjectedCSTypeGeoKey: 32767, ProjCoordTransGeoKey: 1 }, /datum\/ellipsoid keys are missing/],
    [{ GTModelTypeGeoKey: 1, ProjectedCSTypeGeoKey: 32767, GeographicTypeGeoKey: 4326, ProjectionGeoKey: 10101 }, /projection code 10101/],
    [{ GTModelTypeGeoKey: 32767, GeographicTypeGeoKey: 4326 }, /model type is user-defined \(32767\) and no ESRI PE string/],
    [{ GTModelTypeGeoKey: 3 }, /geocentric/],
  ];
  for (const [keys, pattern] of cases) {
    assert.throws(
      () => crsFromGeoKeys(keys, 'in/odd.tif'),
      (e: unknown) =>
        e instanceof UnsupportedError &&
        e.file === 'in/odd.tif' &&
        e.message.startsWith('in/odd.tif: ') &&
        pattern.test(e.message) &&
        /GeoKeys found: .*GTModelTypeGeoKey=/.test(e.message) &&
        e.message.includes('gdalwarp -t_srs EPSG:XXXX in/odd.tif out.tif'),
      pattern.source,
    );
  }
});

/** Project lon/lat points near `at` with both definitions; they must agree within `tol` metres. */
function assertSameProjection(ours: string, theirs: string, at: [number, number], tol: number, label = ''): void {
  const a = proj4(WGS84.proj4, ours);
  const b = proj4(WGS84.proj4, theirs);
  for (const [dx, dy] of [[0, 0], [0.3, 0.2], [-0.2, -0.25]]) {
    const p = [at[0] + dx!, at[1] + dy!];
    const [x1, y1] = a.forward(p) as number[];
    const [x2, y2] = b.forward(p) as number[];
    const d = Math.hypot(x1! - x2!, y1! - y2!);
    assert.ok(d <= tol, `${label} at ${p}: ${ours} vs ${theirs}: ${d} m apart`);
  }
}

/** A definition with its datum shift removed: projection and ellipsoid only. */
function projectionOnly(def: string): string {
  return def
    .replace('+datum=WGS84', '+ellps=WGS84')
    .replace('+datum=NAD83', '+ellps=GRS80')
    .replace('+datum=NAD27', '+ellps=clrk66')
    .replace(/\+(towgs84|nadgrids)=\S+/g, '')
    .replace(/\+type=crs/, '');
}

const PY_WRITE = `
import sys, json
from osgeo import gdal, osr
gdal.UseExceptions()
jobs = json.loads(sys.stdin.read())
for path, definition in jobs:
    srs = osr.SpatialReference(); srs.ImportFromProj4(definition)
    ds = gdal.GetDriverByName('GTiff').Create(path, 2, 2, 1, gdal.GDT_Byte)
    ds.SetProjection(srs.ExportToWkt())
    ds.SetGeoTransform([0, 1, 0, 0, 0, -1])
    ds = None
`;

test('user-defined projections written by GDAL are rebuilt (read back with geotiff.js)', { skip: needGdal() }, async () => {
  const defs: [string, [number, number]][] = [
    ['+proj=tmerc +lat_0=10 +lon_0=20 +k=0.9995 +x_0=300000 +y_0=-100000 +ellps=intl +units=m', [20.3, 10.5]],
    ['+proj=merc +lon_0=100 +k=1 +x_0=0 +y_0=0 +datum=WGS84 +units=m', [100, 10]],
    ['+proj=merc +lon_0=10 +lat_ts=30 +x_0=0 +y_0=0 +datum=WGS84 +units=m', [12, 35]],
    ['+proj=lcc +lat_0=46.5 +lon_0=3 +lat_1=49 +lat_2=44 +x_0=700000 +y_0=6600000 +ellps=GRS80 +units=m', [2, 47]],
    ['+proj=lcc +lat_1=18 +lat_0=18 +lon_0=-77 +k_0=1 +x_0=250000 +y_0=150000 +ellps=clrk66 +units=m', [-77, 18]],
    ['+proj=laea +lat_0=45 +lon_0=-100 +x_0=0 +y_0=0 +ellps=WGS84 +units=m', [-98, 46]],
    ['+proj=aea +lat_0=23 +lon_0=-96 +lat_1=29.5 +lat_2=45.5 +x_0=0 +y_0=0 +ellps=GRS80 +units=m', [-100, 40]],
    ['+proj=aeqd +lat_0=49 +lon_0=2 +x_0=0 +y_0=0 +ellps=WGS84 +units=m', [2.5, 49.5]],
    ['+proj=stere +lat_0=90 +lat_ts=70 +lon_0=-45 +x_0=0 +y_0=0 +datum=WGS84 +units=m', [-40, 75]],
    ['+proj=stere +lat_0=-90 +lon_0=0 +k=0.994 +x_0=2000000 +y_0=2000000 +datum=WGS84 +units=m', [10, -80]],
    ['+proj=sterea +lat_0=52.15616055555555 +lon_0=5.38763888888889 +k=0.9999079 +x_0=155000 +y_0=463000 +ellps=bessel +units=m', [5.5, 52.2]],
    ['+proj=eqc +lat_ts=0 +lat_0=0 +lon_0=0 +x_0=0 +y_0=0 +datum=WGS84 +units=m', [10, 10]],
    ['+proj=cass +lat_0=10.44166666666667 +lon_0=-61.33333333333334 +x_0=86501.46392052001 +y_0=65379.0134283 +a=6378293.645208759 +b=6356617.987679838 +units=m', [-61.3, 10.5]],
    ['+proj=sinu +lon_0=0 +x_0=0 +y_0=0 +R=6371007.181 +units=m', [10, 40]],
    ['+proj=cea +lon_0=0 +lat_ts=30 +x_0=0 +y_0=0 +datum=WGS84 +units=m', [20, 30]],
    ['+proj=tmerc +lat_0=0 +lon_0=-120 +k=0.9996 +x_0=500000 +y_0=0 +datum=WGS84 +units=us-ft', [-120.5, 40]],
    ['+proj=lcc +lat_0=41.5 +lon_0=-120.5 +lat_1=43 +lat_2=45.5 +x_0=400000 +y_0=0 +ellps=GRS80 +units=ft', [-120, 44]],
  ];
  const dir = mkdtempSync(join(tmpdir(), 'tilecast-crs-'));
  try {
    const jobs = defs.map(([d], i) => [join(dir, `p${i}.tif`), d]);
    execFileSync(GDAL_PYTHON, ['-c', PY_WRITE], { input: JSON.stringify(jobs), encoding: 'utf8' });
    for (let i = 0; i < defs.length; i++) {
      const [definition, at] = defs[i]!;
      const tiff = await fromFile(jobs[i]![0]!);
      const keys = (await tiff.getImage()).getGeoKeys() as Record<string, unknown>;
      const crs = crsFromGeoKeys(keys, jobs[i]![0]!);
      assert.ok(crs !== null);
      if (crs.epsg !== null) {
        // GDAL recognised a known CRS and wrote its EPSG code
        assertSameProjection(crs.proj4, definition, at, 0.05, definition);
        continue;
      }
      // units: compare in metres
      const ours = crs.proj4;
      assertSameProjection(ours, definition, at, 1e-3, `${definition} (keys ${JSON.stringify(keys)})`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('every georeferenced corpus file gets the CRS GDAL reports (or a clear UnsupportedError)', { skip: needCorpus() }, async () => {
  const manifest = JSON.parse(readFileSync(join(CORPUS_DIR, 'MANIFEST.json'), 'utf8')) as {
    file: string;
    crs: { epsg: number | null; proj4: string | null; projected: boolean } | null;
    geotransform: number[] | null;
    width: number;
    height: number;
  }[];
  let checked = 0;
  for (const entry of manifest) {
    if (!entry.crs?.proj4 || !entry.geotransform) continue;
    const path = join(CORPUS_DIR, 'files', entry.file);
    let keys: Record<string, unknown> | null;
    try {
      keys = (await (await fromFile(path)).getImage()).getGeoKeys() as Record<string, unknown> | null;
    } catch {
      continue; // malformed files are the reader's business
    }
    const crs = crsFromGeoKeys(keys, path);
    assert.ok(crs !== null, entry.file);
    if (entry.crs.epsg !== null) assert.equal(crs.epsg, entry.crs.epsg, entry.file);
    // the raster centre, in lon/lat through GDAL's definition, must project back to the same place through ours
    const gt = entry.geotransform;
    const cx = gt[0]! + (entry.width / 2) * gt[1]! + (entry.height / 2) * gt[2]!;
    const cy = gt[3]! + (entry.width / 2) * gt[4]! + (entry.height / 2) * gt[5]!;
    // the projection (datum shifts are checked against GDAL in crs-gdal.test.ts)
    const theirs = projectionOnly(entry.crs.proj4);
    const lonlat = proj4(WGS84.proj4, theirs).inverse([cx, cy]) as [number, number];
    if (entry.crs.projected) assertSameProjection(projectionOnly(crs.proj4), theirs, lonlat, 1e-3, entry.file);
    else assert.equal(crs.proj4, WGS84.proj4);
    checked++;
  }
  assert.ok(checked >= 30, `${checked} corpus files checked`);
});
