/**
 * Start a worker thread on a module beside the caller: `NAME.js` when running compiled JS,
 * `NAME.ts` when running TypeScript source under tsx (tests, `npm run tilecast`), with tsx's
 * loader registered inside the worker (hooks registered in the main thread do not reach workers
 * on every Node version). Both go through a one-line eval entry that imports the file: the worker
 * inherits the parent's Node options untouched, and entry-only options such as `--input-type` do
 * not apply to it.
 */
import { Worker } from 'node:worker_threads';
import {
  AbortedError, GridMismatchError, InputError, ModelError, OutputError, RegionError, TilecastError, UnsupportedError, UsageError,
  type TilecastErrorCode,
} from './errors.js';

/** @param from the caller's `import.meta.url`; @param name the worker module's name without extension */
export function spawnWorker(from: string, name: string, workerData: unknown): Worker {
  const fromSource = from.endsWith('.ts');
  const file = JSON.stringify(new URL(`./${name}.${fromSource ? 'ts' : 'js'}`, from).href);
  const code = fromSource
    ? `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((m) => { m.register(); return import(${file}); });`
    : `import(${file});`;
  return new Worker(code, { eval: true, workerData });
}

/** A TilecastError (or any error) as a plain value that can cross a thread boundary. */
export interface ErrorData {
  name: string;
  code?: TilecastErrorCode;
  message: string;
  file?: string;
}

export function errorToData(e: unknown): ErrorData {
  if (e instanceof TilecastError) return { name: e.name, code: e.code, message: e.message, ...(e.file === undefined ? {} : { file: e.file }) };
  if (e instanceof Error) return { name: e.name, message: e.message };
  return { name: 'Error', message: String(e) };
}

const BY_CODE: Record<TilecastErrorCode, new (message: string, options?: { file?: string }) => TilecastError> = {

  input: InputError, unsupported: UnsupportedError, grid: GridMismatchError, model: ModelError,
  region: RegionError, output: OutputError, usage: UsageError, aborted: AbortedError as new (message: string) => TilecastError,
};

/** The error an ErrorData describes, of the same TilecastError class when it was one. */
export function errorFromData(d: ErrorData): Error {
  if (d.code !== undefined) return new BY_CODE[d.code](d.message, d.file === undefined ? undefined : { file: d.file });
  const e = new Error(d.message);
  e.name = d.name;
  return e;
}
