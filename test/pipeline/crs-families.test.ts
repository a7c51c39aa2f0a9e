/**
 * predict on inputs in national and other grids: for each CRS family, a small raster tagged with
 * the CRS by GDAL (gdal_translate -a_srs), and a region in EPSG:4326. The pixels tilecast predicts
 * must be the ones gdal_rasterize burns for the region reprojected by GDAL; a pixel may differ only
 * where its centre lies within the CRS's tolerance (test/raster/crs-cases.ts) of the boundary.
 * Region shapes are random; TILECAST_SEED=N repeats a run.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { identityModel } from '../../scripts/models/identity.js';
import { prng } from '../../scripts/models/prng.js';
import { predict } from '../../src/pipeline/predict.js';
import { GDAL_PYTHON, needGdal } from '../helpers/env.js';
import { CASES, metres, TOLERANCE } from '../raster/crs-cases.js';
import { readOutput } from './fixtures.js';

const FAMILIES = [27700, 2056, 31287, 28992, 5514, 2180, 3006, 2193, 3413, 32761, 32718, 26717, 3035, 5070, 3857, 2154, 3375, 6933, 4258];
const WIDTH = 48;
const HEIGHT = 40;
const SEED = Number(process.env.TILECAST_SEED ?? Math.floor(Math.random() * 2 ** 31));

/**
 * Per CRS: a raster around the centre of its area of use (100 m or 0.001° pixels) tagged with
 * gdal_translate's -a_srs/-a_ullr; the region (pixel-space vertices) in lon/lat through GDAL,
 * densified; that lon/lat region reprojected back by GDAL and rasterized on the raster's grid.
 */
const PY_SCENES = `
import sys, json, os, numpy as np
os.environ['PROJ_NETWORK'] = 'OFF'
from osgeo import gdal, ogr, osr
gdal.UseExceptions(); osr.UseExceptions()
req = json.loads(sys.stdin.read())
W, H = req['width'], req['height']
wgs = osr.SpatialReference(); wgs.ImportFromEPSG(4326); wgs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
out = {}
for code, verts in req['jobs']:
    srs = osr.SpatialReference(); srs.ImportFromEPSG(code); srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    a = srs.GetAreaOfUse()
    w, e = a.west_lon_degree, a.east_lon_degree
    if e < w: e += 360
    lon = (w + e) / 2; lon = lon - 360 if lon > 180 else lon
    lat = (a.south_lat_degree + a.north_lat_degree) / 2
    if code in (3413, 32761): lat = 75 if code == 3413 else -80
    fwd = osr.CoordinateTransformation(wgs, srs); inv = osr.CoordinateTransformation(srs, wgs)
    cx, cy = fwd.TransformPoint(lon, lat)[:2]
    px = 0.001 if srs.IsGeographic() else 100.0
    gt = [cx - W / 2 * px, px, 0, cy + H / 2 * px, 0, -px]
    base = gdal.GetDriverByName('MEM').Create('', W, H, 1, gdal.GDT_UInt16)
    base.GetRasterBand(1).WriteArray(np.full((H, W), 7, dtype=np.uint16))
    path = os.path.join(req['dir'], f'in_{code}.tif')
    gdal.Translate(path, base, outputSRS=f'EPSG:{code}', outputBounds=[gt[0], gt[3], gt[0] + W * px, gt[3] - H * px], creationOptions=['TILED=YES', 'BLOCKXSIZE=16', 'BLOCKYSIZE=16'])
    ring = ogr.Geometry(ogr.wkbLinearRing)
    for c, r in verts + [verts[0]]:
        ring.AddPoint_2D(*inv.TransformPoint(gt[0] + c * px, gt[3] - r * px)[:2])
    poly = ogr.Geometry(ogr.wkbPolygon); poly.AddGeometry(ring)
    poly.Segmentize(0.0002 if not srs.IsGeographic() else 0.00002)
    lonlat = json.loads(poly.ExportToJson())['coordinates'][0]
    back = ogr.CreateGeometryFromJson(json.dumps({'type': 'Polygon', 'coordinates': [lonlat]}))
    back.AssignSpatialReference(wgs); back.TransformTo(srs)
    mem = gdal.GetDriverByName('MEM').Create('', W, H, 1, gdal.GDT_Byte)
    mem.SetGeoTransform(gt); mem.SetProjection(srs.ExportToWkt())
    lyr_ds = ogr.GetDriverByName('Memory').CreateDataSource('r'); lyr = lyr_ds.CreateLayer('r', srs)
    f = ogr.Feature(lyr.GetLayerDefn()); f.SetGeometry(back); lyr.CreateFeature(f)
    gdal.RasterizeLayer(mem, [1], lyr, burn_values=[1])
    mask = mem.GetRasterBand(1).ReadAsArray()
    out[code] = {'file': path, 'gt': gt, 'geographic': bool(srs.IsGeographic()), 'lat': lat, 'lonlat': lonlat,
                 'ring': json.loads(back.ExportToJson())['coordinates'][0], 'mask': ''.join(str(int(v)) for v in mask.ravel())}
print(json.dumps(out))
`;

