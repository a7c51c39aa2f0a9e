/**
 * The inference backend interface: one forward pass per batch.
 * Implementations: the in-thread onnxruntime session (onnx.ts) and the same
 * session inside a worker thread (worker-backend.ts).
 */

/** Where the model runs. */
export type Device = 'cpu' | 'cuda';

/** A model input or output as the model declares it. */
export interface TensorInfo {
  name: string;
  /** Element type as onnxruntime names it ('float32', 'float16', 'int64', …); 'non-tensor' for maps/sequences. */
  type: string;
  /** Dimensions: a size, or the symbolic name of a free dimension ('N', 'batch', …). */
  shape: (number | string)[];
}

/** What the model declares, plus where it runs. A plain, serialisable value. */
export interface ModelInfo {
  /** The model file. */
  path: string;
  inputs: TensorInfo[];
  outputs: TensorInfo[];
  /** The model's metadata_props (key → value). */
  props: Record<string, string>;
  /** The device the session actually runs on (after any fallback). */
  device: Device;
}

/** The result of one batch. */
export interface RunResult {
  /**
   * The input handed back for reuse: the same view (offset and length) over
   * the same memory. Backends that move the buffer to another thread detach
   * the caller's array; use this one, or `new Float32Array(input.buffer)` for
   * the whole pooled buffer behind a partial-batch view.
   */
  input: Float32Array;
  /** The output, laid out [n, …outputDims.slice(1)]: a view of the caller's `output` buffer when one was given and big enough. */
  output: Float32Array;
  /** Output dimensions, [n, K, H, W] for a tilecast model. */
  dims: number[];
}

export interface InferenceBackend {
  readonly info: ModelInfo;
  /**
   * Run one batch through the model's first input and first output.
   *
   * `dims` is the batch shape [n, …] and `input` holds at least its product of
   * values. `output`, when given, is a preallocated buffer the result is written
   * into (reuse it batch after batch). Ownership: until the promise settles
   * the buffers belong to the backend; a worker backend transfers them and the
   * caller's arrays are detached: use `RunResult.input`/`output` afterwards.
   *
   * When the model fixes its batch dimension to B and n < B, the backend runs
   * B samples (the tail of `input` when it has room, else a zero-padded copy)
   * and returns the first n.
   *
   * Rejects with ModelError when the model fails.
   */
  run(input: Float32Array, dims: readonly number[], output?: Float32Array): Promise<RunResult>;
  /**
   * Release the session (and end the worker). The batch in progress finishes;
   * batches queued behind it reject with ModelError. Idempotent.
   *
   * Await it before `process.exit()`: ending a worker thread while onnxruntime
   * is inside `run` aborts the whole process (SIGABRT, an onnxruntime-node
   * limitation).
   */
  close(): Promise<void>;
}
