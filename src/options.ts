/**
 * The limits of every numeric option, and the one check that enforces them. The CLI, `predict`,
 * the planner and the writer all go through `checkInteger` (and `checkGrid` for the grid), so a
 * flag has one rule and one message wherever it is used.
 */
import { availableParallelism, freemem } from 'node:os';
import { readFileSync } from 'node:fs';
import { UsageError } from './errors.js';

/** Hard limits (inclusive) of the integer options, with why. */
export const LIMITS = {
  /** Tile side in pixels: 8192² pixels is 256 MB per float32 channel. */
  tile: { min: 1, max: 8192 },
  /** Tiles per batch. */
  batchSize: { min: 1, max: 4096 },
  /** Batches read ahead of the model (each costs one batch buffer). */
  queueDepth: { min: 1, max: 64 },
  /** Output block side: a multiple of 16 (TIFF tiles); TIFF readers commonly stop at 65536. */
  blockSize: { min: 16, max: 65536 },
} as const;

/** Threads or workers a run may ask for: four per core of this machine. */
export function maxThreads(): number {
  return 4 * availableParallelism();
}

/** Throw a UsageError unless `value` is an integer in min..max. `what` describes the value. */
export function checkInteger(value: unknown, flag: string, min: number, max: number, what = ''): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
    throw new UsageError(`${flag} must be an integer ${range}${what ? ` (${what})` : ''}, got ${describe(value)}`);
  }
  return value;
}

/**
 * The output grid's options, checked with one rule and message wherever they are given: tile side,
 * stride (default half the tile, at most the tile), block size (a multiple of 16) and, when
 * given, chunk size (a multiple of the block size).
 */
export function checkGrid(g: { tile: unknown; stride?: unknown; blockSize: unknown; chunk?: unknown }): { tile: number; stride: number; blockSize: number; chunk: number | undefined } {
  const tile = checkInteger(g.tile, '--tile', LIMITS.tile.min, LIMITS.tile.max, 'tile side in pixels');
  const stride = checkInteger(g.stride ?? Math.max(1, Math.floor(tile / 2)), '--stride', 1, tile, `at most the tile size, --tile ${tile}`);
  const blockSize = checkInteger(g.blockSize, '--block-size', LIMITS.blockSize.min, LIMITS.blockSize.max, 'a multiple of 16');
  if (blockSize % 16 !== 0) throw new UsageError(`--block-size must be a multiple of 16 (TIFF tiles) from ${LIMITS.blockSize.min} to ${LIMITS.blockSize.max}, got ${blockSize}`);
  if (g.chunk === undefined) return { tile, stride, blockSize, chunk: undefined };
  const chunk = checkInteger(g.chunk, '--chunk', blockSize, Number.MAX_SAFE_INTEGER, `a multiple of the block size, --block-size ${blockSize}`);
  if (chunk % blockSize !== 0) throw new UsageError(`--chunk must be a multiple of the block size (--block-size ${blockSize}), got ${chunk}`);
  return { tile, stride, blockSize, chunk };
}

/** Throw a UsageError unless `value` is one of `allowed`. */
export function checkChoice<T extends string>(value: unknown, flag: string, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new UsageError(`${flag} must be ${allowed.length === 2 ? `${allowed[0]} or ${allowed[1]}` : `one of ${allowed.join(', ')}`}, got ${describe(value)}`);
  }
  return value as T;
}

function describe(v: unknown): string {
  if (typeof v === 'string') return `'${v.length > 40 ? `${v.slice(0, 40)}…` : v}'`;
  if (typeof v === 'number') return String(v);
  return v === undefined ? 'nothing' : JSON.stringify(v) ?? String(v);
}

/**
 * Bytes this process may still allocate: the system's available memory, or less when a cgroup
 * (a container, a Slurm job, a Kubernetes pod) sets a lower limit.
 */
export function availableMemory(): number {
  let bytes = freemem();
  try {
    const max = readFileSync('/sys/fs/cgroup/memory.max', 'utf8').trim();
    const used = Number(readFileSync('/sys/fs/cgroup/memory.current', 'utf8').trim());
    if (max !== 'max' && Number.isFinite(Number(max)) && Number.isFinite(used)) bytes = Math.min(bytes, Number(max) - used);
  } catch {
    // no cgroup v2 memory controller: the system figure stands
  }
  return bytes;
}

/** A copy of `o` without its undefined members, so spreading it over defaults keeps the defaults. */
export function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}
