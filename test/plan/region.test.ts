import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import proj4 from 'proj4';
import { RegionError } from '../../src/errors.js';
import type { Ring } from '../../src/plan/geometry.js';
import { crsToPixelFn, pixelToCrs } from '../../src/plan/geotransform.js';
import { parseRegion, regionToPixels, regionWarnings } from '../../src/plan/region.js';
import { crsFromEpsg, WGS84 } from '../../src/raster/crs.js';
import type { GeoTransform } from '../../src/raster/types.js';
import { GDAL_PYTHON, needGdal } from '../helpers/env.js';

const square = (x0: number, y0: number, x1: number, y1: number): number[][] => [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]];
const poly = (...rings: unknown[][]) => ({ type: 'Polygon', coordinates: rings });
const feature = (geometry: unknown) => ({ type: 'Feature', properties: {}, geometry });

function rejects(input: unknown, pattern: RegExp): void {
  assert.throws(
    () => parseRegion(typeof input === 'string' ? input : JSON.stringify(input), 'area.geojson'),
    (e: unknown) => e instanceof RegionError && e.message.startsWith('area.geojson: ') && e.file === 'area.geojson' && pattern.test(e.message),
    String(pattern),
  );
}

test('parseRegion reads Polygon, MultiPolygon, Feature, FeatureCollection and GeometryCollection, keeping holes', () => {
  const holed = poly(square(0, 0, 10, 10), square(2, 2, 4, 4));
  assert.deepEqual(parseRegion(JSON.stringify(holed), 'a').polygons, [holed.coordinates]);
  const multi = { type: 'MultiPolygon', coordinates: [[square(0, 0, 1, 1)], [square(5, 5, 6, 6), square(5.2, 5.2, 5.4, 5.4)]] };
  assert.equal(parseRegion(multi, 'a').polygons.length, 2);
  assert.equal(parseRegion(multi, 'a').polygons[1]!.length, 2);
  const fc = { type: 'FeatureCollection', features: [feature(holed), feature(multi), feature({ type: 'GeometryCollection', geometries: [poly(square(7, 7, 8, 8))] })] };
  const r = parseRegion(JSON.stringify(fc), 'a');
  assert.equal(r.polygons.length, 4);
  assert.equal(r.declaredCrs, null);
  // a third (z) coordinate is ignored
  assert.deepEqual(parseRegion(poly([[0, 0, 5], [1, 0, 5], [1, 1, 5], [0, 0, 5]]), 'a').polygons, [[[[0, 0], [1, 0], [1, 1], [0, 0]]]]);
});

