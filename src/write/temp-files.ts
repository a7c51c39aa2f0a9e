/**
 * Temporary files this process is writing. A writer registers its temporary file when it creates
 * it and forgets it once the file is renamed or deleted; whatever is still registered when the
 * process exits (a signal handled by the CLI, an uncaught error, `process.exit`) is deleted
 * synchronously in the 'exit' handler, so no run leaves a hidden partial file behind.
 */
import { unlinkSync } from 'node:fs';

const live = new Set<string>();
let hooked = false;

/** Delete every registered temporary file now (synchronously); returns how many were deleted. */
export function removeTempFiles(): number {
  let n = 0;
  for (const path of live) {
    try {
      unlinkSync(path);
      n++;
    } catch {
      // already gone
    }
  }
  live.clear();
  return n;
}

export function registerTempFile(path: string): void {
  if (!hooked) {
    hooked = true;
    process.on('exit', removeTempFiles);
  }
  live.add(path);
}

export function forgetTempFile(path: string): void {
  live.delete(path);
}
