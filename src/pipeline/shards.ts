/**
 * Shards: one run split into N tasks of an array job (Slurm, a Kubernetes Indexed Job, AWS Batch),
 * each computing a balanced, contiguous share of the chunks into a part file; `tilecast merge`
 * joins the parts. A shard's index may come from the job engine's environment, so one command
 * line serves every task.
 */
import { basename, dirname, extname, join } from 'node:path';
import { UsageError } from '../errors.js';
import type { PlanChunk } from '../plan/plan.js';

export interface Shard {
  /** 0-based index of this task. */
  index: number;
  /** Number of tasks. */
  count: number;
}

/** Environment variables holding a task's index in an array job, in the order they are tried. */
export const INDEX_VARIABLES = ['SLURM_ARRAY_TASK_ID', 'JOB_COMPLETION_INDEX', 'AWS_BATCH_JOB_ARRAY_INDEX'] as const;

const MAX_SHARDS = 100_000;

/**
 * Parse `--shard`: `I/N`, or `auto` / `auto/N` to take I from the job engine (SLURM_ARRAY_TASK_ID
 * minus SLURM_ARRAY_TASK_MIN, JOB_COMPLETION_INDEX, AWS_BATCH_JOB_ARRAY_INDEX) and N from
 * SLURM_ARRAY_TASK_COUNT when not given.
 */
export function parseShard(text: string | Shard, env: NodeJS.ProcessEnv = process.env): Shard {
  if (typeof text !== 'string') return checkShard(text.index, text.count, `${text.index}/${text.count}`);
  const m = /^\s*(auto|\d+)\s*(?:\/\s*(\d+))?\s*$/.exec(text);
  if (!m) throw new UsageError(`--shard must be I/N (task I of N, from 0), auto/N or auto (index from the job engine), got '${text}'`);
  let index: number;
  if (m[1] === 'auto') {
    const name = INDEX_VARIABLES.find((v) => env[v] !== undefined && env[v] !== '');
    if (name === undefined) {
      throw new UsageError(`--shard ${text}: no array index in the environment (${INDEX_VARIABLES.join(', ')}); run it as an array task or give --shard I/N`);
    }
    index = Number(env[name]);
    if (name === 'SLURM_ARRAY_TASK_ID' && env.SLURM_ARRAY_TASK_MIN !== undefined) index -= Number(env.SLURM_ARRAY_TASK_MIN);
  } else {
    index = Number(m[1]);
  }
  let count: number;
  if (m[2] !== undefined) count = Number(m[2]);
  else if (m[1] === 'auto' && env.SLURM_ARRAY_TASK_COUNT !== undefined) count = Number(env.SLURM_ARRAY_TASK_COUNT);
  else throw new UsageError(`--shard ${text}: the number of tasks is missing; give --shard ${m[1]}/N`);
  return checkShard(index, count, text);
}

function checkShard(index: number, count: number, text: string): Shard {
  if (!Number.isInteger(count) || count < 1 || count > MAX_SHARDS) throw new UsageError(`--shard ${text}: the number of tasks must be an integer from 1 to ${MAX_SHARDS}, got ${count}`);
  if (!Number.isInteger(index) || index < 0 || index >= count) throw new UsageError(`--shard ${text}: the task index must be an integer from 0 to ${count - 1}, got ${index}`);
  return { index, count };
}

/**
 * The chunks of shard `s`: contiguous runs of the chunk list whose costs (tiles to compute, plus
 * one for writing the chunk) are as equal as the chunks allow.
 */
export function shardChunks(chunks: readonly PlanChunk[], s: Shard): PlanChunk[] {
  const cost = chunks.map((c) => c.tiles.length + 1);
  const total = cost.reduce((a, b) => a + b, 0);
  const out: PlanChunk[] = [];
  let before = 0;
  for (let i = 0; i < chunks.length; i++) {
    // a chunk belongs to the shard whose share holds the middle of its cost
    const mid = before + cost[i]! / 2;
    if (Math.min(s.count - 1, Math.floor((mid * s.count) / total)) === s.index) out.push(chunks[i]!);
    before += cost[i]!;
  }
  return out;
}

/** The part file shard `s` writes for the output `out`: `NAME.part-I-of-N.EXT`. */
export function partPath(out: string, s: Shard): string {
  const ext = extname(out) || '.tif';
  const name = basename(out, extname(out));
  const w = String(s.count).length;
  return join(dirname(out), `${name}.part-${String(s.index).padStart(w, '0')}-of-${s.count}${ext}`);
}
