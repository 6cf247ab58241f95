/**
 * Adam (PyTorch defaults: β1 0.9, β2 0.999, eps 1e-8, bias-corrected) with global-norm gradient clipping, written
 * out so that its moments and step count are plain named arrays a checkpoint can save and `--resume` restore.
 */
import * as tf from '@tensorflow/tfjs';
import type { NamedArray } from '../model/params.ts';

export interface AdamState {
  step: number;
  m: Record<string, NamedArray>;
  v: Record<string, NamedArray>;
}

export class Adam {
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();
  step = 0;

  constructor(
    private readonly params: Map<string, tf.Variable>,
    public lr: number,
    private readonly beta1 = 0.9,
    private readonly beta2 = 0.999,
    private readonly eps = 1e-8,
  ) {
    for (const [name, p] of params) {
      this.m.set(name, tf.variable(tf.zerosLike(p), false));
      this.v.set(name, tf.variable(tf.zerosLike(p), false));
    }
  }

  /**
   * Applies one update from `grads` (keyed by parameter name), clipping their global L2 norm to `clipNorm`
   * (≤ 0 disables). Returns the norm before clipping. Does not dispose `grads`.
   */
  apply(grads: Map<string, tf.Tensor>, clipNorm: number): number {
    this.step++;
    const norm = tf.tidy(() => {
      const squares = [...grads.values()].map((g) => tf.sum(tf.square(g)));
      return tf.sqrt(tf.addN(squares)).dataSync()[0]!;
    });
    const scale = clipNorm > 0 && norm > clipNorm ? clipNorm / norm : 1;
    const c1 = 1 - this.beta1 ** this.step;
    const c2 = 1 - this.beta2 ** this.step;
    const stepSize = this.lr / c1;
    tf.tidy(() => {
      for (const [name, p] of this.params) {
        const g0 = grads.get(name);
        if (g0 === undefined) continue;
        const g = scale === 1 ? g0 : tf.mul(g0, scale);
        const m = this.m.get(name)!;
        const v = this.v.get(name)!;
        const mNew = tf.add(tf.mul(m, this.beta1), tf.mul(g, 1 - this.beta1));
        const vNew = tf.add(tf.mul(v, this.beta2), tf.mul(tf.square(g), 1 - this.beta2));
        m.assign(mNew);
        v.assign(vNew);
        const denom = tf.add(tf.sqrt(tf.div(vNew, c2)), this.eps);
        p.assign(tf.sub(p, tf.mul(tf.div(mNew, denom), stepSize)));
      }
    });
    return norm;
  }

  getState(): AdamState {
    const dump = (map: Map<string, tf.Variable>): Record<string, NamedArray> =>
      Object.fromEntries([...map].map(([k, t]) => [k, { shape: t.shape.slice(), data: Float32Array.from(t.dataSync()) }]));
    return { step: this.step, m: dump(this.m), v: dump(this.v) };
  }

  setState(state: AdamState): void {
    this.step = state.step;
    // A weights-only checkpoint (e.g. a re-exported model) has no moments: the optimizer starts fresh.
    if (Object.keys(state.m).length === 0 && Object.keys(state.v).length === 0) return;
    for (const [which, map] of [[state.m, this.m], [state.v, this.v]] as const) {
      for (const [name, t] of map) {
        const src = which[name];
        if (src === undefined) throw new Error(`optimizer state lacks ${name}`);
        t.assign(tf.tensor(src.data, src.shape));
      }
    }
  }

  dispose(): void {
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
  }
}
