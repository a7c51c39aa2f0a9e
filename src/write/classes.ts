/**
 * Class map and confidence from finished probability rows.
 *
 * Class of a pixel: the index of its largest probability; ties go to the lowest index. The class
 * map is uint8 with nodata 255, so a model may have at most 255 classes (0..254). A pixel is
 * nodata (255) in both outputs when every band holds the output nodata (outside the region, or no
 * tile weight) or when any band is NaN (a model that produced NaN inside the region).
 *
 * Confidence: the winning probability as uint8 percent, round(100 * p) with p clamped to 0..1
 * (models that output logits, not probabilities, saturate at 0 or 100), nodata 255. A percent
 * keeps the confidence a small uint8 file that compresses well; its 0.5 % step is finer than any
 * threshold a user picks from a map.
 */
import { UsageError } from '../errors.js';

/** Class-map (and confidence) nodata. */
export const CLASS_NODATA = 255;

/** Most classes a class map holds: values 0..254. */
export const MAX_CLASSES = 255;

/** Throws UsageError naming --classes unless 1..255 classes. */
export function checkClassCount(classes: number): void {
  if (!(Number.isInteger(classes) && classes >= 1 && classes <= MAX_CLASSES)) {
    throw new UsageError(
      `--classes: the model gives ${classes} output bands, but a class map (uint8, 255 = nodata) holds at most ${MAX_CLASSES} classes: ` +
        'leave out --classes and use the probability output (--out)',
    );
  }
}

export interface ClassRows {
  /** Class per pixel, 0..classes-1, or 255. */
  classes: Uint8Array;
  /** Winning probability in percent 0..100, or 255; present when asked for. */
  confidence: Uint8Array | null;
}

/**
 * Argmax of `classes` band-sequential planes of `pixels` values each (the layout of
 * OutputRows.data: band k, pixel i at data[k * pixels + i]). `nodata` is the probability output's
 * nodata (NaN allowed), compared as float32 because the planes are float32.
 */
export function argmaxRows(data: Float32Array, classes: number, pixels: number, nodata: number, confidence: boolean): ClassRows {
  checkClassCount(classes);
  if (data.length !== classes * pixels) {
    throw new RangeError(`argmaxRows: ${data.length} values are not ${classes} planes of ${pixels} pixels`);
  }
  const nd = Math.fround(nodata);
  const out = new Uint8Array(pixels);
  const best = data.slice(0, pixels);
  // Pixels with a NaN band are invalid; nodataBands counts the bands equal to nodata.
  const invalid = new Uint8Array(pixels);
  const nodataBands = new Uint8Array(pixels);
  for (let i = 0; i < pixels; i++) {
    const v = best[i]!;
    if (v !== v) invalid[i] = 1;
    else if (v === nd) nodataBands[i] = 1;
  }
  for (let k = 1; k < classes; k++) {
    const plane = data.subarray(k * pixels, (k + 1) * pixels);
    for (let i = 0; i < pixels; i++) {
      const v = plane[i]!;
      if (v > best[i]!) {
        best[i] = v;
        out[i] = k;
      } else if (v !== v) {
        invalid[i] = 1;
      }
      if (v === nd) nodataBands[i]!++;
    }
  }
  const conf = confidence ? new Uint8Array(pixels) : null;
  for (let i = 0; i < pixels; i++) {
    if (invalid[i] !== 0 || nodataBands[i] === classes) {
      out[i] = CLASS_NODATA;
      if (conf !== null) conf[i] = CLASS_NODATA;
    } else if (conf !== null) {
      const p = best[i]!;
      conf[i] = p <= 0 ? 0 : p >= 1 ? 100 : Math.round(p * 100);
    }
  }
  return { classes: out, confidence: conf };
}
