/**
 * Headless Chromium as the test oracle of the HTML report: load a page from a file, let a probe
 * script record what the browser saw, dump the DOM; or take a screenshot. On a developer machine
 * a missing Chromium skips the tests that need it; under CI it is a failure.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

const PROBE = String.raw`<pre id="probe">pending</pre>
<script>
const errors = [];
addEventListener('error', (e) => errors.push(e.message || ('failed to load ' + (e.target && (e.target.src || e.target.href)))), true);
document.addEventListener('securitypolicyviolation', (e) => errors.push('blocked by the page policy: ' + e.blockedURI + ' (' + e.violatedDirective + ')'));
addEventListener('load', () => {
  const images = [...document.images].map((i) => ({ complete: i.complete, width: i.naturalWidth, height: i.naturalHeight }));
  document.getElementById('probe').textContent = JSON.stringify({ images, errors, sections: document.querySelectorAll('section').length, title: document.title });
});
</script>
</body>`;

export interface Probe {
  images: { complete: boolean; width: number; height: number }[];
  errors: string[];
  sections: number;
  title: string;
}

/**
 * Load a copy of the page at `file` (written to `probeFile`) with a probe script added (the page
 * itself has none; the copy's policy allows inline scripts only): what loaded, the natural size of
 * every image, and every error or policy violation.
 */
export function probePage(file: string, probeFile: string): Probe {
  const html = readFileSync(file, 'utf8');
  const probed = html.replace("style-src 'unsafe-inline'", "style-src 'unsafe-inline'; script-src 'unsafe-inline'").replace('</body>', PROBE);
  if (probed === html) throw new Error(`${file}: no policy or </body> to add the probe to`);
  writeFileSync(probeFile, probed);
  const dom = dumpDom(probeFile);
  const m = /<pre id="probe">([^<]*)<\/pre>/.exec(dom);
  if (m === null) throw new Error(`no probe in the DOM dump: ${dom.slice(0, 500)}`);
  if (m[1] === 'pending') throw new Error('the load handler did not run');
  return JSON.parse(m[1]!.replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&')) as Probe;
}
