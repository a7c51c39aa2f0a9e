/**
 * Temporary files this process is writing. A writer registers its temporary file when it creates
 * it and forgets it once the file is renamed or deleted; whatever is still registered when the
 * process exits (a signal handled by the CLI, an uncaught error, `process.exit`) is deleted
 * synchronously in the 'exit' handler, so no run leaves a hidden partial file behind.
 */
import { closeSync, openSync, unlinkSync } from 'node:fs';

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

/**
 * Create `path` (empty) and register it in one synchronous step, then open it without O_CREAT
 * ('r+'). A signal handler never runs inside that step, so it can never find the file created but
 * not yet registered, nor being created by an asynchronous open still in flight on the thread
 * pool, which would create it after the handler removed what it knew of and exited.
 * `replace`: truncate a file already there (a fixed name that is this run's own) instead of failing;
 * `keep`: create it but leave it when the process exits (a partial file kept for --resume).
 */
export function createTempFile(path: string, options: { replace?: boolean; keep?: boolean } = {}): void {
  closeSync(openSync(path, options.replace ? 'w' : 'wx'));
  if (!options.keep) registerTempFile(path);
}

export function forgetTempFile(path: string): void {
  live.delete(path);
}
