/**
 * A small graph builder over onnx.ts: named constants, single-output ops and
 * the few layers the generated models use.
 */
import type { Attr, ElemType, NodeSpec, TensorInit, ValueInfo } from './onnx.js';
import { model } from './onnx.js';

export class GraphBuilder {
  readonly nodes: NodeSpec[] = [];
  readonly initializers: TensorInit[] = [];
  private count = 0;

  private fresh(prefix: string): string {
    return `${prefix}_${this.count++}`;
  }

  /** A constant tensor (initializer); returns its name. */
  constant(type: ElemType, dims: readonly number[], data: ArrayLike<number>, prefix = 'const'): string {
    const name = this.fresh(prefix);
    this.initializers.push({ name, type, dims, data });
    return name;
  }

  /** One node with one output; `out` names the output (e.g. the graph output). */
  op(op: string, inputs: readonly string[], attrs: Record<string, Attr> = {}, out?: string): string {
    const output = out ?? this.fresh(op.toLowerCase());
    this.nodes.push({ op, inputs, outputs: [output], attrs });
    return output;
  }

  /** [N, T, C, H, W] → [N, T·C, H, W], with H and W taken from the input at run time. */
  mergeTimeChannels(x: string, T: number, C: number): string {
    const hw = this.op('Shape', [x], { start: { i: 3 } });
    const head = this.constant('int64', [2], [0, T * C], 'shape_head');
    const shape = this.op('Concat', [head, hw], { axis: { i: 0 } });
    return this.op('Reshape', [x, shape]);
  }

  /** Conv k×k (stride 1, 'same' padding) with the given weights [cout, cin, k, k] and bias [cout]. */
  conv(x: string, cin: number, cout: number, k: number, weights: ArrayLike<number>, bias: ArrayLike<number>, out?: string): string {
    const w = this.constant('float32', [cout, cin, k, k], weights, 'weight');
    const b = this.constant('float32', [cout], bias, 'bias');
    const p = (k - 1) / 2;
    return this.op('Conv', [x, w, b], { kernel_shape: { ints: [k, k] }, pads: { ints: [p, p, p, p] } }, out);
  }

  /** Serialise with the given graph inputs, outputs and metadata. */
  build(inputs: readonly ValueInfo[], outputs: readonly ValueInfo[], metadata?: Record<string, string>): Uint8Array {
    return model({ inputs, outputs, nodes: this.nodes, initializers: this.initializers, ...(metadata ? { metadata } : {}) });
  }
}