test('parseRegion rejects bad input with the file, the JSON path and the fix', () => {
  rejects('{"type": "Polygon", ', /not valid JSON/);
  rejects('[1, 2]', /is \[1,2\], expected a GeoJSON object/);
  rejects({ coordinates: [] }, /no "type" member/);
  rejects({ type: 'Topology' }, /type "Topology", expected Polygon, MultiPolygon/);
  rejects(poly([[0, 0], [1, 0], [1, 1], [0, 1]]), /coordinates\[0\] is not closed: it starts at \[0, 0\] and ends at \[0, 1\]; repeat the first position/);
  rejects(poly([[0, 0], [1, 0], [0, 0]]), /coordinates\[0\] has 3 position\(s\); a linear ring needs at least 4/);
  rejects(poly([[0, 0], [1, '0'], [1, 1], [0, 0]]), /coordinates\[0\]\[1\] is .*expected two finite numbers/);
  rejects(poly([[0, 0], [1], [1, 1], [0, 0]]), /coordinates\[0\]\[1\] is \[1\], expected a position/);
  rejects({ type: 'Polygon', coordinates: [] }, /a Polygon needs an outer ring/);
  rejects({ type: 'MultiPolygon', coordinates: [] }, /a MultiPolygon needs at least one polygon/);
  rejects({ type: 'FeatureCollection', features: [] }, /empty FeatureCollection/);
  rejects({ type: 'FeatureCollection', features: [feature(poly(square(0, 0, 1, 1))), feature({ type: 'Point', coordinates: [1, 2] })] }, /features\[1\]\.geometry is a Point; a region must be a Polygon or MultiPolygon \(buffer/);
  rejects(feature({ type: 'LineString', coordinates: [[0, 0], [1, 1]] }), /geometry is a LineString/);
  rejects(feature(null), /Feature without geometry/);
  rejects({ type: 'FeatureCollection' }, /without a "features" array/);
  rejects({ ...poly(square(0, 0, 1, 1)), crs: { type: 'name', properties: { name: 'urn:ogc:def:crs:EPSG::99999' } } }, /EPSG:99999 is not among/);
  rejects({ ...poly(square(0, 0, 1, 1)), crs: { type: 'link', properties: { href: 'x' } } }, /crs is not a named CRS/);
});

test('the legacy GeoJSON "crs" member is honoured', () => {
  const r = parseRegion({ ...poly(square(500000, 5700000, 501000, 5701000)), crs: { type: 'name', properties: { name: 'urn:ogc:def:crs:EPSG::32633' } } }, 'a');
  assert.equal(r.declaredCrs?.epsg, 32633);
  assert.equal(parseRegion({ ...poly(square(0, 0, 1, 1)), crs: { type: 'name', properties: { name: 'urn:ogc:def:crs:OGC:1.3:CRS84' } } }, 'a').declaredCrs, WGS84);
  // coordinates already in the raster CRS: only the geotransform applies
  const px = regionToPixels(r, { rasterCrs: crsFromEpsg(32633), geoTransform: [499000, 10, 0, 5702000, 0, -10] });
  assert.deepEqual(px[0]![0], [[100, 200], [200, 200], [200, 100], [100, 100], [100, 200]]);
});

test('coordinates that are not longitude/latitude are reported with a hint to use --region-crs', () => {
  const r = parseRegion(poly(square(500000, 5700000, 501000, 5701000)), 'utm.geojson');
  assert.throws(
    () => regionToPixels(r, { rasterCrs: crsFromEpsg(32633), geoTransform: [0, 10, 0, 0, 0, -10] }),
    (e: unknown) => e instanceof RegionError && /utm\.geojson: the position \[500000, 5700000\] is not a longitude\/latitude.*--region-crs EPSG:XXXX/.test(e.message),
  );
  // with --region-crs it is accepted
  const px = regionToPixels(r, { regionCrs: crsFromEpsg(32633), rasterCrs: crsFromEpsg(32633), geoTransform: [500000, 10, 0, 5701000, 0, -10] });
  assert.deepEqual(px[0]![0]![0], [0, 100]);
});

test('lon/lat to UTM 33N matches known proj4/PROJ coordinates, then the geotransform maps to pixels', () => {
  // reference values from PROJ (gdaltransform -s_srs EPSG:4326 -t_srs EPSG:32633)
  const known: [number, number, number, number][] = [
    [15, 52, 500000.0, 5761038.21259042],
    [12.5, 48.25, 314420.632929911, 5347108.77518378],
    [17.9, 60.1, 661232.233993095, 6666086.42117281],
  ];
  const ring = [...known.map(([lon, lat]) => [lon, lat]), [known[0]![0], known[0]![1]]];
  const region = parseRegion(poly(ring), 'a');
  const gt: GeoTransform = [300000, 10, 0, 6700000, 0, -10];
  const px = regionToPixels(region, { rasterCrs: crsFromEpsg(32633), geoTransform: gt });
  const out = px[0]![0]!;
  // the input vertices survive densification in order; find each one
  let from = 0;
  for (const [, , x, y] of known) {
    const want = [(x - 300000) / 10, (6700000 - y) / 10];
    const i = out.findIndex((p, k) => k >= from && Math.abs(p[0] - want[0]!) < 1e-6 && Math.abs(p[1] - want[1]!) < 1e-6);
    assert.ok(i >= 0, `vertex ${x},${y} not found`);
    from = i;
  }
  assert.deepEqual(out[out.length - 1], out[0]);
});

test('densified edges follow the projected curve of the straight lon/lat edge within the tolerance', () => {
  // a long edge along the 60th parallel: a curve in UTM
  const region = parseRegion(poly([[10, 60], [20, 60], [20, 61], [10, 61], [10, 60]]), 'a');
  const utm = crsFromEpsg(32633);
  const gt: GeoTransform = [200000, 200, 0, 6900000, 0, -200];
  const toPx = crsToPixelFn(gt);
  const conv = proj4(WGS84.proj4, utm.proj4);
  const curve = (lon: number, lat: number) => {
    const [x, y] = conv.forward([lon, lat]) as [number, number];
    return toPx(x, y);
  };
  for (const [tolerancePx, maxSegmentPx] of [[0.05, 16], [0.5, 1000], [0.01, 4]] as const) {
    const ring = regionToPixels(region, { rasterCrs: utm, geoTransform: gt, tolerancePx, maxSegmentPx })[0]![0]!;
    const end = curve(20, 60);
    const edge = ring.slice(0, ring.findIndex((p) => p[0] === end[0] && p[1] === end[1]) + 1);
    assert.ok(edge.length > 2, 'the first edge was densified');
    let worst = 0;
    for (let k = 0; k <= 400; k++) worst = Math.max(worst, distanceToPolyline(curve(10 + (10 * k) / 400, 60), edge));
    // the bisection bounds the midpoint deviation; the true maximum is within a small factor of it
    assert.ok(worst <= tolerancePx * 1.5, `tolerance ${tolerancePx}: worst deviation ${worst} px`);
    for (let i = 0; i + 1 < ring.length; i++) {
      const d = Math.hypot(ring[i + 1]![0] - ring[i]![0], ring[i + 1]![1] - ring[i]![1]);
      assert.ok(d <= maxSegmentPx + 1e-9, `segment ${i} is ${d} px`);
    }
  }
  // without densification the straight chord would miss the curve by many pixels
  const a = curve(10, 60);
  const b = curve(20, 60);
  const m = curve(15, 60);
  assert.ok(Math.hypot(m[0] - (a[0] + b[0]) / 2, m[1] - (a[1] + b[1]) / 2) > 50);
});

test('when the region is already in the raster CRS nothing is densified', () => {
  const utm = crsFromEpsg(32633);
  const region = parseRegion(poly(square(400000, 5000000, 600000, 5200000)), 'a');
  const px = regionToPixels(region, { regionCrs: utm, rasterCrs: utm, geoTransform: [0, 10, 0, 6000000, 0, -10] });
  assert.equal(px[0]![0]!.length, 5);
});

function distanceToPolyline(p: [number, number], ring: Ring): number {
  let best = Infinity;
  for (let i = 0; i + 1 < ring.length; i++) {
    const [ax, ay] = ring[i]!;
    const [bx, by] = ring[i + 1]!;
    const dx = bx - ax;
    const dy = by - ay;
    const len2 = dx * dx + dy * dy;
    const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((p[0] - ax) * dx + (p[1] - ay) * dy) / len2));
    best = Math.min(best, Math.hypot(p[0] - (ax + t * dx), p[1] - (ay + t * dy)));
  }
  return best;
}

