/**
 * The per-channel normalisation a model carries in its metadata_props under
 * `tilecast.norm`: JSON `{"mean": [C numbers], "std": [C numbers]}`, applied as
 * (x − mean[c]) / std[c] to the C channels of every time step.
 */
import { ModelError } from '../errors.js';

export const NORM_PROP = 'tilecast.norm';

export interface Norm {
  mean: number[];
  std: number[];
}

function numbers(v: unknown): v is number[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isFinite(x));
}

/**
 * The normalisation from a model's metadata_props, or null when it has none.
 * `channels`, when given, is the C the inputs produce. Throws ModelError when
 * the entry is malformed.
 */
export function readNorm(props: Readonly<Record<string, string>>, path: string, channels?: number): Norm | null {
  const text = props[NORM_PROP];
  if (text === undefined) return null;
  const bad = (why: string): ModelError =>
    new ModelError(`model ${path} metadata '${NORM_PROP}' ${why}; expected {"mean":[…],"std":[…]} with one entry per channel`, {
      file: path,
    });
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw bad('is not JSON');
  }
  if (typeof value !== 'object' || value === null) throw bad('is not an object');
  const { mean, std } = value as { mean?: unknown; std?: unknown };
  if (!numbers(mean) || !numbers(std)) throw bad('needs numeric arrays "mean" and "std"');
  if (mean.length !== std.length) throw bad(`has ${mean.length} means but ${std.length} stds`);
  if (std.some((s) => s <= 0)) throw bad('has a std ≤ 0');
  if (channels !== undefined && mean.length !== channels) {
    throw bad(`has ${mean.length} channels but the inputs give ${channels} per time step (--dynamic, --static)`);
  }
  return { mean, std };
}
