/**
 * The files a run writes: the probabilities (`--out`), the class map (`--classes`, the argmax with
 * a colour table and category names) and the confidence (`--confidence`), each as a GeoTIFF or a
 * COG, each written through its own partial file that the journal can resume. A shard writes each
 * as its own part file.
 */
import type { OutputRows } from '../blend/accumulator.js';
import type { Plan, PlanChunk } from '../plan/plan.js';
import type { RasterSource } from '../raster/source.js';
import type { Crs } from '../raster/types.js';
import { argmaxRows, checkClassCount, CLASS_NODATA } from '../write/classes.js';
import { areaKeys } from '../write/georef.js';
import { defaultPalette, parseColors, type Rgb } from '../write/palette.js';
import { resolveOutputTarget, type RunInput } from '../write/target.js';
import { createGeoTiffWriter, type GeoTiffWriter, type GeoTiffWriterOptions } from '../write/writer.js';
import type { Checkpoints, Journal } from './journal.js';
import type { ResolvedPredictOptions } from './options.js';
import { partPath } from './shards.js';

export type OutputKey = 'out' | 'classes' | 'confidence';

export interface OutputSpec {
  key: OutputKey;
  flag: string;
  /** The file written: the option's path, or its part file for a shard. */
  path: string;
  /** Where it is renamed to (a symbolic link followed). */
  target: string;
}

/** The run's outputs, first the one that holds the journal; checked against every input. */
export function outputSpecs(o: ResolvedPredictOptions, inputs: readonly RunInput[]): OutputSpec[] {
  const given: [OutputKey, string, string | undefined][] = [['out', '--out', o.out], ['classes', '--classes', o.classes], ['confidence', '--confidence', o.confidence]];
  return given.flatMap(([key, flag, p]) => {
    if (p === undefined) return [];
    const path = o.shard ? partPath(p, o.shard) : p;
    return [{ key, flag, path, target: resolveOutputTarget(path, inputs, flag) }];
  });
}

/** Class names and colours of the class map. */
export interface ClassStyle {
  names: string[];
  colors: Rgb[];
}

export function classStyle(o: ResolvedPredictOptions, classes: number): ClassStyle {
  checkClassCount(classes);
  return {
    names: o.bandNames ?? new Array<string>(classes).fill(''),
    colors: o.colors !== undefined ? parseColors(o.colors, classes) : defaultPalette(classes),
  };
}

export class RunOutputs {
  private constructor(
    private readonly o: ResolvedPredictOptions,
    readonly specs: readonly OutputSpec[],
    private readonly writers: Map<OutputKey, GeoTiffWriter>,
    private readonly classes: number,
  ) {}

  /**
   * Create every output's writer, resuming its partial file from the journal when it has
   * checkpoints. `style`: the class map's names and colours (classStyle), null without one.
   */
  static async create(
    o: ResolvedPredictOptions, specs: readonly OutputSpec[], plan: Plan, crs: Crs, ref: RasterSource, classes: number,
    style: ClassStyle | null, metadata: Readonly<Record<string, string>>, journal: Journal,
  ): Promise<RunOutputs> {
    const common: GeoTiffWriterOptions = {
      width: plan.window.width, height: plan.window.height, geoTransform: plan.outputGeoTransform, crs,
      // a CRS without an EPSG code goes to the output as the input's own GeoKeys
      ...(crs.epsg === null && ref.rawGeoKeys ? { geoKeys: areaKeys(ref.rawGeoKeys) } : {}),
      blockSize: o.blockSize, compression: o.compression, metadata, cog: o.cog ?? false,
      ...(o.signal ? { signal: o.signal } : {}),
    };
    const options: Record<OutputKey, GeoTiffWriterOptions> = {
      out: { ...common, bandCount: classes, dataType: 'float32', nodata: o.outputNodata, bandDescriptions: o.bandNames ?? [] },
      classes: {
        ...common, bandCount: 1, dataType: 'uint8', nodata: CLASS_NODATA, bandDescriptions: ['class'],
        colorTable: style?.colors ?? null, categoryNames: style?.names ?? [],
      },
      confidence: { ...common, bandCount: 1, dataType: 'uint8', nodata: CLASS_NODATA, bandDescriptions: ['confidence (%)'], overviewResampling: 'average' },
    };
    const writers = new Map<OutputKey, GeoTiffWriter>();
    try {
      for (const s of specs) {
        const restore = journal.restore(s.key);
        writers.set(s.key, await createGeoTiffWriter(s.path, options[s.key], { path: journal.files.partials[s.key]!, ...(restore ? { restore } : {}), keep: o.resume }));
      }
    } catch (e) {
      await Promise.all([...writers.values()].map((w) => w.abort()));
      throw e;
    }
    return new RunOutputs(o, specs, writers, classes);
  }

  /** A finished block row of a chunk: the probabilities as they are, classes and confidence from them. */
  async write(c: PlanChunk, rows: OutputRows): Promise<void> {
    const block = c.blockRow + rows.index;
    const part = { firstBlock: c.blockCol, blocks: Math.ceil(c.width / this.o.blockSize) };
    await this.writers.get('out')?.writeBlockRow(block, rows.data, part);
    const classes = this.writers.get('classes');
    const confidence = this.writers.get('confidence');
    if (classes === undefined && confidence === undefined) return;
    const r = argmaxRows(rows.data, this.classes, rows.width * rows.height, this.o.outputNodata, confidence !== undefined);
    await classes?.writeBlockRow(block, r.classes, part);
    if (confidence !== undefined) await confidence.writeBlockRow(block, r.confidence!, part);
  }

  /** Every block so far on the disk, and where. */
  async checkpoint(): Promise<Checkpoints> {
    const entries = [...this.writers];
    const points = await Promise.all(entries.map(([, w]) => w.checkpoint()));
    return Object.fromEntries(entries.map(([k], i) => [k, points[i]!]));
  }

  /**
   * Finish every output, one after another. Once one is renamed into place its partial file is
   * gone, so the run can no longer be resumed from the journal: `resumable` turns false.
   */
  async close(runMetadata: Readonly<Record<string, string>>): Promise<void> {
    for (const w of this.writers.values()) {
      await w.close(runMetadata);
      this.resumable = false;
    }
  }

  /** Whether the partial files still hold the run (no output has been renamed into place yet). */
  resumable = true;

  async abort(): Promise<void> {
    await Promise.all([...this.writers.values()].map((w) => w.abort()));
  }
}
