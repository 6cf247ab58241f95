/**
 * BatchNorm over the feature axis of [N, C] activations (N = batch × frames), PyTorch semantics: batch statistics
 * (biased variance) while training, running statistics (momentum, unbiased variance) at inference, eps 1e-5.
 * Export folds the inference-mode affine map into the preceding fully connected layer.
 */
import * as tf from '@tensorflow/tfjs';
import { filled, type ParamStore } from './params.ts';

export const BN_EPS = 1e-5;

export interface BatchStats {
  name: string;
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
  count: number;
}

export function addBatchNorm(p: ParamStore, name: string, size: number): void {
  p.add(`${name}.gamma`, filled(size, 1), [size]);
  p.add(`${name}.beta`, filled(size, 0), [size]);
  p.add(`${name}.runMean`, filled(size, 0), [size], false);
  p.add(`${name}.runVar`, filled(size, 1), [size], false);
}

/**
 * Normalises x [N, C]. In training mode the batch moments are pushed onto `collect` (kept out of any tidy scope) so
 * the caller can update the running statistics after the gradient step.
 */
export function batchNorm(p: ParamStore, name: string, x: tf.Tensor2D, training: boolean, collect?: BatchStats[]): tf.Tensor2D {
  const gamma = p.get(`${name}.gamma`);
  const beta = p.get(`${name}.beta`);
  if (!training) {
    const scale = tf.div(gamma, tf.sqrt(tf.add(p.get(`${name}.runVar`), BN_EPS)));
    return tf.add(tf.mul(tf.sub(x, p.get(`${name}.runMean`)), scale), beta) as tf.Tensor2D;
  }
  // Column means as a [1, N]·[N, C] product: wasm's Mean over axis 0 transposes first and is ~10× slower.
  const n = x.shape[0];
  const average = tf.fill([1, n], 1 / n);
  const mean = tf.reshape(tf.matMul(average, x), [x.shape[1]]) as tf.Tensor1D;
  const centred = tf.sub(x, mean);
  const variance = tf.reshape(tf.matMul(average, tf.square(centred)), [x.shape[1]]) as tf.Tensor1D;
  if (collect !== undefined) {
    collect.push({
      name,
      mean: tf.keep(tf.clone(mean)) as tf.Tensor1D,
      variance: tf.keep(tf.clone(variance)) as tf.Tensor1D,
      count: x.shape[0],
    });
  }
  const normed = tf.mul(centred, tf.rsqrt(tf.add(variance, BN_EPS)));
  return tf.add(tf.mul(normed, gamma), beta) as tf.Tensor2D;
}

/** running ← (1 − momentum)·running + momentum·batch, with the unbiased batch variance (as PyTorch). Disposes stats. */
export function updateRunningStats(p: ParamStore, stats: BatchStats[], momentum = 0.1): void {
  for (const s of stats) {
    tf.tidy(() => {
      const runMean = p.get(`${s.name}.runMean`);
      const runVar = p.get(`${s.name}.runVar`);
      const unbiased = tf.mul(s.variance, s.count / Math.max(1, s.count - 1));
      runMean.assign(tf.add(tf.mul(runMean, 1 - momentum), tf.mul(s.mean, momentum)));
      runVar.assign(tf.add(tf.mul(runVar, 1 - momentum), tf.mul(unbiased, momentum)));
    });
    s.mean.dispose();
    s.variance.dispose();
  }
}

/**
 * Folds inference-mode BN into y = x·W + b: W' = W·s (per output column), b' = (b − runMean)·s + beta,
 * s = gamma / sqrt(runVar + eps). W is [inSize, outSize] row-major.
 */
export function foldBatchNorm(
  p: ParamStore,
  name: string,
  weight: Float32Array,
  outSize: number,
  bias?: Float32Array,
): { weight: Float32Array; bias: Float32Array } {
  const gamma = p.read(`${name}.gamma`);
  const beta = p.read(`${name}.beta`);
  const runMean = p.read(`${name}.runMean`);
  const runVar = p.read(`${name}.runVar`);
  const scale = new Float64Array(outSize);
  const foldedBias = new Float32Array(outSize);
  for (let j = 0; j < outSize; j++) {
    scale[j] = gamma[j]! / Math.sqrt(runVar[j]! + BN_EPS);
    foldedBias[j] = ((bias?.[j] ?? 0) - runMean[j]!) * scale[j]! + beta[j]!;
  }
  const folded = new Float32Array(weight.length);
  for (let i = 0; i < weight.length; i++) folded[i] = weight[i]! * scale[i % outSize]!;
  return { weight: folded, bias: foldedBias };
}
