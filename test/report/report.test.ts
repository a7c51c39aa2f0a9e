/**
 * The run report: self-contained (every image a data: URL, nothing else referenced), every text
 * escaped, images that decode to the quicklooks' sizes and colours; then rendered by headless
 * Chromium: the page loads with no error (a Content-Security-Policy violation counts as one),
 * every image decodes with its natural size, and a screenshot is a non-empty PNG.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { decode } from 'fast-png';
import { TilecastError } from '../../src/errors.js';
import { buildReport, writeReport } from '../../src/report/report.js';
import { quicklookSize } from '../../src/report/quicklook.js';
import { defaultPalette } from '../../src/write/palette.js';
import { tempDir } from '../write/fixtures.js';
import { dumpDom, needChromium, probePage, screenshot } from './chromium.js';
import { SCENE, buildScene } from './scene.js';

/** Every attribute value that could make the browser fetch something. */
function references(html: string): string[] {
  return [...html.matchAll(/\b(?:src|href|action|data|poster|srcset)\s*=\s*"([^"]*)"/gi)].map((m) => m[1]!);
}

function dataUrlImages(html: string): { width: number; height: number; data: Uint8Array }[] {
  return [...html.matchAll(/<img src="data:image\/png;base64,([^"]+)"/g)].map((m) => {
    const png = decode(Buffer.from(m[1]!, 'base64'));
    return { width: png.width, height: png.height, data: png.data as Uint8Array };
  });
}

