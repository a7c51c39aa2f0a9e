#!/usr/bin/python3
"""Regenerate src/raster/datum-shifts.ts: the datum shift PROJ uses without grid files.

The EPSG registry package gives each CRS a proj4 string whose datum shift is one the registry's
authors picked: a grid proj4js does not have (+nadgrids=...), a Helmert that PROJ does not use,
or (for a few datums) rotations in the wrong unit. This asks PROJ (through GDAL's libproj, with a
data folder that holds proj.db and no grid, network off) which operation it uses from each CRS's
geographic base to WGS 84 at the centre of the CRS's area of use, and writes the 7-parameter
(position vector) Helmert of that operation as a proj4 +towgs84 value, or '' where PROJ applies
no shift (a null or ballpark transformation). Molodensky-Badekas operations are rewritten as the
equivalent Helmert. Only CRSs where the registry's own shift differs from PROJ's are listed:
DATUM_SHIFTS by base geographic CRS (the shift most of the CRSs on that base get) and
CODE_SHIFTS for CRSs whose area makes PROJ pick another operation.

Run: /usr/bin/python3 scripts/crs/datum-shifts.py > src/raster/datum-shifts.ts
Needs: libproj (Debian libproj25, as python3-gdal installs it) and node_modules/epsg-index.
"""
import collections
import ctypes
import ctypes.util
import glob
import json
import os
import re
import shutil
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REGISTRY = os.path.join(ROOT, 'node_modules', 'epsg-index', 's')


def proj_without_grids():
    """libproj with a data folder holding only proj.db: PROJ's choice when no grid is installed."""
    lib = ctypes.util.find_library('proj')
    if lib is None:
        sys.exit('libproj not found (apt-get install python3-gdal)')
    db = next((p for p in ['/usr/share/proj/proj.db', os.path.join(os.environ.get('PROJ_DATA', ''), 'proj.db')] if os.path.exists(p)), None)
    if db is None:
        sys.exit('proj.db not found')
    data = tempfile.mkdtemp()
    shutil.copy(db, data)
    os.environ['PROJ_DATA'] = os.environ['PROJ_LIB'] = data
    os.environ['PROJ_NETWORK'] = 'OFF'
    L = ctypes.CDLL(lib)
    vp = ctypes.c_void_p

    class Coord(ctypes.Structure):
        _fields_ = [('v', ctypes.c_double * 4)]

    L.proj_log_level.argtypes = [vp, ctypes.c_int]
    L.proj_create_crs_to_crs.restype = vp
    L.proj_create_crs_to_crs.argtypes = [vp, ctypes.c_char_p, ctypes.c_char_p, vp]
    L.proj_normalize_for_visualization.restype = vp
    L.proj_normalize_for_visualization.argtypes = [vp, vp]
    L.proj_trans.restype = Coord
    L.proj_trans.argtypes = [vp, ctypes.c_int, Coord]
    L.proj_trans_get_last_used_operation.restype = vp
    L.proj_trans_get_last_used_operation.argtypes = [vp]
    L.proj_as_proj_string.restype = ctypes.c_char_p
    L.proj_as_proj_string.argtypes = [vp, ctypes.c_int, vp]
    L.proj_destroy.argtypes = [vp]
    L.proj_create.restype = vp
    L.proj_create.argtypes = [vp, ctypes.c_char_p]
    L.proj_crs_get_geodetic_crs.restype = vp
    L.proj_crs_get_geodetic_crs.argtypes = [vp, vp]
    L.proj_get_id_code.restype = ctypes.c_char_p
    L.proj_get_id_code.argtypes = [vp, ctypes.c_int]
    L.proj_log_level(None, 0)

    class Info(ctypes.Structure):
        _fields_ = [('major', ctypes.c_int), ('minor', ctypes.c_int), ('patch', ctypes.c_int), ('release', ctypes.c_char_p)]

    L.proj_info.restype = Info
    info = L.proj_info()
    L.version = f'{info.major}.{info.minor}.{info.patch}'
    L.Coord = Coord
    return L


def base_geographic(wkt):
    """EPSG code of the GEOGCS a WKT1 PROJCS is built on (its own AUTHORITY), or None."""
    i = wkt.find('GEOGCS[')
    if i < 0:
        return None
    depth = 0
    for j in range(i + 6, len(wkt)):
        if wkt[j] == '[':
            depth += 1
        elif wkt[j] == ']':
            depth -= 1
            if depth == 0:
                break
    m = re.search(r'AUTHORITY\["EPSG","(\d+)"\]\]$', wkt[i:j + 1])
    return int(m.group(1)) if m else None


ARCSEC = 4.84813681109536e-06


def helmert(step):
    """A PROJ helmert/molobadekas step as position-vector towgs84 values (source -> target)."""
    p = dict(re.findall(r'\+(\w+)=(\S+)', step))
    if any(k in p for k in ('dx', 'dy', 'dz', 'drx', 'dry', 'drz', 'ds', 't_epoch')):
        return None  # time-dependent
    v = [float(p.get(k, 0)) for k in ('x', 'y', 'z', 'rx', 'ry', 'rz', 's')]
    if p.get('convention') == 'coordinate_frame':
        v[3:6] = [-r for r in v[3:6]]
    if step.lstrip().startswith('+proj=molobadekas') or ' +proj=molobadekas' in step:
        # rotation about P instead of the origin: T' = T + P - (1 + s) R P (R linearised, as both libraries apply it)
        P = [float(p['px']), float(p['py']), float(p['pz'])]
        rx, ry, rz = (r * ARCSEC for r in v[3:6])
        k = 1 + v[6] * 1e-6
        RP = [P[0] - rz * P[1] + ry * P[2], rz * P[0] + P[1] - rx * P[2], -ry * P[0] + rx * P[1] + P[2]]
        v[0:3] = [v[i] + P[i] - k * RP[i] for i in range(3)]
    if re.search(r'(^| )\+inv( |$)', step):
        v = [-x for x in v]  # inverse to well under a centimetre for datum-shift sized parameters
    return v


