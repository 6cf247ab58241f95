/**
 * Faster Slice / Unpack / SplitV kernels for the wasm backend.
 *
 * tfjs-backend-wasm 4.22's Slice starts with `backend.readSync(x)`, which copies the WHOLE input out of the wasm heap
 * for every slice. Unstacking a [T, B, 4H] LSTM input projection into T steps thus copies T × the tensor (812 ms of a
 * 1.6 s forward pass at T = 256); Unpack and SplitV call that same slice. These versions read through a heap view
 * (taken after the output is allocated, since allocation may grow and detach the heap) and copy only the slice.
 */
import * as tf from '@tensorflow/tfjs';

interface TensorInfoLike {
  dataId: object;
  shape: number[];
  dtype: tf.DataType;
}

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfoLike;
  typedArrayFromHeap(t: TensorInfoLike): Float32Array | Int32Array | Uint8Array;
}

function sliceInto(backend: WasmBackendLike, x: TensorInfoLike, begin: number[], size: number[]): TensorInfoLike {
  const out = backend.makeOutput(size, x.dtype);
  const total = size.reduce((a, b) => a * b, 1);
  if (total === 0) return out;
  const xVals = backend.typedArrayFromHeap(x);
  const outVals = backend.typedArrayFromHeap(out);
  const rank = x.shape.length;
  const strides = new Array<number>(rank);
  let stride = 1;
  for (let d = rank - 1; d >= 0; d--) {
    strides[d] = stride;
    stride *= x.shape[d]!;
  }
  // Collapse to copies of contiguous runs: the innermost dimensions that are taken whole are contiguous.
  let inner = rank - 1;
  let run = size[inner]!;
  while (inner > 0 && size[inner] === x.shape[inner] && begin[inner] === 0) {
    inner--;
    run *= size[inner]!;
  }
  const outer = total / run;
  const index = new Array<number>(inner).fill(0);
  let outOffset = 0;
  for (let n = 0; n < outer; n++) {
    let offset = begin[inner]! * strides[inner]!;
    for (let d = 0; d < inner; d++) offset += (begin[d]! + index[d]!) * strides[d]!;
    outVals.set(xVals.subarray(offset, offset + run), outOffset);
    outOffset += run;
    for (let d = inner - 1; d >= 0; d--) {
      if (++index[d]! < size[d]!) break;
      index[d] = 0;
    }
  }
  return out;
}

let installed = false;

export function installFastWasmSlices(): void {
  if (installed || tf.getBackend() !== 'wasm') return;
  installed = true;
  const replace = (kernelName: string, kernelFunc: tf.KernelFunc): void => {
    tf.unregisterKernel(kernelName, 'wasm');
    tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc });
  };
  replace(tf.Slice, ({ inputs, attrs = {}, backend }) => {
    const x = inputs['x'] as unknown as TensorInfoLike;
    if (x.dtype === 'string') throw new Error('fast wasm slice: string tensors are not supported');
    const [begin, size] = tf.slice_util.parseSliceParams(
      x as unknown as tf.TensorInfo,
      attrs['begin'] as number[],
      attrs['size'] as number[],
    ) as [number[], number[]];
    return sliceInto(backend as unknown as WasmBackendLike, x, begin, size) as unknown as tf.TensorInfo;
  });
  replace(tf.Unpack, ({ inputs, attrs = {}, backend }) => {
    const x = inputs['value'] as unknown as TensorInfoLike;
    let axis = attrs['axis'] as number;
    if (axis < 0) axis += x.shape.length;
    const outShape = x.shape.filter((_, i) => i !== axis);
    const begin = new Array<number>(x.shape.length).fill(0);
    const size = x.shape.slice();
    size[axis] = 1;
    const outs: tf.TensorInfo[] = [];
    for (let i = 0; i < x.shape[axis]!; i++) {
      begin[axis] = i;
      const o = sliceInto(backend as unknown as WasmBackendLike, x, begin, size);
      outs.push({ dataId: o.dataId, dtype: o.dtype, shape: outShape });
    }
    return outs;
  });
  replace(tf.SplitV, ({ inputs, attrs = {}, backend }) => {
    const x = inputs['x'] as unknown as TensorInfoLike;
    const axis = tf.util.parseAxisParam(attrs['axis'] as number, x.shape)[0]!;
    const sizes = tf.backend_util.prepareSplitSize(
      x as unknown as tf.Tensor,
      attrs['numOrSizeSplits'] as number[] | number,
      axis,
    );
    const begin = new Array<number>(x.shape.length).fill(0);
    return sizes.map((s) => {
      const size = x.shape.slice();
      size[axis] = s;
      const o = sliceInto(backend as unknown as WasmBackendLike, x, begin, size);
      begin[axis] = begin[axis]! + s;
      return o as unknown as tf.TensorInfo;
    });
  });
}
