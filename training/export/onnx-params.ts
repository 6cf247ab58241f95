/**
 * Reads a model's trained weights back from an ONNX file whose initializers are the model's parameters stored
 * as-is under their own names: the first U-Net export (one initializer per parameter, named after it by
 * OnnxGraphBuilder.floatConst: non-word characters → '_', then '_<counter>'). That model shipped without its
 * training checkpoint, so this is how it is re-exported; the re-export checks its outputs against the source file.
 */
import onnxProto from 'onnx-proto';
import type { NamedArray } from '../model/params.ts';

const FLOAT = 1;

/** Float32 initializers by name, as [dims, values]. */
export function floatInitializers(onnxBytes: Uint8Array): Map<string, NamedArray> {
  const model = onnxProto.onnx.ModelProto.decode(onnxBytes);
  const out = new Map<string, NamedArray>();
  for (const t of model.graph?.initializer ?? []) {
    if (t.dataType !== FLOAT || typeof t.name !== 'string') continue;
    const shape = (t.dims ?? []).map((d) => Number(d));
    const count = shape.reduce((a, b) => a * b, 1);
    let data: Float32Array;
    if (t.rawData !== undefined && t.rawData !== null && t.rawData.length > 0) {
      // rawData may be a view into the protobuf buffer at any offset: copy before reinterpreting.
      data = new Float32Array(Uint8Array.from(t.rawData).buffer);
    } else {
      data = Float32Array.from(t.floatData ?? []);
    }
    if (data.length !== count) throw new Error(`initializer ${t.name}: ${data.length} values for dims [${shape}]`);
    out.set(t.name, { shape, data });
  }
  return out;
}

/** The initializer name prefix OnnxGraphBuilder gives parameter `name`. */
export function initializerPrefix(name: string): string {
  return name.replace(/[^a-zA-Z0-9_]/g, '_');
}

/**
 * Every parameter in `shapes` from the initializer named `<prefix>_<n>` with exactly that shape. Throws when one
 * is missing, ambiguous or shaped differently: a file of another layout must not load silently.
 */
export function paramsFromInitializers(
  initializers: ReadonlyMap<string, NamedArray>,
  shapes: Readonly<Record<string, number[]>>,
): Record<string, NamedArray> {
  const out: Record<string, NamedArray> = {};
  for (const [name, shape] of Object.entries(shapes)) {
    const pattern = new RegExp(`^${initializerPrefix(name)}_\\d+$`);
    const matches = [...initializers.entries()].filter(([k]) => pattern.test(k));
    if (matches.length !== 1) throw new Error(`parameter ${name}: ${matches.length} initializers match ${pattern}`);
    const [key, value] = matches[0]!;
    if (value.shape.join('x') !== shape.join('x')) {
      throw new Error(`parameter ${name}: initializer ${key} has shape [${value.shape}], expected [${shape}]`);
    }
    out[name] = { shape: value.shape.slice(), data: Float32Array.from(value.data) };
  }
  return out;
}
