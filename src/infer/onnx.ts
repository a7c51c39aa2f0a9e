/**
 * The in-thread onnxruntime backend. `session.run` blocks the calling thread
 * while it computes; the pipeline uses it through worker-backend.ts.
 */
import { existsSync } from 'node:fs';
import ort from 'onnxruntime-node';
import { ModelError } from '../errors.js';
import type { Device, InferenceBackend, ModelInfo, RunResult, TensorInfo } from './backend.js';
import { readModelProps } from './model-props.js';

export interface OnnxOptions {
  /** Where to run: 'cpu', or 'cuda' (falls back to cpu with a warning when the CUDA provider cannot start). Default 'cpu'. */
  device?: Device;
  /** onnxruntime intra-op threads; 0 lets onnxruntime choose (one per physical core). Default 0. */
  threads?: number;
  /** Receives warnings such as the CUDA fallback. Default: discard. */
  warn?: (message: string) => void;
}

export const DEFAULT_ONNX_OPTIONS: Required<OnnxOptions> = {
  device: 'cpu',
  threads: 0,
  warn: () => {},
};

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Session options.
 * - Graph optimisation 'extended', not 'all': 'all' adds the CPU layout transformation (NCHWc),
 *   which copies every input batch into a blocked layout: on the bench models at batch 16 it held
 *   about 200 MB more (260 vs 67 MB of working memory for the light model) for no speed
 *   (light 3.9 vs 3.1 ms a tile, heavy 8.0 vs 8.2).
 * - onnxruntime's threads spin between operators by default, burning a core that the batch stage
 *   (decoding and stacking the next batch) needs: on 2 cores, turning spinning off made the bench
 *   models 20-30 % faster by themselves and leaves the CPU to the data path.
 */
function sessionOptions(device: Device, threads: number): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: [device],
    graphOptimizationLevel: 'extended',
    ...(threads > 0 ? { intraOpNumThreads: threads } : {}),
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
  };
}

function toInfo(meta: readonly ort.InferenceSession.ValueMetadata[]): TensorInfo[] {
  return meta.map((m) =>
    m.isTensor ? { name: m.name, type: m.type, shape: [...m.shape] } : { name: m.name, type: 'non-tensor', shape: [] },
  );
}

function product(dims: readonly number[], from = 0): number {
  let p = 1;
  for (let i = from; i < dims.length; i++) p *= dims[i]!;
  return p;
}

export class OnnxBackend implements InferenceBackend {
  readonly info: ModelInfo;
  private session: ort.InferenceSession | null;
  /** The model's fixed batch size, or null when the batch dimension is free. */
  private readonly fixedBatch: number | null;
  /** Output dims per sample for the last input sample shape seen (key = input dims without n). */
  private outKey = '';
  private outSample: number[] | null = null;
  /** Zero-padded input when a fixed-batch model gets a short batch in a short buffer. */
  private padded: Float32Array | null = null;
  /** Runs execute one after another, in call order (they share the scratch buffers above). */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(session: ort.InferenceSession, info: ModelInfo) {
    this.session = session;
    this.info = info;
    const first = info.inputs[0]?.shape[0];
    this.fixedBatch = typeof first === 'number' ? first : null;
  }

  run(input: Float32Array, dims: readonly number[], output?: Float32Array): Promise<RunResult> {
    const next = this.queue.then(() => this.runNow(input, dims, output));
    this.queue = next.catch(() => {});
    return next;
  }

