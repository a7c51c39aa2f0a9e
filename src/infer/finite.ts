/**
 * Guard against NaN/±Infinity in model outputs: one would poison every
 * blended pixel its tile overlaps.
 */
import { ModelError } from '../errors.js';

/** Index of the first NaN or ±Infinity in `values`, or -1. */
export function firstNonFinite(values: Float32Array): number {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    // v - v is 0 for finite v and NaN for NaN and ±Infinity.
    if (v - v !== 0) return i;
  }
  return -1;
}

/**
 * Throw ModelError when an [n, K, H, W] output holds a NaN or ±Infinity,
 * naming the sample (through `label`, e.g. its tile), band and pixel.
 */
export function assertFinite(
  output: Float32Array,
  dims: readonly number[],
  model: string,
  label: (sample: number) => string = (i) => `sample ${i}`,
): void {
  const at = firstNonFinite(output);
  if (at < 0) return;
  const [, k = 1, h = 1, w = 1] = dims;
  const sample = Math.floor(at / (k * h * w));
  const band = Math.floor(at / (h * w)) % k;
  const row = Math.floor(at / w) % h;
  const col = at % w;
  throw new ModelError(
    `model ${model} output ${output[at]} for ${label(sample)}, band ${band + 1}, pixel (row ${row}, col ${col}): ` +
      'predictions must be finite; check the model and the input normalisation (tilecast.norm)',
    { file: model },
  );
}
