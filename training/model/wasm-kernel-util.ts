/**
 * Minimal typing of the tfjs wasm backend internals that the custom kernels here use, plus a way to run stock wasm
 * kernels from inside a custom kernel without a trip through the engine (no tape, no tensor bookkeeping: the caller
 * frees what it allocates with `free`).
 */
import * as tf from '@tensorflow/tfjs';

export interface TensorInfoLike {
  dataId: object;
  shape: number[];
  dtype: tf.DataType;
}

export interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfoLike;
  typedArrayFromHeap(t: TensorInfoLike): Float32Array | Int32Array | Uint8Array;
  disposeData(dataId: object, force?: boolean): boolean;
}

type RawKernel = (args: { inputs: Record<string, TensorInfoLike>; attrs: tf.NamedAttrMap; backend: WasmBackendLike }) =>
  TensorInfoLike;

/** A stock wasm kernel callable as fn(backend, inputs, attrs); its output must be freed with `free`. */
export function rawWasmKernel(
  name: string,
): (backend: WasmBackendLike, inputs: Record<string, TensorInfoLike>, attrs?: tf.NamedAttrMap) => TensorInfoLike {
  const kernel = tf.getKernel(name, 'wasm');
  if (kernel === undefined) throw new Error(`wasm kernel ${name} is not registered`);
  const fn = kernel.kernelFunc as unknown as RawKernel;
  return (backend, inputs, attrs = {}) => fn({ inputs, attrs, backend });
}

export function free(backend: WasmBackendLike, t: TensorInfoLike): void {
  backend.disposeData(t.dataId, true);
}

/**
 * Float32 view of a tensor's wasm heap memory. Any allocation (makeOutput, a stock kernel) may grow the heap and
 * detach earlier views, so take views after the last allocation of a phase.
 */
export function heapF32(backend: WasmBackendLike, t: TensorInfoLike): Float32Array {
  const v = backend.typedArrayFromHeap(t);
  if (!(v instanceof Float32Array)) throw new Error(`expected a float32 tensor, got ${t.dtype}`);
  return v;
}

export function registerWasmKernel(kernelName: string, kernelFunc: (args: {
  inputs: Record<string, TensorInfoLike>;
  attrs: tf.NamedAttrMap;
  backend: WasmBackendLike;
}) => TensorInfoLike | TensorInfoLike[]): void {
  if (tf.getKernel(kernelName, 'wasm') !== undefined) tf.unregisterKernel(kernelName, 'wasm');
  tf.registerKernel({
    kernelName,
    backendName: 'wasm',
    kernelFunc: (({ inputs, attrs = {}, backend }) =>
      kernelFunc({
        inputs: inputs as unknown as Record<string, TensorInfoLike>,
        attrs,
        backend: backend as unknown as WasmBackendLike,
      })) as tf.KernelFunc,
  });
}
