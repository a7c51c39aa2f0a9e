/**
 * The CLI's one place for errors and exit codes: 0 ok, 1 runtime error, 2 usage error,
 * 128 + n after signal n (130 SIGINT, 143 SIGTERM, 129 SIGHUP). One line per error, with the stack only under --verbose.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { TilecastError, UsageError } from '../errors.js';
import { VERSION } from '../version.js';
import { handleSignals } from './signals.js';

export interface Command {
  name: string;
  summary: string;
  usage: string;
  /** Whether the command stops cleanly through `signal` (it writes files); otherwise a signal exits at once. */
  abortable: boolean;
  run(argv: string[], signal: AbortSignal): Promise<number>;
}

/** parseArgs with strict options; unknown flags become a UsageError naming the command. */
export function parseFlags<T extends NonNullable<ParseArgsConfig['options']>>(cmd: string, argv: string[], options: T, allowPositionals = true) {
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true });
  } catch (err) {
    const first = (err as Error).message.split('\n')[0]!.trim();
    throw new UsageError(`${cmd}: ${first}; see tilecast ${cmd} --help`);
  }
}

/** JSON with NaN and ±Infinity written as strings, as GDAL writes them ("nan"). */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? (Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf') : v), 2);
}

export async function runCli(commands: Command[], argv: string[]): Promise<number> {
  const verbose = argv.includes('--verbose');
  const args = argv.filter((a) => a !== '--verbose');
  const name = args[0];
  const help = () => {
    process.stdout.write(`tilecast: large-area prediction with an ONNX model over GeoTIFF rasters\n\nusage: tilecast <command> [options]\n\ncommands:\n${commands.map((c) => `  ${c.name.padEnd(10)} ${c.summary}`).join('\n')}\n\nRun 'tilecast <command> --help' for a command's options.\n`);
  };
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    help();
    return name === undefined ? 2 : 0;
  }
  if (name === '--version') {
    process.stdout.write(`tilecast ${VERSION}\n`);
    return 0;
  }
  const cmd = commands.find((c) => c.name === name);
  const signals = handleSignals(cmd?.abortable ?? false, (line) => process.stderr.write(`${line}\n`));
  try {
    if (!cmd) throw new UsageError(`unknown command '${name}'; commands: ${commands.map((c) => c.name).join(', ')}`);
    if (args.includes('--help') || args.includes('-h')) {
      process.stdout.write(cmd.usage.endsWith('\n') ? cmd.usage : `${cmd.usage}\n`);
      return 0;
    }
    return await cmd.run(args.slice(1), signals.signal);
  } catch (err) {
    const stopped = signals.exitCode();
    if (stopped !== null) {
      process.stderr.write(`tilecast: stopped (exit ${stopped}); an existing output is left as it was\n`);
      return stopped;
    }
    if (err instanceof TilecastError) {
      process.stderr.write(`tilecast: error: ${err.message}\n`);
      if (verbose && err.stack) process.stderr.write(`${err.stack}\n`);
      return err.code === 'usage' ? 2 : err.code === 'aborted' ? 130 : 1;
    }
    process.stderr.write(`tilecast: internal error: ${(err as Error)?.message ?? String(err)}\n`);
    if (verbose && (err as Error)?.stack) process.stderr.write(`${(err as Error).stack}\n`);
    else process.stderr.write('run again with --verbose for the stack trace\n');
    return 1;
  } finally {
    signals.dispose();
  }
}
