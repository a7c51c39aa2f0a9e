/**
 * A minimal ONNX ModelProto writer and graph builder, no dependency.
 * Field numbers follow onnx/onnx.proto (ModelProto, GraphProto, NodeProto,
 * AttributeProto, TensorProto, ValueInfoProto, TypeProto, TensorShapeProto).
 *
 *   const bytes = model({
 *     inputs: [{ name: 'x', type: 'float32', shape: ['N', 3] }],
 *     outputs: [{ name: 'y', type: 'float32', shape: ['N', 3] }],
 *     nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }],
 *   });
 */
import { ProtoWriter } from './protobuf.js';

/** Tensor element types we write, with their TensorProto.DataType codes. */
export const ELEM_TYPE = { float32: 1, int32: 6, int64: 7, float64: 11 } as const;
export type ElemType = keyof typeof ELEM_TYPE;

/** A graph input or output: a dimension is a size or a symbolic name ('N'). */
export interface ValueInfo {
  name: string;
  type: ElemType;
  shape: readonly (number | string)[];
}

/** A constant tensor (initializer or tensor attribute). */
export interface TensorInit {
  name?: string;
  type: ElemType;
  dims: readonly number[];
  /** Row-major values; int64 values must be safe integers. */
  data: ArrayLike<number>;
}

/** One attribute value; the key says its type. */
export type Attr =
  | { i: number }
  | { f: number }
  | { s: string }
  | { ints: readonly number[] }
  | { floats: readonly number[] }
  | { t: TensorInit };

export interface NodeSpec {
  op: string;
  inputs: readonly string[];
  outputs: readonly string[];
  name?: string;
  attrs?: Readonly<Record<string, Attr>>;
}

export interface ModelSpec {
  inputs: readonly ValueInfo[];
  outputs: readonly ValueInfo[];
  nodes: readonly NodeSpec[];
  initializers?: readonly TensorInit[];
  /** metadata_props: key → value. */
  metadata?: Readonly<Record<string, string>>;
  /** Default opset version (ai.onnx domain). Default 17. */
  opset?: number;
  /** IR version. Default 8. */
  irVersion?: number;
  /** Graph name. Default 'tilecast'. */
  name?: string;
}

// AttributeProto.AttributeType
const ATTR_FLOAT = 1;
const ATTR_INT = 2;
const ATTR_STRING = 3;
const ATTR_TENSOR = 4;
const ATTR_FLOATS = 6;
const ATTR_INTS = 7;

function rawData(t: TensorInit): Uint8Array {
  const n = t.data.length;
  const expected = t.dims.reduce((a, b) => a * b, 1);
  if (n !== expected) throw new RangeError(`tensor ${t.name ?? ''}: ${n} values for dims [${t.dims.join(',')}]`);
  const size = t.type === 'float64' || t.type === 'int64' ? 8 : 4;
  const out = new Uint8Array(n * size);
  const view = new DataView(out.buffer);
  for (let i = 0; i < n; i++) {
    const v = t.data[i]!;
    switch (t.type) {
      case 'float32': view.setFloat32(i * 4, v, true); break;
      case 'float64': view.setFloat64(i * 8, v, true); break;
      case 'int32': view.setInt32(i * 4, v, true); break;
      case 'int64': view.setBigInt64(i * 8, BigInt(v), true); break;
    }
  }
  return out;
}

function writeTensor(w: ProtoWriter, t: TensorInit): void {
  for (const d of t.dims) w.int(1, d);
  w.int(2, ELEM_TYPE[t.type]);
  if (t.name !== undefined) w.string(8, t.name);
  w.bytes(9, rawData(t));
}

function writeAttr(w: ProtoWriter, name: string, a: Attr): void {
  w.string(1, name);
  if ('i' in a) w.int(20, ATTR_INT).int(3, a.i);
  else if ('f' in a) w.int(20, ATTR_FLOAT).float(2, a.f);
  else if ('s' in a) w.int(20, ATTR_STRING).string(4, a.s);
  else if ('ints' in a) {
    w.int(20, ATTR_INTS);
    for (const v of a.ints) w.int(8, v);
  } else if ('floats' in a) {
    w.int(20, ATTR_FLOATS);
    for (const v of a.floats) w.float(7, v);
  } else w.int(20, ATTR_TENSOR).message(5, (t) => writeTensor(t, a.t));
}

function writeValueInfo(w: ProtoWriter, v: ValueInfo): void {
  w.string(1, v.name);
  w.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.int(1, ELEM_TYPE[v.type]);
      tensor.message(2, (shape) => {
        for (const d of v.shape) {
          shape.message(1, (dim) => (typeof d === 'number' ? dim.int(1, d) : dim.string(2, d)));
        }
      });
    }),
  );
}

function writeNode(w: ProtoWriter, n: NodeSpec, index: number): void {
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, n.name ?? `${n.op}_${index}`);
  w.string(4, n.op);
  for (const [name, a] of Object.entries(n.attrs ?? {})) w.message(5, (aw) => writeAttr(aw, name, a));
}

/** Serialise a model to ONNX bytes. */
export function model(spec: ModelSpec): Uint8Array {
  const w = new ProtoWriter();
  w.int(1, spec.irVersion ?? 8);
  w.string(2, 'tilecast');
  w.message(7, (g) => {
    spec.nodes.forEach((n, i) => g.message(1, (nw) => writeNode(nw, n, i)));
    g.string(2, spec.name ?? 'tilecast');
    for (const t of spec.initializers ?? []) g.message(5, (tw) => writeTensor(tw, t));
    for (const v of spec.inputs) g.message(11, (vw) => writeValueInfo(vw, v));
    for (const v of spec.outputs) g.message(12, (vw) => writeValueInfo(vw, v));
  });
  w.message(8, (o) => o.string(1, '').int(2, spec.opset ?? 17));
  for (const [key, value] of Object.entries(spec.metadata ?? {})) {
    w.message(14, (e) => e.string(1, key).string(2, value));
  }
  return w.finish().slice();
}
