/**
 * Headless Chromium as the test oracle of the HTML report: load a page from a file, let a probe
 * script record what the browser saw, dump the DOM; or take a screenshot. On a developer machine
 * a missing Chromium skips the tests that need it; under CI it is a failure.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REQUIRE_ORACLE } from '../helpers/env.js';

function works(cmd: string): boolean {
  try {
    execFileSync(cmd, ['--version'], { stdio: 'ignore', timeout: 30_000 });
    return true;
  } catch {
    return false;
  }
}

/** $TILECAST_CHROMIUM, else Debian's `chromium`, else `chromium-browser` or `google-chrome` on PATH. */
export const CHROMIUM = [process.env.TILECAST_CHROMIUM, 'chromium', 'chromium-browser', 'google-chrome'].find((c) => c !== undefined && c !== '' && works(c)) ?? null;

/** `skip` option for tests that need Chromium; throws under CI so that a missing browser fails. */
export function needChromium(): false | string {
  if (CHROMIUM !== null) return false;
  const reason = 'Chromium not found (apt-get install chromium, or set TILECAST_CHROMIUM)';
  if (REQUIRE_ORACLE) throw new Error(`${reason}; required under CI`);
  return reason;
}

/** Flags that run headless Chromium here without a sandbox, GPU, network chatter or a profile of its own. */
function flags(profile: string): string[] {
  return [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    `--user-data-dir=${profile}`,
  ];
}

function run(args: string[]): string {
  const profile = mkdtempSync(join(tmpdir(), 'tilecast-chromium-'));
  try {
    return execFileSync(CHROMIUM!, [...flags(profile), ...args], { encoding: 'utf8', timeout: 120_000, maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'pipe'] });
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

/** The DOM of the page at `file` after it loaded (and its scripts ran), as HTML. */
export function dumpDom(file: string): string {
  return run(['--virtual-time-budget=10000', '--dump-dom', pathToFileURL(file).href]);
}

/** Render the page at `file` to a PNG screenshot at `png`. */
export function screenshot(file: string, png: string, size: [number, number] = [1200, 2400]): void {
  run([`--screenshot=${png}`, `--window-size=${size[0]},${size[1]}`, '--hide-scrollbars', pathToFileURL(file).href]);
}
