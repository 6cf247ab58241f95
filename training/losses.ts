/**
 * Training losses (seeds 000, 002, 004). All take the vocals mask M over the mixture magnitude |X|; the
 * accompaniment estimate is (1 − M)·|X|, so every separation loss scores both targets.
 *
 *   mse / l1  on masked magnitudes (raw FFT scale, as the model input)
 *   dual      0.9·L_mag(mse) + 0.1·L_time, time signal by a tfjs ISTFT identical to OlaSynthesizer
 *   sisnr     −SI-SNR (dB) of the ISTFT time signals
 *   total     α·L_sep + (1 − α)·L_vad with L_vad the per-frame binary cross-entropy
 */
import * as tf from '@tensorflow/tfjs';
import type { StftConfig } from '../server/dsp/stft.ts';
import { synthesisWindow } from '../server/dsp/stft.ts';

export type SeparationLossKind = 'mse' | 'l1' | 'dual' | 'sisnr';

export const SEPARATION_LOSSES: readonly SeparationLossKind[] = ['mse', 'l1', 'dual', 'sisnr'];

export function needsTimeDomain(kind: SeparationLossKind): boolean {
  return kind === 'dual' || kind === 'sisnr';
}

/**
 * Overlap-add inverse STFT as tensors, numerically the same as OlaSynthesizer: per frame an inverse real DFT
 * (a [2·bins, nFft] basis matrix, synthesis window folded in), then frame k's j-th hop is added to output hop k + j.
 * Output hop k is what OlaSynthesizer returns after frame k: input delayed by nFft − hop samples.
 */
export class TfIstft {
  readonly basis: tf.Tensor2D;
  readonly nFft: number;
  readonly hopSamples: number;
  readonly bins: number;

  constructor(cfg: StftConfig) {
    if (cfg.nFft % cfg.hopSamples !== 0) throw new RangeError('TfIstft needs nFft to be a multiple of hopSamples');
    this.nFft = cfg.nFft;
    this.hopSamples = cfg.hopSamples;
    this.bins = cfg.nFft / 2 + 1;
    const N = cfg.nFft;
    const win = synthesisWindow(cfg);
    const data = new Float32Array(2 * this.bins * N);
    for (let k = 0; k < this.bins; k++) {
      const weight = k === 0 || k === N / 2 ? 1 / N : 2 / N;
      for (let n = 0; n < N; n++) {
        // Reduce k·n mod N first: exact phase for large products.
        const phase = (2 * Math.PI * ((k * n) % N)) / N;
        data[k * N + n] = weight * Math.cos(phase) * win[n]!;
        data[(this.bins + k) * N + n] = -weight * Math.sin(phase) * win[n]!;
      }
    }
    this.basis = tf.keep(tf.tensor2d(data, [2 * this.bins, N]));
  }

  /** re, im [S, T, bins] (S independent signals) → time [S, T·hop]. */
  apply(re: tf.Tensor3D, im: tf.Tensor3D): tf.Tensor2D {
    const [S, T] = re.shape;
    const hop = this.hopSamples;
    const parts = this.nFft / hop;
    const frames = tf.matMul(tf.reshape(tf.concat([re, im], 2), [S * T, 2 * this.bins]), this.basis);
    const chunks = tf.reshape(frames, [S, T, parts, hop]);
    let sum: tf.Tensor3D | undefined;
    for (let j = 0; j < parts; j++) {
      const part = tf.reshape(tf.slice(chunks, [0, 0, j, 0], [S, T - j, 1, hop]), [S, T - j, hop]);
      const shifted = j === 0 ? part : tf.concat([tf.zeros([S, j, hop]), part], 1);
      sum = (sum === undefined ? shifted : tf.add(sum, shifted)) as tf.Tensor3D;
    }
    return tf.reshape(sum!, [S, T * hop]);
  }

  dispose(): void {
    this.basis.dispose();
  }
}

export interface SeparationTargets {
  /** [B, T, 2, bins] magnitudes. */
  mixMag: tf.Tensor4D;
  vocMag: tf.Tensor4D;
  accMag: tf.Tensor4D;
  /** Mixture STFT, [B, T, 2, bins]; needed by the time-domain losses. */
  mixRe?: tf.Tensor4D;
  mixIm?: tf.Tensor4D;
  /** Targets delayed by nFft − hop (what the ISTFT of a perfect mask returns), [B, 2, T·hop]. */
  vocTime?: tf.Tensor3D;
  accTime?: tf.Tensor3D;
}

/** Switch for the hand-differentiated MSE magnitude loss; tests turn it off to get the autodiff reference. */
export const fastMseLoss = { enabled: true };

/**
 * ½·(mean((M·X − V)²) + mean((X − M·X − A)²)) with its gradient in M written out, X·(e_voc − e_acc)/N: autodiff
 * through the two means and squared differences runs ~15 full-size kernels (ones, divisions, doublings) where this
 * needs three. The targets are data, so only the mask gets a gradient.
 */
function mseMagnitudeLoss(mask: tf.Tensor4D, t: SeparationTargets): tf.Scalar {
  const n = mask.size;
  const loss = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [m, save] = args as [tf.Tensor4D, tf.GradSaveFunc];
    const vocEst = tf.mul(m, t.mixMag);
    const vocErr = tf.sub(vocEst, t.vocMag);
    const accErr = tf.sub(tf.sub(t.mixMag, vocEst), t.accMag);
    // The targets die with the forward scope; the gradient needs X, so it is saved (kept) like the errors.
    save([vocErr, accErr, t.mixMag]);
    return {
      value: tf.mul(tf.add(tf.sum(tf.square(vocErr)), tf.sum(tf.square(accErr))), 0.5 / n) as tf.Scalar,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor => {
        const [ev, ea, mix] = saved as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
        return tf.mul(tf.sub(ev, ea), tf.mul(mix, tf.mul(dy, 1 / n)));
      },
    };
  }) as (m: tf.Tensor4D) => tf.Scalar;
  return loss(mask);
}

