/** `tilecast convert IN OUT [...]`: re-encode a GeoTIFF, streaming block rows. */
import { UsageError } from '../errors.js';
import { convert, type ConvertOptions } from '../write/convert.js';
import { parseFlags, toJson, type Command } from './run.js';

const USAGE = `usage: tilecast convert IN.tif OUT.tif [options]

  --compress C       deflate (default) | zstd | lzw | none
  --level N          deflate 1-9 (default 6), zstd 1-22 (default 9)
  --block N          block size, a multiple of 16 (default 256)
  --predictor P      auto (default: 2 for integers, 3 for floats) | none | 2 | 3
  --bigtiff B        auto (default) | yes | no
  --cog              write a Cloud Optimized GeoTIFF with internal overviews
  --resampling R     overview resampling for --cog: average (default) | nearest (class maps)
  --json             print a JSON summary`;

function oneOf<T extends string>(v: string | undefined, flag: string, allowed: readonly T[]): T | undefined {
  if (v === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(v)) throw new UsageError(`${flag} must be one of ${allowed.join(', ')}, got '${v}'`);
  return v as T;
}

function int(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new UsageError(`${flag} expects an integer, got '${v}'`);
  return n;
}

export const convertCommand: Command = {
  name: 'convert',
  summary: 're-encode a GeoTIFF (codec, blocks, predictor, BigTIFF, COG), keeping its georeferencing',
  usage: USAGE,
  abortable: true,
  async run(argv, signal) {
    const { values: v, positionals } = parseFlags('convert', argv, {
      compress: { type: 'string' },
      level: { type: 'string' },
      block: { type: 'string' },
      predictor: { type: 'string' },
      bigtiff: { type: 'string' },
      cog: { type: 'boolean' },
      resampling: { type: 'string' },
      json: { type: 'boolean' },
    });
    if (positionals.length !== 2) throw new UsageError(`convert: expected IN and OUT, got ${positionals.length} file(s); ${USAGE.split('\n')[0]}`);
    const predictor = oneOf(v.predictor, '--predictor', ['auto', 'none', '2', '3'] as const);
    const options: ConvertOptions = { signal };
    const compression = oneOf(v.compress, '--compress', ['deflate', 'zstd', 'lzw', 'none'] as const);
    if (compression) options.compression = compression;
    const level = int(v.level, '--level');
    if (level !== undefined) options.level = level;
    const block = int(v.block, '--block');
    if (block !== undefined) options.blockSize = block;
    if (predictor) options.predictor = predictor === '2' ? 2 : predictor === '3' ? 3 : predictor;
    const bigTiff = oneOf(v.bigtiff, '--bigtiff', ['auto', 'yes', 'no'] as const);
    if (bigTiff) options.bigTiff = bigTiff;
    if (v.cog) options.cog = true;
    const resampling = oneOf(v.resampling, '--resampling', ['average', 'nearest'] as const);
    if (resampling) options.overviewResampling = resampling;
    const s = await convert(positionals[0]!, positionals[1]!, options);
    process.stdout.write(v.json ? `${toJson(s)}\n` : `wrote ${s.output}: ${s.width} x ${s.height}, ${s.bands} band(s) of ${s.dataType} in ${s.seconds.toFixed(2)} s\n`);
    return 0;
  },
};