test('rotated and south-up geotransforms invert exactly (round trip)', () => {
  const gts: GeoTransform[] = [
    [500000, 10, 0, 5700000, 0, -10],
    [-180, 0.25, 0, -90, 0, 0.25], // south-up
    [1000, 8.660254037844387, 5, 2000, 5, -8.660254037844387], // rotated 30°
    [10, 2, 0.5, 20, -0.3, -3], // sheared
  ];
  for (const gt of gts) {
    const inv = crsToPixelFn(gt);
    for (const [c, r] of [[0, 0], [12.5, 7.25], [1000, 3], [-4, 99]] as const) {
      const [x, y] = pixelToCrs(gt, c, r);
      const [c2, r2] = inv(x, y);
      assert.ok(Math.abs(c2 - c) < 1e-7 && Math.abs(r2 - r) < 1e-7, `${gt}: (${c}, ${r}) -> (${c2}, ${r2})`);
    }
  }
  assert.throws(() => crsToPixelFn([0, 0, 0, 0, 0, 0], 'flat.tif'), /flat\.tif: the geotransform .* is not invertible/);
});

test('a south-up lon/lat raster maps the region to the right rows', () => {
  const region = parseRegion(poly(square(-10, -5, 10, 5)), 'a');
  const px = regionToPixels(region, { rasterCrs: WGS84, geoTransform: [-180, 1, 0, -90, 0, 1] });
  assert.deepEqual(px[0]![0], [[170, 85], [190, 85], [190, 95], [170, 95], [170, 85]]);
});

