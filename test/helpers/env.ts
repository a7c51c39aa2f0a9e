/**
 * Where the tests find external things: the GeoTIFF corpus beside the checkout and GDAL.
 * On a developer machine a missing corpus or GDAL skips the tests that need it, with the reason;
 * under CI (CI=true) or with TILECAST_REQUIRE_ORACLE=1 it is a failure instead.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** True when missing oracles must fail the run instead of skipping. */
export const REQUIRE_ORACLE = process.env.CI === 'true' || process.env.TILECAST_REQUIRE_ORACLE === '1';

/** The corpus folder: $TILECAST_CORPUS, else ../shared/corpus beside the checkout. */
export const CORPUS_DIR = process.env.TILECAST_CORPUS ?? join(ROOT, '..', 'shared', 'corpus');

function has(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const corpusOk = existsSync(join(CORPUS_DIR, 'MANIFEST.json'));

/**
 * A Python that has GDAL's bindings: $TILECAST_GDAL_PYTHON, else Debian's (python3-gdal installs
 * into the system Python, which a pyenv or venv python3 on PATH does not see), else python3.
 */
export const GDAL_PYTHON =
  [process.env.TILECAST_GDAL_PYTHON, '/usr/bin/python3', 'python3'].find(
    (py) => py !== undefined && has(py, ['-c', 'from osgeo import gdal']),
  ) ?? 'python3';

const gdalOk = has('gdalinfo', ['--version']) && has(GDAL_PYTHON, ['-c', 'from osgeo import gdal']);

/**
 * `skip` option for node:test: false when the corpus is there; a reason string otherwise.
 * Throws under CI so that a missing corpus is a failure, not a silent skip.
 */
export function needCorpus(): false | string {
  if (corpusOk) return false;
  const reason = `corpus not found at ${CORPUS_DIR} (set TILECAST_CORPUS)`;
  if (REQUIRE_ORACLE) throw new Error(`${reason}; required under CI`);
  return reason;
}

/** `skip` option for tests that need gdalinfo/gdal_translate and python3-gdal. */
export function needGdal(): false | string {
  if (gdalOk) return false;
  const reason = 'GDAL not found (apt-get install gdal-bin python3-gdal)';
  if (REQUIRE_ORACLE) throw new Error(`${reason}; required under CI`);
  return reason;
}

export const REPO_ROOT = ROOT;
