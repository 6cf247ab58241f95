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
  if (fastBatchNorm.enabled) return batchNormTrainFast(x, gamma as tf.Tensor1D, beta as tf.Tensor1D, collect, name);
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

/** Switch for the hand-differentiated training BatchNorm; tests turn it off to get the autodiff reference. */
export const fastBatchNorm = { enabled: true };

// The batch moments leave the custom-gradient scope through here (only when a caller collects them).
let momentsSink: { mean: tf.Tensor1D; variance: tf.Tensor1D } | undefined;
let wantMoments = false;

/**
 * Training-mode BN with its analytic gradient: with x̂ = (x − μ)·r, r = 1/√(σ² + ε), s = γ·r,
 *   dβ = Σ dy,  dγ = r·Σ dy·(x − μ),  dx = s·dy − (s·r·dγ/N)·(x − μ) − s·dβ/N.
 * Autodiff through the moment computations instead costs ~10 full-size [N, C] kernels and [N, C] ones/outer
 * products; here the backward pass is five full-size kernels and two column sums (fast on wasm, wasm-fast-kernels).
 */
const batchNormTrainKernel = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, gamma, beta, save] = args as [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D, tf.GradSaveFunc];
  const n = x.shape[0];
  const mean = tf.mul(tf.sum(x, 0), 1 / n) as tf.Tensor1D;
  const centred = tf.sub(x, mean);
  const variance = tf.mul(tf.sum(tf.square(centred), 0), 1 / n) as tf.Tensor1D;
  const rstd = tf.rsqrt(tf.add(variance, BN_EPS));
  const scale = tf.mul(gamma, rstd);
  if (wantMoments) momentsSink = { mean: tf.keep(mean), variance: tf.keep(variance) };
  save([centred, rstd, scale]);
  return {
    value: tf.add(tf.mul(centred, scale), beta) as tf.Tensor2D,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] => {
      const [c, r, s] = saved as [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D];
      const dBeta = tf.sum(dy, 0);
      const dGamma = tf.mul(tf.sum(tf.mul(dy, c), 0), r);
      const u = tf.mul(s, tf.mul(r, tf.mul(dGamma, 1 / n)));
      const v = tf.mul(s, tf.mul(dBeta, 1 / n));
      const dx = tf.sub(tf.sub(tf.mul(dy, s), tf.mul(c, u)), v);
      return [dx, dGamma, dBeta];
    },
  };
}) as (x: tf.Tensor2D, gamma: tf.Tensor1D, beta: tf.Tensor1D) => tf.Tensor2D;

function batchNormTrainFast(
  x: tf.Tensor2D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  collect: BatchStats[] | undefined,
  name: string,
): tf.Tensor2D {
  wantMoments = collect !== undefined;
  momentsSink = undefined;
  try {
    const y = batchNormTrainKernel(x, gamma, beta);
    if (collect !== undefined && momentsSink !== undefined) {
      const { mean, variance } = momentsSink;
      collect.push({ name, mean, variance, count: x.shape[0] });
    }
    return y;
  } finally {
    wantMoments = false;
    momentsSink = undefined;
  }
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
