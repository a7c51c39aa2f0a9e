/**
 * GDAL's PAM sidecar (`<file>.aux.xml`): where GDAL keeps what a GeoTIFF has no tag for. The
 * writer uses it for band 1's category names (class names of a class map), as GDAL itself
 * writes them, and for band 1's colour table with exactly as many entries as there are classes:
 * the TIFF ColorMap always has 256, and GDAL prefers the sidecar's table when there is one, so
 * QGIS's default legend then lists the classes only, named, instead of 256 entries.
 * GDAL (with PAM enabled, its default) and QGIS read both from there.
 * The sidecar sits beside the path the file is opened by, which is where GDAL looks for it.
 */
import { randomBytes } from 'node:crypto';
import { rename, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Rgb } from './palette.js';
import { forgetTempFile, registerTempFile } from './temp-files.js';

function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** PAM XML with band 1's colour table and category names; null when there are neither. */
export function pamXml(categoryNames: readonly string[], colorTable: readonly Rgb[] | null): string | null {
  const parts: string[] = [];
  if (colorTable !== null && colorTable.length > 0) {
    const entries = colorTable.map((c) => `      <Entry c1="${c[0]}" c2="${c[1]}" c3="${c[2]}" c4="255" />`);
    parts.push(`    <ColorTable>\n${entries.join('\n')}\n    </ColorTable>`);
  }
  if (categoryNames.length > 0) {
    const items = categoryNames.map((n) => (n === '' ? '      <Category />' : `      <Category>${xmlEscape(n)}</Category>`));
    parts.push(`    <CategoryNames>\n${items.join('\n')}\n    </CategoryNames>`);
  }
  if (parts.length === 0) return null;
  return `<PAMDataset>\n  <PAMRasterBand band="1">\n${parts.join('\n')}\n  </PAMRasterBand>\n</PAMDataset>\n`;
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
  private written = false;

  constructor(
    target: string,
    private readonly xml: string | null,
  ) {
    this.path = sidecarPath(target);
    this.tempPath = join(dirname(this.path), `.${basename(this.path)}.tilecast-tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  }

  /** Write the temporary file (nothing when there is no XML). */
  async write(): Promise<void> {
    if (this.xml === null) return;
    registerTempFile(this.tempPath);
    await writeFile(this.tempPath, this.xml, { flag: 'wx' });
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