  private async runNow(input: Float32Array, dims: readonly number[], output?: Float32Array): Promise<RunResult> {
    const session = this.session;
    if (session === null) throw new ModelError(`model ${this.info.path}: backend is closed`, { file: this.info.path });
    const n = dims[0]!;
    const sample = product(dims, 1);
    if (input.length < n * sample) {
      throw new RangeError(`input holds ${input.length} values, batch [${dims.join(',')}] needs ${n * sample}`);
    }
    const runN = this.fixedBatch ?? n;
    if (runN < n) {
      throw new ModelError(
        `model ${this.info.path} takes batches of ${runN} tiles but was given ${n} (--batch-size ${runN})`,
        { file: this.info.path },
      );
    }
    let data = input.subarray(0, runN * sample);
    if (data.length < runN * sample) {
      if (this.padded === null || this.padded.length !== runN * sample) this.padded = new Float32Array(runN * sample);
      this.padded.set(input.subarray(0, n * sample));
      this.padded.fill(0, n * sample);
      data = this.padded;
    }
    const runDims = [runN, ...dims.slice(1)];
    const key = runDims.slice(1).join(',');
    if (key !== this.outKey) {
      this.outKey = key;
      this.outSample = null;
    }
    const inputName = this.info.inputs[0]!.name;
    const outputName = this.info.outputs[0]!.name;
    const feeds = { [inputName]: new ort.Tensor('float32', data, runDims) };

    let outSample = this.outSample;
    try {
      if (output !== undefined && outSample !== null && output.length >= runN * product(outSample)) {
        // Known output shape and room for it: onnxruntime writes straight into the caller's buffer.
        const size = product(outSample);
        const fetch = new ort.Tensor('float32', output.subarray(0, runN * size), [runN, ...outSample]);
        await session.run(feeds, { [outputName]: fetch });
        return { input, output: output.subarray(0, n * size), dims: [n, ...outSample] };
      }
      const result = await session.run(feeds, [outputName]);
      const tensor = result[outputName]!;
      if (!(tensor.data instanceof Float32Array)) {
        throw new ModelError(
          `model output '${outputName}' is ${tensor.type}, tilecast needs float32: export the model with a float32 output`,
          { file: this.info.path },
        );
      }
      outSample = tensor.dims.slice(1);
      this.outSample = outSample;
      const size = product(outSample);
      const got = tensor.data.subarray(0, n * size);
      let out = got;
      if (output !== undefined && output.length >= n * size) {
        out = output.subarray(0, n * size);
        out.set(got);
      }
      return { input, output: out, dims: [n, ...outSample] };
    } catch (e) {
      if (e instanceof ModelError) throw e;
      throw new ModelError(`model ${this.info.path} failed on a batch of shape [${runDims.join(',')}]: ${message(e)}`, {
        file: this.info.path,
        cause: e,
      });
    }
  }

  async close(): Promise<void> {
    const session = this.session;
    this.session = null;
    await this.queue;
    if (session !== null) await session.release();
  }
}

async function createSession(path: string, device: Device, threads: number, warn: (m: string) => void) {
  try {
    return { session: await ort.InferenceSession.create(path, sessionOptions(device, threads)), device };
  } catch (e) {
    if (device !== 'cuda') throw e;
    warn(
      `CUDA execution provider unavailable (${message(e)}); running on CPU. ` +
        'For GPU inference fetch the CUDA provider once (ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js; ' +
          'npm does not run that script itself here) and install CUDA 12 and cuDNN 9',
    );
    return { session: await ort.InferenceSession.create(path, sessionOptions('cpu', threads)), device: 'cpu' as const };
  }
}

/** Open an ONNX model file in this thread. Throws ModelError when the file is missing or not a loadable model. */
export async function openOnnx(path: string, options: OnnxOptions = {}): Promise<OnnxBackend> {
  const o = { ...DEFAULT_ONNX_OPTIONS, ...options };
  if (!existsSync(path)) throw new ModelError(`model file not found: ${path} (--model)`, { file: path });
  let created: { session: ort.InferenceSession; device: Device };
  try {
    created = await createSession(path, o.device, o.threads, o.warn);
  } catch (e) {
    throw new ModelError(`cannot load model ${path}: ${message(e)}`, { file: path, cause: e });
  }
  const { session, device } = created;
  try {
    const info: ModelInfo = {
      path,
      inputs: toInfo(session.inputMetadata),
      outputs: toInfo(session.outputMetadata),
      props: readModelProps(path),
      device,
    };
    if (info.inputs.length === 0 || info.outputs.length === 0) {
      throw new ModelError(`model ${path} has no ${info.inputs.length === 0 ? 'input' : 'output'}`, { file: path });
    }
    return new OnnxBackend(session, info);
  } catch (e) {
    await session.release();
    throw e;
  }
}