test('a point the raster CRS cannot represent is a RegionError', () => {
  // the antipode of a LAEA projection centre has no finite image
  const laea = crsFromEpsg(3035); // centre 52N 10E; antipode 52S 170W
  const region = parseRegion(poly([[-170, -52], [-169, -52], [-169, -51], [-170, -52]]), 'far.geojson');
  assert.throws(() => regionToPixels(region, { rasterCrs: laea, geoTransform: [0, 100, 0, 0, 0, -100] }), (e: unknown) => e instanceof RegionError && /far\.geojson: the point \[-170, -52\].*cannot be projected to the raster CRS EPSG:3035/.test(e.message));
});

const PY_TRANSFORM = `
import sys, json
from osgeo import osr
req = json.loads(sys.stdin.read())
src = osr.SpatialReference(); src.ImportFromEPSG(4326); src.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
out = {}
for code, pts in req.items():
    dst = osr.SpatialReference(); dst.ImportFromEPSG(int(code)); dst.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    ct = osr.CoordinateTransformation(src, dst)
    out[code] = [list(ct.TransformPoint(x, y)[:2]) for x, y in pts]
print(json.dumps(out))
`;

test('reprojection agrees with GDAL/PROJ to a millimetre', { skip: needGdal() }, () => {
  const north: [number, number][] = [
    [14.1, 51.3],
    [16.9, 53.7],
    [9.5, 47.2],
  ];
  const south: [number, number][] = north.map(([x, y]) => [x, -y + 20]);
  const req: Record<string, [number, number][]> = { 32633: north, 3035: north, 3857: north, 32733: south };
  const gdalOut = JSON.parse(execFileSync(GDAL_PYTHON, ['-c', PY_TRANSFORM], { input: JSON.stringify(req), encoding: 'utf8' })) as Record<string, number[][]>;
  for (const [epsg, input] of Object.entries(req)) {
    const region = parseRegion(poly([...input, input[0]!]), 'a');
    const px = regionToPixels(region, { rasterCrs: crsFromEpsg(Number(epsg)), geoTransform: [0, 1, 0, 0, 0, -1] })[0]![0]!;
    for (const [x, y] of gdalOut[epsg]!) {
      assert.ok(px.some((p) => Math.abs(p[0] - x!) < 1e-3 && Math.abs(-p[1] - y!) < 1e-3), `EPSG:${epsg}: ${x}, ${y} not found`);
    }
  }
});

test('a crossing is warned about with the rings that cross: outer ring, hole, or a ring with itself', () => {
  const warn = (rings: number[][][]) => regionWarnings(parseRegion(JSON.stringify({ type: 'Polygon', coordinates: rings }), 'r.geojson'));
  const outer = [[0, 0], [100, 0], [100, 100], [0, 100], [0, 0]];
  assert.deepEqual(warn([outer]), [], 'a simple polygon');
  assert.deepEqual(warn([outer, [[20, 20], [40, 20], [40, 40], [20, 20]]]), [], 'a hole inside');
  // a hole that pokes out through the right edge: the outer ring's edge at x = 100 comes later in the sweep
  assert.match(warn([outer, [[80, 40], [120, 40], [120, 60], [80, 40]]])[0]!, /^r\.geojson: polygon 1 has its outer ring crossing hole 1 near \[100, /);
  // the hole through the left edge: the outer ring's edge at x = 0 comes first
  assert.match(warn([outer, [[-20, 40], [20, 40], [20, 60], [-20, 40]]])[0]!, /polygon 1 has its outer ring crossing hole 1 near \[0, /);
  assert.match(warn([outer, [[20, 20], [40, 40], [40, 20], [20, 40], [20, 20]]])[0]!, /polygon 1 has hole 1 crossing itself near \[30, 30\]/);
  assert.match(warn([outer, [[20, 20], [40, 20], [40, 40], [20, 20]], [[30, 10], [35, 10], [35, 30], [30, 10]]])[0]!, /polygon 1 has hole 1 crossing hole 2 near/);
  assert.match(warn([[[0, 0], [100, 100], [100, 0], [0, 100], [0, 0]]])[0]!, /polygon 1 crosses itself near \[50, 50\]/);
});
