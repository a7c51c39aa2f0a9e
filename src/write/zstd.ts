/**
 * The zstd encoder: the WebAssembly build of the reference library from the optional package
 * @bokuweb/zstd-wasm (no native build, nothing downloaded at install).
 */
import { UnsupportedError } from '../errors.js';

/** Package providing the zstd encoder. */
export const ZSTD_PACKAGE = '@bokuweb/zstd-wasm';

export interface ZstdModule {
  init(): Promise<void>;
  compress(data: Uint8Array, level: number): Uint8Array;
  decompress(data: Uint8Array): Uint8Array;
}

function missing(cause: unknown): UnsupportedError {
  return new UnsupportedError(
    `compression 'zstd' needs the package ${ZSTD_PACKAGE}, which is not installed: run npm install ${ZSTD_PACKAGE}, or use compression 'deflate'`,
    { cause },
  );
}

/** Import the package (not yet initialised); throws UnsupportedError when it is not installed. */
export async function importZstd(): Promise<ZstdModule> {
  const name = ZSTD_PACKAGE;
  try {
    const imported = (await import(name)) as Partial<ZstdModule> & { default?: Partial<ZstdModule> };
    return (typeof imported.compress === 'function' ? imported : imported.default) as ZstdModule;
  } catch (cause) {
    throw missing(cause);
  }
}

let ready: Promise<ZstdModule> | null = null;

/** The initialised module, loaded once per thread. */
export function loadZstd(): Promise<ZstdModule> {
  ready ??= importZstd().then(async (m) => {
    await m.init();
    return m;
  });
  ready.catch(() => {
    ready = null;
  });
  return ready;
}
