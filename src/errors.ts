/**
 * Errors a user can act on. Every message names the file or flag at fault,
 * states what was expected and what was found, and says what to do.
 */

export type TilecastErrorCode =
  | 'input'
  | 'unsupported'
  | 'grid'
  | 'model'
  | 'region'
  | 'output'
  | 'usage'
  | 'aborted';

export class TilecastError extends Error {
  readonly code: TilecastErrorCode;
  /** The file the error is about, when there is one. */
  readonly file: string | undefined;

  constructor(code: TilecastErrorCode, message: string, options?: { file?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.file = options?.file;
  }
}

/** An input file is missing, unreadable, not a TIFF, or damaged. */
export class InputError extends TilecastError {
  constructor(message: string, options?: { file?: string; cause?: unknown }) {
    super('input', message, options);
  }
}

/** A valid file uses a feature tilecast does not handle (codec, sample type, CRS definition). */
export class UnsupportedError extends TilecastError {
  constructor(message: string, options?: { file?: string; cause?: unknown }) {
    super('unsupported', message, options);
  }
}

/** Inputs that should share one pixel grid do not. */
export class GridMismatchError extends TilecastError {
  constructor(message: string, options?: { file?: string; cause?: unknown }) {
    super('grid', message, options);
  }
}

/** The model does not match the inputs or options. */
export class ModelError extends TilecastError {
  constructor(message: string, options?: { file?: string; cause?: unknown }) {
    super('model', message, options);
  }
}

/** The region is invalid or does not overlap the inputs. */
export class RegionError extends TilecastError {
  constructor(message: string, options?: { file?: string; cause?: unknown }) {
    super('region', message, options);
  }
}

/** The output cannot be written. */
export class OutputError extends TilecastError {
  constructor(message: string, options?: { file?: string; cause?: unknown }) {
    super('output', message, options);
  }
}

/** A flag or option has a bad value. */
export class UsageError extends TilecastError {
  constructor(message: string, options?: { file?: string; cause?: unknown }) {
    super('usage', message, options);
  }
}

/** The work was cancelled through an AbortSignal. */
export class AbortedError extends TilecastError {
  constructor(message = 'aborted', options?: { cause?: unknown }) {
    super('aborted', message, options);
  }
}

