/** tilecast's version, from its package.json (found from this module's place in src/ or dist/src/). */
import { readFileSync } from 'node:fs';

function find(): string {
  for (const up of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'tilecast' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // not there: try the next place
    }
  }
  return 'unknown';
}

export const VERSION = find();