def fmt(v):
    if v is None or all(abs(x) < 1e-9 for x in v):
        return ''
    return ','.join('%.10g' % (round(x, 6) + 0.0) for x in v)


def main():
    L = proj_without_grids()
    ops = {}

    def pick(base, lon, lat):
        """PROJ's shift base -> WGS 84 at lon/lat: towgs84 list, None (no shift) or 'other'."""
        if base not in ops:
            P = L.proj_create_crs_to_crs(None, f'EPSG:{base}'.encode(), b'EPSG:4326', None)
            ops[base] = L.proj_normalize_for_visualization(None, P) if P else None
            if P:
                L.proj_destroy(P)
        Q = ops[base]
        if not Q:
            return 'other'
        c = L.Coord()
        c.v[0], c.v[1] = lon, lat
        L.proj_trans(Q, 1, c)
        op = L.proj_trans_get_last_used_operation(Q)
        if not op:
            return 'other'
        text = (L.proj_as_proj_string(None, op, 0, None) or b'').decode()
        L.proj_destroy(op)
        steps = text.split(' +step ')
        if not text or any(re.search(r'\+proj=(hgridshift|vgridshift|xyzgridshift|deformation|tinshift|molodensky|affine)\b', s) for s in steps):
            return 'other'
        vs = [helmert(s) for s in steps if re.search(r'\+proj=(helmert|molobadekas)\b', s)]
        if any(v is None for v in vs):
            return 'other'
        return fmt([sum(x) for x in zip(*vs)]) if vs else ''

    def registry_shift(p4):
        """The shift tilecast applies from the registry string alone (grids dropped)."""
        if re.search(r'\+datum=(WGS84|NAD83)\b', p4):
            return ''
        if '+datum=' in p4:
            return None  # proj4js's own datum table: always overridden
        m = re.search(r'\+towgs84=(\S+)', p4)
        if not m:
            return ''
        v = [float(x) for x in m.group(1).split(',')] + [0] * 4
        if all(x == 0 for x in v) and re.search(r'\+ellps=(GRS80|WGS84)\b', p4):
            return ''
        return fmt(v[:7]) if any(x != 0 for x in v) else 'zero'

    def base_from_proj(code):
        """The geodetic CRS PROJ's database gives a CRS (for registry entries without WKT)."""
        crs = L.proj_create(None, f'EPSG:{code}'.encode())
        if not crs:
            return None
        geod = L.proj_crs_get_geodetic_crs(None, crs)
        L.proj_destroy(crs)
        if not geod:
            return None
        base = L.proj_get_id_code(geod, 0)
        L.proj_destroy(geod)
        return int(base) if base else None

    by_base = collections.defaultdict(list)
    for f in sorted(glob.glob(os.path.join(REGISTRY, '*.json')), key=lambda f: int(os.path.basename(f)[:-5])):
        d = json.load(open(f))
        if d['kind'] not in ('CRS-GEOGCRS', 'CRS-PROJCRS') or not d.get('proj4'):
            continue
        code = int(d['code'])
        base = code if d['kind'] == 'CRS-GEOGCRS' else base_geographic(d.get('wkt') or '')
        by_code_only = base is None  # tilecast cannot find the base without the WKT: list the code itself
        if by_code_only:
            base = base_from_proj(code)
        if base is None:
            continue
        n, w, s, e = d['bbox']
        if e < w:
            e += 360
        lon = (w + e) / 2
        lon = lon - 360 if lon > 180 else lon
        want = pick(base, lon, (n + s) / 2)
        if want == 'other':
            continue
        by_base[base].append((code, want, registry_shift(d['proj4']), by_code_only))

    datum, code_shifts = {}, {}
    for base, rows in by_base.items():
        for code, want, have, by_code_only in rows:
            if by_code_only and want != have:
                code_shifts[code] = want
        rows = [r for r in rows if not r[3]]
        if all(want == have for _, want, have, _ in rows):
            continue
        mode = collections.Counter(want for _, want, _, _ in rows).most_common(1)[0][0]
        datum[base] = mode
        for code, want, _, _ in rows:
            if want != mode:
                code_shifts[code] = want

    def table(name, doc, entries):
        out = [f'/** {doc} */', f'export const {name}: Readonly<Record<number, string>> = {{']
        out += [f"  {k}: '{v}'," for k, v in sorted(entries.items())]
        out.append('};')
        return '\n'.join(out)

    print('/**')
    print(f' * Generated by scripts/crs/datum-shifts.py from PROJ {L.version} without grid files; do not edit.')
    print(' * Values are proj4 +towgs84 parameters (position vector, metres, arc-seconds, ppm) from a CRS to')
    print(" * WGS 84; '' means PROJ applies no shift (null or ballpark transformation).")
    print(' */')
    print()
    print(table('DATUM_SHIFTS', 'By EPSG code of the base geographic CRS: the shift PROJ uses for most CRSs on that base.', datum))
    print()
    print(table('CODE_SHIFTS', 'By EPSG code of a CRS whose area of use makes PROJ pick another shift than its base\'s.', code_shifts))


if __name__ == '__main__':
    main()
