/**
 * A faster tfjs-backend-wasm 4.22 Sum for reductions over leading axes (bias and BatchNorm gradients, column means):
 * the stock kernel transposes the whole input first; a column-sum loop over the heap is several times faster.
 *
 * (Sharing buffers in Identity/Cast — the stock ones copy, and the tape clones every saved tensor — was tried and
 * dropped: XNNPACK operator caches in the wasm module are keyed by tensor id, and a shared id reused as a matMul
 * weight under another shape corrupted the heap.)
 */
import * as tf from '@tensorflow/tfjs';
import { heapF32, registerWasmKernel, type WasmBackendLike, type TensorInfoLike } from './wasm-kernel-util.ts';

/** out[c] = Σ_r x[r·cols + c] for a row-major [rows, cols] block, accumulated in double four rows at a time. */
export function columnSums(x: Float32Array, rows: number, cols: number): Float64Array {
  const acc = new Float64Array(cols);
  let r = 0;
  for (; r + 4 <= rows; r += 4) {
    const o0 = r * cols;
    const o1 = o0 + cols;
    const o2 = o1 + cols;
    const o3 = o2 + cols;
    for (let c = 0; c < cols; c++) acc[c] = acc[c]! + x[o0 + c]! + x[o1 + c]! + x[o2 + c]! + x[o3 + c]!;
  }
  for (; r < rows; r++) {
    const o = r * cols;
    for (let c = 0; c < cols; c++) acc[c] = acc[c]! + x[o + c]!;
  }
  return acc;
}

let installed = false;

/** Installs the Sum replacement (call with wasm active). */
export function installFastWasmKernels(): void {
  if (installed || tf.getBackend() !== 'wasm') return;
  installed = true;
  const stockSum = tf.getKernel(tf.Sum, 'wasm')!.kernelFunc;
  const stock = (inputs: Record<string, TensorInfoLike>, attrs: tf.NamedAttrMap, backend: WasmBackendLike): TensorInfoLike =>
    stockSum({ inputs, attrs, backend } as unknown as Parameters<tf.KernelFunc>[0]) as unknown as TensorInfoLike;
  registerWasmKernel(tf.Sum, ({ inputs, attrs, backend }) => {
    const x = inputs['x']!;
    const rank = x.shape.length;
    const axes = tf.util.parseAxisParam(attrs['axis'] as number | number[], x.shape).sort((a, b) => a - b);
    const leading = axes.length > 0 && axes.length < rank && axes.every((a, i) => a === i);
    if (!leading || x.dtype !== 'float32') return stock(inputs, attrs, backend);
    const rows = x.shape.slice(0, axes.length).reduce((a, b) => a * b, 1);
    const kept = x.shape.slice(axes.length);
    const cols = kept.reduce((a, b) => a * b, 1);
    const shape = attrs['keepDims'] === true ? [...axes.map(() => 1), ...kept] : kept;
    const out = backend.makeOutput(shape, 'float32');
    if (cols > 0) heapF32(backend, out).set(columnSums(heapF32(backend, x), rows, cols));
    return out;
  });
}
