/**
 * Per-stream model state and the gather/scatter that moves it along a tensor's "batch" axis. A tensor whose shape
 * has the batch axis at position a is viewed as [outer, batch, inner] with outer = Π shape[<a], inner = Π shape[>a];
 * one stream's slice is outer × inner values. Pure array code: no ORT types here.
 */
import type { ModelManifest, TensorSpec } from './model-manifest.ts';

export type Shape = TensorSpec['shape'];

export interface BatchLayout {
  outer: number;
  inner: number;
  /** Values per stream (outer × inner). */
  perItem: number;
}

export function batchLayout(shape: Shape): BatchLayout {
  const axis = shape.indexOf('batch');
  if (axis < 0) throw new RangeError('shape has no "batch" axis');
  const product = (dims: Shape): number => dims.reduce<number>((acc, d) => acc * (d === 'batch' ? 1 : d), 1);
  const outer = product(shape.slice(0, axis));
  const inner = product(shape.slice(axis + 1));
  return { outer, inner, perItem: outer * inner };
}

export function concreteDims(shape: Shape, batch: number): number[] {
  return shape.map((d) => (d === 'batch' ? batch : d));
}

/** Copies each item's slice into `out` (at least batch × perItem long) in batched layout; returns the used view. */
export function gather(layout: BatchLayout, items: readonly Float32Array[], out: Float32Array): Float32Array {
  const batch = items.length;
  const { outer, inner } = layout;
  for (let b = 0; b < batch; b++) {
    const item = items[b]!;
    if (item.length !== layout.perItem) throw new RangeError(`item ${b} has ${item.length} values, need ${layout.perItem}`);
    for (let o = 0; o < outer; o++) out.set(item.subarray(o * inner, (o + 1) * inner), (o * batch + b) * inner);
  }
  return out.subarray(0, batch * layout.perItem);
}

/** Inverse of gather: copies item b's slice of `batched` into `targets[b]`. */
export function scatter(layout: BatchLayout, batched: Float32Array, targets: readonly Float32Array[]): void {
  const batch = targets.length;
  const { outer, inner } = layout;
  if (batched.length !== batch * layout.perItem) {
    throw new RangeError(`batched tensor has ${batched.length} values, need ${batch * layout.perItem}`);
  }
  for (let b = 0; b < batch; b++) {
    const target = targets[b]!;
    for (let o = 0; o < outer; o++) target.set(batched.subarray((o * batch + b) * inner, (o * batch + b + 1) * inner), o * inner);
  }
}

/** Item b's slice of `batched`: a view when outer = 1 (no copy on the hot path), else a copy. */
export function sliceItem(layout: BatchLayout, batched: Float32Array, batch: number, b: number): Float32Array {
  const { outer, inner } = layout;
  if (outer === 1) return batched.subarray(b * inner, (b + 1) * inner);
  const out = new Float32Array(layout.perItem);
  for (let o = 0; o < outer; o++) out.set(batched.subarray((o * batch + b) * inner, (o * batch + b + 1) * inner), o * inner);
  return out;
}

/** One stream's recurrent state: one array per state tensor, zeros at stream start (manifest contract). */
export class RecurrentState {
  readonly values: Float32Array[];

  constructor(io: ModelManifest['io']) {
    this.values = io.state.map((s) => new Float32Array(batchLayout(s.shape).perItem));
  }

  reset(): void {
    for (const v of this.values) v.fill(0);
  }
}
