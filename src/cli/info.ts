/** `tilecast info FILE [--json] [--checksum]` */
import { rasterInfo, type RasterInfo } from '../raster/info.js';
import { UsageError } from '../errors.js';
import { registerCrsDefinition } from '../raster/crs.js';
import { parseFlags, toJson, type Command } from './run.js';

export const infoCommand: Command = {
  name: 'info',
  summary: 'describe a GeoTIFF: size, bands, type, blocks, compression, CRS, bounds, nodata',
  usage: `usage: tilecast info FILE [--json] [--checksum] [--crs-def EPSG:N=DEF ...]

  --json       machine-readable output
  --checksum   GDAL's per-band checksum (as gdalinfo -checksum prints it)
  --crs-def    define an EPSG code the registry lacks: 'EPSG:N=<proj4 string>' (repeatable)`,
  abortable: false,
  async run(argv) {
    const { values, positionals } = parseFlags('info', argv, {
      json: { type: 'boolean' },
      checksum: { type: 'boolean' },
      'crs-def': { type: 'string', multiple: true },
    });
    for (const d of values['crs-def'] ?? []) registerCrsDefinition(d, '--crs-def');
    if (positionals.length !== 1) throw new UsageError(`info: expected one FILE, got ${positionals.length}; usage: tilecast info FILE [--json] [--checksum]`);
    const info = await rasterInfo(positionals[0]!, { checksum: values.checksum ?? false });
    process.stdout.write(values.json ? `${toJson(info)}\n` : formatInfo(info));
    return 0;
  },
};

function formatInfo(i: RasterInfo): string {
  const lines = [
    `File: ${i.file}`,
    `Size: ${i.width} x ${i.height}, ${i.bands} band(s) of ${i.dataType}`,
    `Blocks: ${i.blockSize[0]} x ${i.blockSize[1]} (${i.tiled ? 'tiled' : 'stripped'}, ${i.interleave} interleaved)`,
    `Compression: ${i.compression}${i.predictor !== 1 ? `, predictor ${i.predictor}` : ''}${i.bigTiff ? ', BigTIFF' : ''}, ${i.byteOrder}-endian`,
    `CRS: ${i.epsg !== null ? `EPSG:${i.epsg}` : i.crsError ? `not usable (${i.crsError})` : i.proj4 ? 'custom' : 'none'}`,
  ];
  if (i.proj4) lines.push(`  proj4: ${i.proj4}`);
  if (i.geoTransform) {
    const g = i.geoTransform;
    lines.push(`Origin: (${g[0]}, ${g[3]})`, `Pixel size: (${g[1]}, ${g[5]})${g[2] !== 0 || g[4] !== 0 ? `, rotation (${g[2]}, ${g[4]})` : ''}`);
    lines.push(`Bounds: [${i.bounds!.join(', ')}]`);
  } else {
    lines.push('Georeferencing: none');
  }
  lines.push(`NoData: ${i.nodata === null ? 'none' : i.nodata}`);
  lines.push(`Overviews: ${i.overviews}`);
  i.bandDescriptions.forEach((d, b) => {
    const ck = i.checksums ? ` checksum=${i.checksums[b]}` : '';
    if (d || ck) lines.push(`Band ${b + 1}:${d ? ` ${d}` : ''}${ck}`);
  });
  return `${lines.join('\n')}\n`;
}