interface SceneRef {
  file: string;
  gt: number[];
  geographic: boolean;
  lat: number;
  lonlat: [number, number][];
  ring: [number, number][];
  mask: string;
}

let dir: string;
let model: string;
let scenes: Record<number, SceneRef>;

before(() => {
  if (needGdal()) return;
  dir = mkdtempSync(join(tmpdir(), 'tilecast-crs-'));
  model = join(dir, 'identity.onnx');
  writeFileSync(model, identityModel({ T: 1, C: 1, channels: [[0, 0]] }));
  const rand = prng(SEED);
  const jobs = FAMILIES.map((code): [number, [number, number][]] => {
    // an irregular hexagon around the raster centre, reaching past the raster on some sides
    const verts = Array.from({ length: 6 }, (_, k): [number, number] => {
      const angle = (k / 6) * 2 * Math.PI + 0.4 * rand();
      const radius = 0.35 + 0.3 * rand();
      return [WIDTH / 2 + radius * WIDTH * Math.cos(angle), HEIGHT / 2 + radius * HEIGHT * Math.sin(angle)];
    });
    return [code, verts];
  });
  scenes = JSON.parse(execFileSync(GDAL_PYTHON, ['-c', PY_SCENES], { input: JSON.stringify({ jobs, dir, width: WIDTH, height: HEIGHT }), encoding: 'utf8', maxBuffer: 1 << 26 })) as Record<number, SceneRef>;
});

after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Distance from (x, y) to the closest edge of a closed ring. */
function distanceToRing(ring: [number, number][], x: number, y: number): [number, number] {
  let best = Infinity;
  let by = y;
  for (let i = 0; i + 1 < ring.length; i++) {
    const [ax, ay] = ring[i]!;
    const [bx, byy] = ring[i + 1]!;
    const dx = bx - ax;
    const dy = byy - ay;
    const t = Math.max(0, Math.min(1, ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy || 1)));
    const d = Math.hypot(ax + t * dx - x, ay + t * dy - y);
    if (d < best) [best, by] = [d, ay + t * dy];
  }
  return [best, by];
}

for (const code of FAMILIES) {
  const c = CASES.find((k) => k.code === code)!;
  test(`predict on an input in EPSG:${code} (${c.family}) with a lon/lat region masks what GDAL rasterizes`, { skip: needGdal() }, async () => {
    const s = scenes[code]!;
    const out = join(dir, `out_${code}.tif`);
    const summary = await predict({
      model, dynamic: [s.file], region: { type: 'Polygon', coordinates: [s.lonlat] }, out,
      tile: 16, stride: 8, blockSize: 16, batchSize: 4, worker: false,
    });
    const o = await readOutput(out);
    assert.equal(o.epsg, code, 'the output keeps the input CRS');
    const w = summary.window;
    const tol = TOLERANCE[c.tolerance];
    let inside = 0;
    let differ = 0;
    for (let y = 0; y < HEIGHT; y++) {
      for (let x = 0; x < WIDTH; x++) {
        const inWindow = x >= w.x && x < w.x + w.width && y >= w.y && y < w.y + w.height;
        const ours = inWindow && !Number.isNaN(o.bands[0]![(y - w.y) * w.width + (x - w.x)]!);
        const gdals = s.mask[y * WIDTH + x] === '1';
        inside += gdals ? 1 : 0;
        if (ours === gdals) continue;
        differ++;
        const cx = s.gt[0]! + (x + 0.5) * s.gt[1]!;
        const cy = s.gt[3]! + (y + 0.5) * s.gt[5]!;
        const [d, atY] = distanceToRing(s.ring, cx, cy);
        const dm = s.geographic ? metres(true, atY, d, 0) : d;
        assert.ok(dm <= tol, `pixel (${x}, ${y}): tilecast ${ours ? 'in' : 'out'}, GDAL ${gdals ? 'in' : 'out'}, its centre ${dm.toFixed(3)} m from GDAL's boundary, over the ${c.tolerance} tolerance ${tol} m (TILECAST_SEED=${SEED})`);
      }
    }
    assert.ok(inside > 100 && inside < WIDTH * HEIGHT, `${inside} pixels in the region: the region must cover part of the raster`);
    assert.ok(differ <= 0.05 * inside, `${differ} boundary pixels differ (TILECAST_SEED=${SEED})`);
  });
}
