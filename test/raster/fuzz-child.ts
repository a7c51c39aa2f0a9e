/**
 * Child process of the fuzz test: reads one file path per line on stdin, does what
 * `tilecast info --checksum` does with it (open, describe, checksum every band) and answers one
 * JSON line per file: the outcome, the error's class and message, the checksums, and the peak
 * resident memory so far. Nothing else may reach stdout or stderr.
 */
import { createInterface } from 'node:readline';
import { InputError, UnsupportedError } from '../../src/errors.js';
import { rasterInfo } from '../../src/raster/info.js';

const lines = createInterface({ input: process.stdin });
for await (const file of lines) {
  let answer: Record<string, unknown>;
  try {
    const info = await rasterInfo(file, { checksum: true });
    answer = { outcome: 'ok', checksums: info.checksums };
  } catch (err) {
    const outcome = err instanceof InputError ? 'input' : err instanceof UnsupportedError ? 'unsupported' : 'other';
    answer = { outcome, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err), stack: err instanceof Error && outcome === 'other' ? err.stack : undefined };
  }
  answer.maxRssMB = Math.round(process.resourceUsage().maxRSS / 1024);
  process.stdout.write(`${JSON.stringify(answer)}\n`);
}
