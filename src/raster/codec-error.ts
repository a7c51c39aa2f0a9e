/**
 * A block's compressed bytes cannot be decoded. Thrown by the decoders; the raster source turns it
 * into an InputError (or an UnsupportedError) that names the file and the block.
 */
export class CodecError extends Error {
  /** True when the data is valid but uses a variant tilecast does not decode. */
  readonly unsupported: boolean;
  /** What the user can do, when it is not the default advice. */
  readonly fix: string | undefined;

  constructor(message: string, options?: { unsupported?: boolean; fix?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CodecError';
    this.unsupported = options?.unsupported ?? false;
    this.fix = options?.fix;
  }
}

/** A text for whatever a third-party decoder threw (some throw strings, numbers or undefined). */
export function describeThrown(err: unknown, fallback: string): string {
  const text = err instanceof Error ? err.message : typeof err === 'string' ? err : '';
  const line = text.split('\n')[0]!.trim();
  if (line === '' || line === 'undefined' || line.length > 200) return fallback;
  return line;
}
