/**
 * The model contract: the model's first input must take the batches the
 * inputs produce ([N,T,C,H,W] or [N,T·C,H,W], float32) and its first output
 * must be one float32 prediction per pixel ([N,K,H,W], same H and W).
 * Violations are ModelErrors stating expected vs actual and the flag to change.
 */
import { ModelError } from '../errors.js';
import type { InferenceBackend, ModelInfo, TensorInfo } from './backend.js';

/** How a batch is laid out: a time axis, or time and channel merged into one axis. */
export type Layout = 'NTCHW' | 'NCHW';

/** The flag a user changes for each mismatch. */
export const CONTRACT_FLAGS = {
  dynamic: '--dynamic',
  static: '--static',
  tile: '--tile',
  batchSize: '--batch-size',
  layout: '--layout',
  outBands: '--band-names',
} as const;

export interface ContractExpectation {
  /** Batch layout the inputs are stacked in. */
  layout: Layout;
  /** Time steps: the number of dynamic files. */
  T: number;
  /** Channels per time step: bands per dynamic file + static bands. */
  C: number;
  /** Tile size in pixels (tiles are square). */
  tile: number;
  /** Requested tiles per batch. */
  batchSize: number;
  /** Bands per dynamic file, when known: makes channel messages explicit. */
  dynamicBands?: number;
  /** Static bands, when known: makes channel messages explicit. */
  staticBands?: number;
  /** Output bands the user expects (e.g. from band names), when known. */
  outBands?: number;
}

export interface ModelContract {
  /** Tiles per batch to use: the request, or the model's fixed batch size. */
  batchSize: number;
  /** K: output bands per pixel. */
  outBands: number;
  inputName: string;
  outputName: string;
  /** Shape of one batch of `batchSize` tiles, as fed to the model. */
  inputDims: number[];
  /** Things the user should know that do not stop the run. */
  warnings: string[];
}

const fmt = (shape: readonly (number | string)[]): string => `[${shape.join(',')}]`;

/** The batch shape the inputs produce, with 'N' for the batch axis. */
export function givenShape(e: ContractExpectation): (number | string)[] {
  return e.layout === 'NTCHW' ? ['N', e.T, e.C, e.tile, e.tile] : ['N', e.T * e.C, e.tile, e.tile];
}

function channelDetail(e: ContractExpectation): string {
  if (e.dynamicBands === undefined || e.staticBands === undefined) return '';
  return ` (${e.dynamicBands} per dynamic file + ${e.staticBands} static)`;
}

/** Checks the model's first input against the inputs; returns the batch size to use. Pure. */
export function checkInput(info: ModelInfo, e: ContractExpectation): { batchSize: number; warnings: string[] } {
  const f = CONTRACT_FLAGS;
  const warnings: string[] = [];
  if (info.inputs.length !== 1) {
    throw new ModelError(
      `model ${info.path} has ${info.inputs.length} inputs (${info.inputs.map((i) => i.name).join(', ')}); tilecast feeds exactly one ${fmt(givenShape(e))}`,
      { file: info.path },
    );
  }
  const input = info.inputs[0]!;
  const given = givenShape(e);
  const head = `model input '${input.name}' expects ${fmt(input.shape)} but the inputs give ${fmt(given)}`;
  if (input.type !== 'float32') {
    throw new ModelError(`model input '${input.name}' is ${input.type}, tilecast feeds float32: export the model with a float32 input`, {
      file: info.path,
    });
  }
  const rank = given.length;
  if (input.shape.length !== 0 && input.shape.length !== rank) {
    const other: Layout = e.layout === 'NTCHW' ? 'NCHW' : 'NTCHW';
    const otherRank = other === 'NTCHW' ? 5 : 4;
    const fix = input.shape.length === otherRank ? `use ${f.layout} ${other}` : 'tilecast feeds [N,T,C,H,W] or [N,T·C,H,W]';
    throw new ModelError(`${head}: rank ${input.shape.length} expected, rank ${rank} given (${f.layout} ${e.layout}); ${fix}`, {
      file: info.path,
    });
  }
  const reasons: string[] = [];
  const dim = (i: number): number | null => {
    const d = input.shape[i];
    return typeof d === 'number' ? d : null;
  };
  if (input.shape.length === rank) {
    if (e.layout === 'NTCHW') {
      const mT = dim(1);
      const mC = dim(2);
      if (mT !== null && mT !== e.T) reasons.push(`${mT} dynamic files expected, ${e.T} given (${f.dynamic})`);
      if (mC !== null && mC !== e.C) {
        reasons.push(`${mC} bands per time step expected, ${e.C} given${channelDetail(e)} (${f.dynamic}, ${f.static})`);
      }
    } else {
      const mTC = dim(1);
      if (mTC !== null && mTC !== e.T * e.C) {
        const hint = mTC % e.C === 0 ? `: ${mTC / e.C} dynamic files of ${e.C} bands` : '';
        reasons.push(
          `${mTC} channels expected${hint}, ${e.T * e.C} given (${e.T} dynamic files × ${e.C} bands${channelDetail(e)}) (${f.dynamic}, ${f.static})`,
        );
      }
    }
    const mH = dim(rank - 2);
    const mW = dim(rank - 1);
    if ((mH !== null && mH !== e.tile) || (mW !== null && mW !== e.tile)) {
      const want = mH ?? mW!;
      const fix = mH !== null && mW !== null && mH !== mW ? 'the model needs non-square tiles, which tilecast does not cut' : `${f.tile} ${want}`;
      reasons.push(`${mH ?? 'H'}×${mW ?? 'W'} tiles expected, ${e.tile}×${e.tile} given (${fix})`);
    }
  }
  if (reasons.length > 0) throw new ModelError(`${head}: ${reasons.join('; ')}`, { file: info.path });

  let batchSize = e.batchSize;
  const b = dim(0);
  if (b !== null && b !== e.batchSize) {
    batchSize = b;
    warnings.push(
      b === 1
        ? `model input '${input.name}' fixes the batch size to 1: running one tile per batch instead of ${f.batchSize} ${e.batchSize} (export the model with a dynamic batch axis to batch tiles)`
        : `model input '${input.name}' fixes the batch size to ${b}: using ${f.batchSize} ${b} instead of ${e.batchSize}`,
    );
  }
  return { batchSize, warnings };
}

