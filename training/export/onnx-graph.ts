/**
 * A small ONNX graph builder over `onnx-proto`: named inputs/outputs with a symbolic "batch" axis, float and int64
 * initializers, nodes with typed attributes, and serialisation to model bytes that onnxruntime loads.
 * Model-specific graphs (training/export/lstm-onnx.ts, unet-onnx.ts) are written with it.
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

/** Opset 13: Slice/Squeeze/Unsqueeze take their axes as inputs; LSTM-7/14 semantics are identical for our use. */
export const ONNX_OPSET = 13;
const IR_VERSION = 7;

export type Dim = number | 'batch';
export type AttrValue = number | number[] | string | { floats: number[] } | { int: number };

const FLOAT = 1;
const INT64 = 7;

function shapeProto(shape: Dim[]): onnxProto.onnx.ITensorShapeProto {
  return { dim: shape.map((d) => (d === 'batch' ? { dimParam: 'batch' } : { dimValue: d })) };
}

function valueInfo(name: string, shape: Dim[]): onnxProto.onnx.IValueInfoProto {
  return { name, type: { tensorType: { elemType: FLOAT, shape: shapeProto(shape) } } };
}

function attribute(name: string, value: AttrValue): onnxProto.onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof value === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) return { name, type: T.INTS, ints: value };
  if (typeof value === 'number') {
    return Number.isInteger(value) ? { name, type: T.INT, i: value } : { name, type: T.FLOAT, f: value };
  }
  if ('floats' in value) return { name, type: T.FLOATS, floats: value.floats };
  return { name, type: T.INT, i: value.int };
}

/** Builds one graph; names are unique per builder (fresh() adds a counter). */
export class OnnxGraphBuilder {
  private readonly nodes: onnxProto.onnx.INodeProto[] = [];
  private readonly initializers: onnxProto.onnx.ITensorProto[] = [];
  private readonly inputs: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly outputs: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly used = new Set<string>();
  private counter = 0;
  /** Number of float weights stored as initializers (the model's parameter count once BN is folded). */
  floatParameters = 0;

  constructor(readonly graphName: string) {}

  fresh(prefix: string): string {
    let name: string;
    do name = `${prefix}_${this.counter++}`;
    while (this.used.has(name));
    this.used.add(name);
    return name;
  }

  private claim(name: string): string {
    if (this.used.has(name)) throw new Error(`duplicate ONNX value name ${name}`);
    this.used.add(name);
    return name;
  }

  input(name: string, shape: Dim[]): string {
    this.inputs.push(valueInfo(this.claim(name), shape));
    return name;
  }

  /** Declares `value` as a graph output called `name` (an Identity node renames it). */
  output(name: string, value: string, shape: Dim[]): string {
    this.nodes.push({ opType: 'Identity', input: [value], output: [this.claim(name)], name: `out_${name}` });
    this.outputs.push(valueInfo(name, shape));
    return name;
  }

  /** A float32 initializer; `countAsParameter` false for constants such as normalisation statistics. */
  floatConst(prefix: string, data: Float32Array | number[], dims: number[], countAsParameter = true): string {
    const values = data instanceof Float32Array ? data : Float32Array.from(data);
    const expected = dims.reduce((a, b) => a * b, 1);
    if (values.length !== expected) throw new Error(`${prefix}: ${values.length} values for dims [${dims}]`);
    const name = this.fresh(prefix);
    const raw = new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
    this.initializers.push({ name, dims, dataType: FLOAT, rawData: raw });
    if (countAsParameter) this.floatParameters += values.length;
    return name;
  }

  int64Const(prefix: string, values: number[]): string {
    const name = this.fresh(prefix);
    const raw = new Uint8Array(BigInt64Array.from(values.map((v) => BigInt(v))).buffer);
    this.initializers.push({ name, dims: [values.length], dataType: INT64, rawData: raw });
    return name;
  }

  /** Adds a node and returns its output names (`outputs` of them). Empty string inputs mean "omitted". */
  node(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, outputs = 1): string[] {
    const outNames = Array.from({ length: outputs }, () => this.fresh(opType.toLowerCase()));
    this.nodes.push({
      opType,
      input: inputs,
      output: outNames,
      name: this.fresh(`n_${opType}`),
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return outNames;
  }

  /** Single-output convenience. */
  op(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}): string {
    const [out] = this.node(opType, inputs, attrs, 1);
    return out!;
  }

  // Common shapes of node, named after the ONNX operators they emit.
  matMul(a: string, b: string): string {
    return this.op('MatMul', [a, b]);
  }
  add(a: string, b: string): string {
    return this.op('Add', [a, b]);
  }
  mul(a: string, b: string): string {
    return this.op('Mul', [a, b]);
  }
  /** x·W + b with W [in, out] and b [out] given as data. */
  dense(x: string, weight: Float32Array, inSize: number, outSize: number, bias?: Float32Array): string {
    const y = this.matMul(x, this.floatConst('W', weight, [inSize, outSize]));
    return bias === undefined ? y : this.add(y, this.floatConst('b', bias, [outSize]));
  }
  slice(x: string, starts: number[], ends: number[], axes: number[], steps?: number[]): string {
    const ins = [x, this.int64Const('starts', starts), this.int64Const('ends', ends), this.int64Const('axes', axes)];
    if (steps !== undefined) ins.push(this.int64Const('steps', steps));
    return this.op('Slice', ins);
  }
  /** Reshape with ONNX semantics: 0 copies the input dimension (keeps the batch axis dynamic), -1 infers. */
  reshape(x: string, shape: number[]): string {
    return this.op('Reshape', [x, this.int64Const('shape', shape)]);
  }
  concat(xs: string[], axis: number): string {
    return this.op('Concat', xs, { axis });
  }
  transpose(x: string, perm: number[]): string {
    return this.op('Transpose', [x], { perm });
  }
  unsqueeze(x: string, axes: number[]): string {
    return this.op('Unsqueeze', [x, this.int64Const('axes', axes)]);
  }
  squeeze(x: string, axes: number[]): string {
    return this.op('Squeeze', [x, this.int64Const('axes', axes)]);
  }

  /** Serialises to ONNX model bytes. */
  toBytes(docString = ''): Uint8Array {
    const model: onnxProto.onnx.IModelProto = {
      irVersion: IR_VERSION,
      producerName: 'livestem-training',
      producerVersion: '1',
      docString,
      opsetImport: [{ domain: '', version: ONNX_OPSET }],
      graph: {
        name: this.graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    };
    return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
  }
}
