/**
 * GDAL's PAM sidecar (`<file>.aux.xml`): where GDAL keeps what a GeoTIFF has no tag for. The
 * writer uses it for metadata that describes a run rather than the pixels (so that the file's
 * bytes depend on the pixels alone), for band 1's category names (class names of a class map), as GDAL itself
 * writes them, and for band 1's colour table with exactly as many entries as there are classes:
 * the TIFF ColorMap always has 256, and GDAL prefers the sidecar's table when there is one, so
 * QGIS's default legend then lists the classes only, named, instead of 256 entries.
 * GDAL (with PAM enabled, its default) and QGIS read both from there.
 * The sidecar sits beside the path the file is opened by, which is where GDAL looks for it.
 */
import { randomBytes } from 'node:crypto';
import { readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { RasterSource } from '../raster/source.js';
import type { Rgb } from './palette.js';
import { createTempFile, forgetTempFile } from './temp-files.js';

function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/**
 * PAM XML with dataset metadata items and band 1's colour table and category names; null when
 * there is none of them.
 */
export function pamXml(categoryNames: readonly string[], colorTable: readonly Rgb[] | null, metadata: Readonly<Record<string, string>> = {}): string | null {
  const items = Object.entries(metadata).map(([k, v]) => `    <MDI key="${xmlEscape(k)}">${xmlEscape(v)}</MDI>`);
  const dataset = items.length > 0 ? `  <Metadata>\n${items.join('\n')}\n  </Metadata>\n` : '';
  const parts: string[] = [];
  if (colorTable !== null && colorTable.length > 0) {
    const entries = colorTable.map((c) => `      <Entry c1="${c[0]}" c2="${c[1]}" c3="${c[2]}" c4="255" />`);
    parts.push(`    <ColorTable>\n${entries.join('\n')}\n    </ColorTable>`);
  }
  if (categoryNames.length > 0) {
    const items = categoryNames.map((n) => (n === '' ? '      <Category />' : `      <Category>${xmlEscape(n)}</Category>`));
    parts.push(`    <CategoryNames>\n${items.join('\n')}\n    </CategoryNames>`);
  }
  if (parts.length === 0 && dataset === '') return null;
  const band = parts.length > 0 ? `  <PAMRasterBand band="1">\n${parts.join('\n')}\n  </PAMRasterBand>\n` : '';
  return `<PAMDataset>\n${dataset}${band}</PAMDataset>\n`;
}

/** The sidecar of `path`: `<path>.aux.xml`. */
export function sidecarPath(path: string): string {
  return `${resolve(path)}.aux.xml`;
}

/**
 * A sidecar written under a hidden temporary name beside its final place and renamed there by
 * place(), so no reader sees a partial one; discard() deletes the temporary file.
 */
export class Sidecar {
  readonly path: string;
  readonly tempPath: string;
  private readonly fixed: boolean;
  private written = false;

  /**
   * `tempPath`: a fixed temporary name (a resumable run's, which a later run of the same output
   * overwrites, so a process killed between write() and place() leaves nothing for good);
   * default: a fresh hidden name.
   */
  constructor(
    target: string,
    private readonly xml: string | null,
    tempPath?: string,
  ) {
    this.path = sidecarPath(target);
    this.fixed = tempPath !== undefined;
    this.tempPath = tempPath ?? join(dirname(this.path), `.${basename(this.path)}.tilecast-tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  }

  /** Write the temporary file (nothing when there is no XML). */
  async write(): Promise<void> {
    if (this.xml === null) return;
    createTempFile(this.tempPath, { replace: this.fixed });
    await writeFile(this.tempPath, this.xml, { flag: 'r+' });
    this.written = true;
  }

  /** Rename the temporary file to the sidecar; without one, delete a stale sidecar of an earlier file. */
  async place(): Promise<void> {
    if (this.written) {
      await rename(this.tempPath, this.path);
      forgetTempFile(this.tempPath);
      this.written = false;
    } else {
      // best effort: the image is already in place, and a sidecar that cannot be deleted is not ours to fix
      await unlink(this.path).catch(() => undefined);
    }
  }

  /** Delete the temporary file, if any. */
  async discard(): Promise<void> {
    if (this.xml === null) return;
    await unlink(this.tempPath).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
    forgetTempFile(this.tempPath);
    this.written = false;
  }
}

function xmlUnescape(s: string): string {
  return s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
}

/** What a sidecar `pamXml` wrote says about band 1 and the dataset (empty when there is none). */
export async function readPam(path: string): Promise<{ colorTable: Rgb[] | null; categoryNames: string[]; metadata: Record<string, string> }> {
  const xml = await readFile(sidecarPath(path), 'utf8').catch(() => '');
  const table = /<ColorTable>([\s\S]*?)<\/ColorTable>/.exec(xml);
  const colorTable = table ? [...table[1]!.matchAll(/<Entry c1="(\d+)" c2="(\d+)" c3="(\d+)"/g)].map((m) => [Number(m[1]), Number(m[2]), Number(m[3])] as Rgb) : null;
  const names = /<CategoryNames>([\s\S]*?)<\/CategoryNames>/.exec(xml);
  const categoryNames = names ? [...names[1]!.matchAll(/<Category\s*\/>|<Category>([\s\S]*?)<\/Category>/g)].map((m) => xmlUnescape(m[1] ?? '')) : [];
  const metadata: Record<string, string> = {};
  const dataset = /<PAMDataset>\s*<Metadata>([\s\S]*?)<\/Metadata>/.exec(xml);
  for (const m of dataset?.[1]!.matchAll(/<MDI key="([^"]*)">([\s\S]*?)<\/MDI>/g) ?? []) metadata[xmlUnescape(m[1]!)] = xmlUnescape(m[2]!);
  return { colorTable, categoryNames, metadata };
}

/**
 * Band 1's colour table and class names as a file carries them, to copy into a file made from it:
 * the sidecar's (exactly the classes, named), else the TIFF's own ColorMap (256 entries, unnamed).
 */
export async function classStyleOf(src: RasterSource): Promise<{ colorTable: Rgb[] | null; categoryNames: string[] }> {
  const pam = await readPam(src.path);
  return { colorTable: pam.colorTable ?? src.colorTable, categoryNames: pam.categoryNames };
}
