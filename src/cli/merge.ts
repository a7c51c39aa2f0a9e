/** `tilecast merge PARTS... --out OUT [--cog]`: join the part files of a sharded run. */
import { UsageError } from '../errors.js';
import { merge } from '../write/merge.js';
import { commandLine } from './predict.js';
import { parseFlags, toJson, type Command } from './run.js';

const USAGE = `usage: tilecast merge PARTS... --out OUT [--cog] [--json]

Join the part files written by tilecast predict --shard I/N (NAME.part-I-of-N.tif, one per shard)
into one GeoTIFF with the same pixels, georeferencing and bytes as a single run.

  --out FILE    the merged GeoTIFF
  --cog         write a Cloud Optimized GeoTIFF with internal overviews
  --json        print a JSON summary`;

export const mergeCommand: Command = {
  name: 'merge',
  summary: 'join the part files of a sharded predict run into one GeoTIFF (or COG)',
  usage: USAGE,
  abortable: true,
  async run(argv, signal) {
    const { values: v, positionals } = parseFlags('merge', argv, { out: { type: 'string' }, cog: { type: 'boolean' }, json: { type: 'boolean' } });
    if (v.out === undefined) throw new UsageError('merge: --out is required: the merged GeoTIFF');
    if (positionals.length === 0) throw new UsageError(`merge: no part files given; ${USAGE.split('\n')[0]}`);
    const s = await merge(positionals, v.out, { cog: v.cog ?? false, signal, command: commandLine(argv, 'merge') });
    process.stdout.write(v.json ? `${toJson(s)}\n` : `wrote ${s.output}: ${s.blocks} blocks from ${s.parts} parts in ${s.seconds.toFixed(2)} s\n`);
    return 0;
  },
};