function magnitudeLoss(kind: 'mse' | 'l1', mask: tf.Tensor4D, t: SeparationTargets): tf.Scalar {
  if (kind === 'mse' && fastMseLoss.enabled) return mseMagnitudeLoss(mask, t);
  const vocEst = tf.mul(mask, t.mixMag);
  const accEst = tf.sub(t.mixMag, vocEst);
  const err = (a: tf.Tensor, b: tf.Tensor): tf.Scalar =>
    kind === 'mse' ? tf.mean(tf.squaredDifference(a, b)) : tf.mean(tf.abs(tf.sub(a, b)));
  return tf.mul(0.5, tf.add(err(vocEst, t.vocMag), err(accEst, t.accMag)));
}

/** Masked mixture STFT → time signals [B, 2, T·hop] for vocals and accompaniment. */
function timeEstimates(mask: tf.Tensor4D, t: SeparationTargets, istft: TfIstft): { voc: tf.Tensor3D; acc: tf.Tensor3D } {
  if (t.mixRe === undefined || t.mixIm === undefined) throw new Error('time-domain loss needs the mixture STFT');
  const [B, T, C, F] = mask.shape;
  // [B, T, 2, bins] → [B·2, T, bins]: one signal per (example, channel).
  const toSignals = (x: tf.Tensor4D): tf.Tensor3D => tf.reshape(tf.transpose(x, [0, 2, 1, 3]), [B * C, T, F]);
  const re = toSignals(t.mixRe);
  const im = toSignals(t.mixIm);
  const m = toSignals(mask);
  const voc = istft.apply(tf.mul(m, re), tf.mul(m, im));
  const mix = istft.apply(re, im);
  return { voc: tf.reshape(voc, [B, C, T * istft.hopSamples]), acc: tf.reshape(tf.sub(mix, voc), [B, C, T * istft.hopSamples]) };
}

/** −SI-SNR in dB averaged over examples and channels; eps keeps silent targets finite. */
export function negSiSnr(estimate: tf.Tensor3D, target: tf.Tensor3D, eps = 1e-8): tf.Scalar {
  const dot = tf.sum(tf.mul(estimate, target), 2, true);
  const energy = tf.add(tf.sum(tf.square(target), 2, true), eps);
  const projection = tf.mul(tf.div(dot, energy), target);
  const noise = tf.sub(estimate, projection);
  const ratio = tf.div(tf.add(tf.sum(tf.square(projection), 2), eps), tf.add(tf.sum(tf.square(noise), 2), eps));
  return tf.neg(tf.mean(tf.mul(10 / Math.LN10, tf.log(ratio)))) as tf.Scalar;
}

export function separationLoss(kind: SeparationLossKind, mask: tf.Tensor4D, t: SeparationTargets, istft?: TfIstft): tf.Scalar {
  if (kind === 'mse' || kind === 'l1') return magnitudeLoss(kind, mask, t);
  if (istft === undefined || t.vocTime === undefined || t.accTime === undefined) {
    throw new Error(`${kind} loss needs the ISTFT and time-domain targets`);
  }
  const est = timeEstimates(mask, t, istft);
  if (kind === 'sisnr') return tf.mul(0.5, tf.add(negSiSnr(est.voc, t.vocTime), negSiSnr(est.acc, t.accTime)));
  // Parseval: a per-bin squared magnitude error is ≈ nFft/2 × the per-sample squared error of the windowed
  // frame, so scaling the time MSE by nFft/2 puts L_time on L_mag's scale and the 0.9/0.1 weights mean what they say.
  const timeScale = istft.nFft / 2;
  const lTime = tf.mul(
    0.5 * timeScale,
    tf.add(tf.mean(tf.squaredDifference(est.voc, t.vocTime)), tf.mean(tf.squaredDifference(est.acc, t.accTime))),
  );
  return tf.add(tf.mul(0.9, magnitudeLoss('mse', mask, t)), tf.mul(0.1, lTime)) as tf.Scalar;
}

/** Mean binary cross-entropy of per-frame VAD logits against 0/1 labels (numerically stable form). */
export function vadLoss(logits: tf.Tensor2D, labels: tf.Tensor2D, voicedFraction?: number): tf.Scalar {
  if (voicedFraction === undefined) return tf.losses.sigmoidCrossEntropy(labels, logits) as unknown as tf.Scalar;
  // Class-balanced: songs are mostly sung, so plain BCE learns "always on" (the flag never switched off in
  // instrumental intros and endings). Weights 0.5/p for voiced and 0.5/(1 − p) for unvoiced frames average to 1.
  const p = Math.min(0.95, Math.max(0.05, voicedFraction));
  const weights = tf.add(tf.mul(labels, 0.5 / p - 0.5 / (1 - p)), 0.5 / (1 - p));
  const perFrame = tf.losses.sigmoidCrossEntropy(labels, logits, undefined, 0, tf.Reduction.NONE);
  return tf.mean(tf.mul(weights, perFrame));
}

/** α·L_sep + (1 − α)·L_vad with α = 1 − vadWeight. */
export function totalLoss(sep: tf.Scalar, vad: tf.Scalar, vadWeight: number): tf.Scalar {
  return tf.add(tf.mul(1 - vadWeight, sep), tf.mul(vadWeight, vad));
}