function checkOutputDims(info: ModelInfo, output: TensorInfo, dims: readonly (number | string)[], e: ContractExpectation, batch: number): number {
  const shown = fmt(dims);
  if (dims.length !== 4) {
    throw new ModelError(
      `model output '${output.name}' is ${shown} (rank ${dims.length}); tilecast needs per-pixel predictions [N,K,H,W] with H×W = ${tileFlag(e)}`,
      { file: info.path },
    );
  }
  const [n, k, h, w] = dims;
  if (typeof n === 'number' && n !== batch) {
    throw new ModelError(`model output '${output.name}' is ${shown} for a batch of ${batch} tiles: the output batch axis must match the input's`, {
      file: info.path,
    });
  }
  if (h !== e.tile || w !== e.tile) {
    throw new ModelError(
      `model output '${output.name}' is ${shown} but tiles are ${e.tile}×${e.tile}: tilecast needs one prediction per input pixel (output H×W = ${tileFlag(e)}); a model that changes resolution cannot be blended`,
      { file: info.path },
    );
  }
  if (typeof k !== 'number' || k < 1) throw new ModelError(`model output '${output.name}' is ${shown}: no output bands`, { file: info.path });
  if (e.outBands !== undefined && k !== e.outBands) {
    throw new ModelError(
      `model output '${output.name}' has ${k} bands but ${e.outBands} were expected (${CONTRACT_FLAGS.outBands} names ${e.outBands})`,
      { file: info.path },
    );
  }
  return k;
}

function tileFlag(e: ContractExpectation): string {
  return `${CONTRACT_FLAGS.tile} ${e.tile}×${e.tile}`;
}

/**
 * Check the model against the inputs. Where the output shape is not fully
 * declared (symbolic dims), runs the model once on a zero tile to learn it.
 * Throws ModelError naming expected vs actual and the flag to change.
 */
export async function checkModelContract(backend: InferenceBackend, e: ContractExpectation): Promise<ModelContract> {
  const info = backend.info;
  const { batchSize, warnings } = checkInput(info, e);
  const output = info.outputs[0]!;
  if (info.outputs.length > 1) {
    warnings.push(`model has ${info.outputs.length} outputs (${info.outputs.map((o) => o.name).join(', ')}); using the first, '${output.name}'`);
  }
  if (output.type !== 'float32') {
    throw new ModelError(`model output '${output.name}' is ${output.type}, tilecast needs float32: export the model with a float32 output`, {
      file: info.path,
    });
  }
  const sample = givenShape(e).slice(1) as number[];
  const declared = output.shape;
  const known = declared.length === 4 && declared.slice(1).every((d) => typeof d === 'number');
  let outBands: number;
  if (known) {
    outBands = checkOutputDims(info, output, declared, e, batchSize);
  } else {
    // Dry run: one zero tile (a fixed-batch model is padded by the backend).
    const size = sample.reduce((a, b) => a * b, 1);
    const result = await backend.run(new Float32Array(size), [1, ...sample]);
    outBands = checkOutputDims(info, output, result.dims, e, 1);
  }
  return {
    batchSize,
    outBands,
    inputName: info.inputs[0]!.name,
    outputName: output.name,
    inputDims: [batchSize, ...sample],
    warnings,
  };
}
