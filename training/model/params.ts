/**
 * Named model variables: trainable weights plus non-trainable buffers (BatchNorm running statistics, input
 * standardisation). One store per model; checkpoints, the optimizer and the exporter all address weights by name.
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from './rng.ts';

export interface NamedArray {
  shape: number[];
  data: Float32Array;
}

let variableCounter = 0;

export class ParamStore {
  readonly trainable = new Map<string, tf.Variable>();
  readonly buffers = new Map<string, tf.Variable>();

  add(name: string, init: Float32Array, shape: number[], trainable = true): tf.Variable {
    if (this.trainable.has(name) || this.buffers.has(name)) throw new Error(`duplicate parameter ${name}`);
    const v = tf.variable(tf.tensor(init, shape), trainable, `${name}_${variableCounter++}`);
    (trainable ? this.trainable : this.buffers).set(name, v);
    return v;
  }

  get(name: string): tf.Variable {
    const v = this.trainable.get(name) ?? this.buffers.get(name);
    if (v === undefined) throw new Error(`unknown parameter ${name}`);
    return v;
  }

  /** Synchronous read of a weight (for export and checkpoints). */
  read(name: string): Float32Array {
    return this.get(name).dataSync() as Float32Array;
  }

  /** Number of trainable scalars. */
  trainableCount(): number {
    let n = 0;
    for (const v of this.trainable.values()) n += v.size;
    return n;
  }

  snapshot(): Record<string, NamedArray> {
    const out: Record<string, NamedArray> = {};
    for (const map of [this.trainable, this.buffers]) {
      for (const [name, v] of map) out[name] = { shape: v.shape.slice(), data: Float32Array.from(v.dataSync()) };
    }
    return out;
  }

  load(values: Record<string, NamedArray>): void {
    for (const map of [this.trainable, this.buffers]) {
      for (const [name, v] of map) {
        const src = values[name];
        if (src === undefined) throw new Error(`checkpoint lacks parameter ${name}`);
        if (src.shape.join('x') !== v.shape.join('x')) {
          throw new Error(`parameter ${name}: checkpoint shape [${src.shape}] != model [${v.shape}]`);
        }
        v.assign(tf.tensor(src.data, src.shape));
      }
    }
  }

  /**
   * Warm start: loads every parameter `values` has with this model's shape and leaves the rest at their
   * initialisation (e.g. a new head). Returns which were loaded and which stayed fresh.
   */
  loadMatching(values: Record<string, NamedArray>): { loaded: string[]; fresh: string[] } {
    const loaded: string[] = [];
    const fresh: string[] = [];
    for (const map of [this.trainable, this.buffers]) {
      for (const [name, v] of map) {
        const src = values[name];
        if (src !== undefined && src.shape.join('x') === v.shape.join('x')) {
          v.assign(tf.tensor(src.data, src.shape));
          loaded.push(name);
        } else {
          fresh.push(name);
        }
      }
    }
    return { loaded, fresh };
  }

  dispose(): void {
    for (const map of [this.trainable, this.buffers]) for (const v of map.values()) v.dispose();
    this.trainable.clear();
    this.buffers.clear();
  }
}

/** Glorot-uniform weights for a [fanIn, fanOut] matrix (PyTorch's Linear uses a similar scale). */
export function glorot(rng: Rng, fanIn: number, fanOut: number, count = fanIn * fanOut): Float32Array {
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = rng.uniform(-limit, limit);
  return out;
}

export function filled(count: number, value: number): Float32Array {
  return new Float32Array(count).fill(value);
}
