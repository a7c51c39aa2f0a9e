/** Shared fixtures for the infer tests: models written to a temp dir, seeded inputs. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gaussian, prng } from '../../scripts/models/prng.js';

/** A temp dir for model files; `cleanup()` removes it. */
export function modelDir(): { dir: string; write: (name: string, bytes: Uint8Array) => string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'tilecast-infer-'));
  return {
    dir,
    write: (name, bytes) => {
      const path = join(dir, name);
      writeFileSync(path, bytes);
      return path;
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** `size` standard-normal float32 values from `seed`. */
export function randomInput(size: number, seed: number): Float32Array {
  const normal = gaussian(prng(seed));
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = normal();
  return out;
}

/** Bitwise equality of two float32 arrays (NaN payloads included). */
export function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) return false;
  return true;
}
