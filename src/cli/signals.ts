/**
 * SIGINT, SIGTERM and SIGHUP (Ctrl-C, `timeout`, `docker stop`, Slurm, Kubernetes) are handled
 * the same way by every command: the first aborts the command's AbortSignal, so it stops, removes
 * its temporary files and leaves an existing output untouched, and the CLI exits with 128 + the
 * signal number (130, 143, 129). A second signal while that cleanup runs deletes the temporary
 * files synchronously and exits at once. A command that writes nothing exits at the first signal.
 */
import { removeTempFiles } from '../write/temp-files.js';

const EXIT_CODES = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;
type Handled = keyof typeof EXIT_CODES;

export interface SignalScope {
  /** Aborted at the first signal. */
  readonly signal: AbortSignal;
  /** The exit code of the first signal received, or null. */
  exitCode(): number | null;
  /** Remove the handlers. */
  dispose(): void;
}

/**
 * Install the handlers for one command. `abortable`: the command stops cleanly on its signal
 * (otherwise the process exits at the first signal).
 */
export function handleSignals(abortable: boolean, write: (line: string) => void): SignalScope {
  const controller = new AbortController();
  let first: Handled | null = null;
  const handlers = new Map<Handled, () => void>();
  for (const name of Object.keys(EXIT_CODES) as Handled[]) {
    const handler = () => {
      if (first === null) {
        first = name;
        if (!abortable) {
          removeTempFiles();
          process.exit(EXIT_CODES[name]);
        }
        write(`tilecast: ${name} received: stopping, removing temporary files (send it again to stop at once)`);
        controller.abort(new Error(name));
        return;
      }
      write(`tilecast: ${name} received again: removing temporary files and exiting now`);
      removeTempFiles();
      process.exit(EXIT_CODES[first]);
    };
    handlers.set(name, handler);
    process.on(name, handler);
  }
  return {
    signal: controller.signal,
    exitCode: () => (first === null ? null : EXIT_CODES[first]),
    dispose: () => {
      for (const [name, handler] of handlers) process.off(name, handler);
    },
  };
}