test('the report page is self-contained, escapes every text, and its images are the quicklooks', async (t) => {
  const dir = tempDir('report-html');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const { data, classes } = await buildScene(dir, 11);
  const html = buildReport(data);

  // nothing referenced but inline images, no script, a policy that forbids loading anything else
  const refs = references(html);
  assert.equal(refs.length, 2);
  for (const r of refs) assert.ok(r.startsWith('data:image/png;base64,'), r.slice(0, 40));
  const text = html.replace(/data:image\/png;base64,[A-Za-z0-9+/=]+/g, 'DATA');
  const outside = /https?:|\/\/[a-z]|<script|@import|url\(/i.exec(text);
  assert.equal(outside, null, `a reference outside the page: ${outside?.[0]}`);
  assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">/);

  // escaped text
  assert.match(html, /<title>tilecast run &lt;test&gt; &amp; &quot;quotes&quot;<\/title>/);
  assert.match(html, /forest &lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  assert.match(html, /&lt;check --norm&gt;/);
  assert.match(html, /<td>class 2<\/td>/, 'an empty class name shows as its index');
  assert.match(html, /crop &amp; grass/);

  // images: the class quicklook in the palette, sampled at pixel centres; the input quicklook
  const [cls, input] = dataUrlImages(html);
  const size = quicklookSize(SCENE.width, SCENE.height, SCENE.maxSide);
  assert.deepEqual([cls!.width, cls!.height], [size.width, size.height]);
  assert.deepEqual([input!.width, input!.height], [size.width, size.height]);
  const palette = defaultPalette(SCENE.classes);
  let transparent = 0;
  for (let qy = 0; qy < size.height; qy++) {
    for (let qx = 0; qx < size.width; qx++) {
      const sx = Math.min(SCENE.width - 1, Math.floor(((qx + 0.5) * SCENE.width) / size.width));
      const sy = Math.min(SCENE.height - 1, Math.floor(((qy + 0.5) * SCENE.height) / size.height));
      const c = classes[sy * SCENE.width + sx]!;
      const px = Array.from(cls!.data.subarray((qy * size.width + qx) * 4, (qy * size.width + qx) * 4 + 4));
      if (c === 255) {
        assert.equal(px[3], 0, `quicklook (${qx}, ${qy}) outside the region is transparent`);
        transparent++;
      } else {
        assert.deepEqual(px, [...palette[c]!, 255], `quicklook (${qx}, ${qy}) has the colour of class ${c}`);
      }
    }
  }
  assert.ok(transparent > 0 && transparent < size.width * size.height);

  // the table lists the classes with their pixel counts and hectares (10 m pixels: 0.01 ha)
  for (let k = 0; k < SCENE.classes; k++) {
    const n = classes.filter((c) => c === k).length;
    const ha = (n * 0.01).toLocaleString('en-US', { maximumFractionDigits: 2 });
    assert.match(html, new RegExp(`<td><span class="num">${k}</span></td><td>[^<]*(?:&[a-z]+;[^<]*)*</td><td><span class="num">${n.toLocaleString('en-US')}</span></td><td><span class="num">${ha}</span></td>`), `class ${k}`);
  }
  assert.match(html, new RegExp(`${data.timing.tiles} tiles in 4.20 s: <strong>${(data.timing.tiles / 4.2).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })} tiles/s</strong>`));
});

test('writeReport writes atomically and names --report when it cannot', async (t) => {
  const dir = tempDir('report-write');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const { data } = await buildScene(dir, 12);
  const file = join(dir, 'r.html');
  await writeReport(file, data);
  assert.equal(readFileSync(file, 'utf8'), buildReport(data));
  assert.deepEqual(readdirSync(dir).filter((f) => f.includes('tilecast-tmp')), []);
  const missing = join(dir, 'no-such-folder', 'r.html');
  await assert.rejects(writeReport(missing, data), (e: unknown) => e instanceof TilecastError && e.code === 'output' && /--report/.test(e.message) && e.message.includes(missing) && /does not exist/.test(e.message));
  assert.ok(!existsSync(join(dir, 'no-such-folder')));
});



test('the report renders in headless Chromium: no errors, every image decoded at its size, a screenshot', { skip: needChromium() }, async (t) => {
  const dir = tempDir('report-chromium');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const { data } = await buildScene(dir, 13);
  const file = join(dir, 'report.html');
  await writeReport(file, data);

  const probeFile = join(dir, 'probe.html');
  const probe = probePage(file, probeFile);
  const probed = readFileSync(probeFile, 'utf8');
  assert.deepEqual(probe.errors, []);
  assert.equal(probe.sections, 5);
  assert.equal(probe.title, data.title);
  const size = quicklookSize(SCENE.width, SCENE.height, SCENE.maxSide);
  assert.deepEqual(probe.images, [
    { complete: true, ...size },
    { complete: true, ...size },
  ]);

  // the probe must be able to fail: a page that references the network reports a policy violation
  const bad = probed.replace('</h1>', '</h1><img src="https://example.invalid/x.png">');
  writeFileSync(probeFile, bad);
  const badProbe = /<pre id="probe">([^<]*)<\/pre>/.exec(dumpDom(probeFile))![1]!.replace(/&quot;/g, '"');
  assert.match(JSON.parse(badProbe).errors.join('\n'), /blocked by the page policy: https:\/\/example\.invalid/);

  const png = join(dir, 'shot.png');
  screenshot(file, png, [1000, 1600]);
  const shot = decode(readFileSync(png));
  assert.deepEqual([shot.width, shot.height], [1000, 1600]);
  const colours = new Set<number>();
  const px = shot.data as Uint8Array;
  for (let i = 0; i < px.length; i += 4 * 97) colours.add((px[i]! << 16) | (px[i + 1]! << 8) | px[i + 2]!);
  assert.ok(colours.size > 20, `the screenshot shows a page, not a blank (${colours.size} colours sampled)`);
});

test('a probability report without an input view: one ramp-coloured image and its legend', () => {
  const W = 40;
  const H = 30;
  const plane = Float32Array.from({ length: W * H }, (_, i) => (i % W < 5 ? NaN : (i % W) / (W - 1)));
  const html = buildReport({
    title: 'p',
    output: { kind: 'probability', quicklook: { width: W, height: H, sourceWidth: W * 10, sourceHeight: H * 10, planes: [plane] }, band: 'p(cloud) <1>' },
    statistics: [],
    timing: { phases: [], totalSeconds: 0, tiles: 0 },
    provenance: [],
  });
  const images = dataUrlImages(html);
  assert.equal(images.length, 1);
  assert.deepEqual([images[0]!.width, images[0]!.height], [W, H]);
  assert.deepEqual(Array.from(images[0]!.data.subarray((W - 1) * 4, W * 4)), [0xfd, 0xe7, 0x25, 255], 'p = 1 is the last ramp colour');
  assert.equal(images[0]!.data[3], 0, 'NaN is transparent');
  assert.match(html, /Probability: p\(cloud\) &lt;1&gt;/);
  assert.match(html, /<span>0<\/span><span>1<\/span>/);
  assert.doesNotMatch(html, /id="input"/);
});
