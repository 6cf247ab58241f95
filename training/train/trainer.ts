/**
 * One optimisation step and one validation pass on prepared batches: forward, losses, gradients, clipped Adam
 * update, BatchNorm running statistics. Every tensor created here is disposed before returning (numTensors stays
 * flat across steps — tested).
 */
import * as tf from '@tensorflow/tfjs';
import { needsTimeDomain, separationLoss, TfIstft, totalLoss, vadLoss, type SeparationLossKind, type SeparationTargets } from '../losses.ts';
import { updateRunningStats, type BatchStats } from '../model/batchnorm.ts';
import type { SeparationModel } from '../model/model.ts';
import { Adam } from './adam.ts';
import type { BatchData } from './batch.ts';

export interface StepLosses {
  total: number;
  sep: number;
  vad: number;
}

export interface TrainerOptions {
  loss: SeparationLossKind;
  /** 1 − α: weight of the VAD loss. */
  vadWeight: number;
  /** Class-balanced VAD loss (per-batch voiced fraction). */
  vadBalanced?: boolean;
  lr: number;
  clipNorm: number;
  bnMomentum?: number;
  /** Train only parameters whose names start with one of these (e.g. ['vad.'] for the VAD head); default all. */
  trainOnly?: string[];
}

function targetsOf(d: BatchData): { targets: SeparationTargets; labels: tf.Tensor2D } {
  const shape: [number, number, number, number] = [d.batch, d.frames, 2, d.bins];
  const targets: SeparationTargets = {
    mixMag: tf.tensor4d(d.mixMag, shape),
    vocMag: tf.tensor4d(d.vocMag, shape),
    accMag: tf.tensor4d(d.accMag, shape),
  };
  if (d.mixRe !== undefined && d.mixIm !== undefined && d.vocTime !== undefined && d.accTime !== undefined) {
    const samples = d.vocTime.length / (d.batch * 2);
    targets.mixRe = tf.tensor4d(d.mixRe, shape);
    targets.mixIm = tf.tensor4d(d.mixIm, shape);
    targets.vocTime = tf.tensor3d(d.vocTime, [d.batch, 2, samples]);
    targets.accTime = tf.tensor3d(d.accTime, [d.batch, 2, samples]);
  }
  return { targets, labels: tf.tensor2d(d.vad, [d.batch, d.frames]) };
}

function voicedFraction(labels: Float32Array): number {
  let sum = 0;
  for (const v of labels) sum += v;
  return sum / Math.max(1, labels.length);
}

export interface ReplicaGradients {
  grads: Map<string, tf.Tensor>;
  losses: StepLosses;
  stats: BatchStats[];
}

export class Trainer {
  readonly optimizer: Adam;
  private readonly istft: TfIstft | undefined;

  constructor(
    readonly model: SeparationModel,
    readonly options: TrainerOptions,
  ) {
    this.optimizer = new Adam(model.params.trainable, options.lr);
    const stft = model.cfg.stft;
    this.istft = needsTimeDomain(options.loss) ? new TfIstft(stft) : undefined;
  }

  get timeDomain(): boolean {
    return this.istft !== undefined;
  }

  private losses(d: BatchData, training: boolean, stats?: BatchStats[]): { total: tf.Scalar; sep: tf.Scalar; vad: tf.Scalar } {
    const { targets, labels } = targetsOf(d);
    const out = this.model.forward(targets.mixMag, { training, ...(stats ? { collectStats: stats } : {}) });
    const sep = separationLoss(this.options.loss, out.mask, targets, this.istft);
    const vad = vadLoss(out.vadLogit, labels, this.options.vadBalanced === true ? voicedFraction(d.vad) : undefined);
    return { total: totalLoss(sep, vad, this.options.vadWeight), sep, vad };
  }

  /**
   * Loss gradients on `d` without touching the weights: what one data-parallel replica contributes. The caller owns
   * (and must dispose) the gradients and the BatchNorm batch moments.
   */
  computeGradients(d: BatchData): ReplicaGradients {
    const stats: BatchStats[] = [];
    let sepT: tf.Scalar | undefined;
    let vadT: tf.Scalar | undefined;
    const vars = this.gradientNames().map((n) => this.model.params.trainable.get(n)!);
    const { value, grads } = tf.variableGrads(() => {
      const l = this.losses(d, true, stats);
      sepT = tf.keep(l.sep);
      vadT = tf.keep(l.vad);
      return l.total;
    }, vars);
    const named = new Map<string, tf.Tensor>();
    for (const [name, v] of this.model.params.trainable) {
      const g = grads[v.name];
      if (g !== undefined) named.set(name, g);
    }
    const losses = { total: value.dataSync()[0]!, sep: sepT!.dataSync()[0]!, vad: vadT!.dataSync()[0]! };
    tf.dispose([value, sepT!, vadT!]);
    return { grads: named, losses, stats };
  }

  /** Names of the parameters this trainer updates (all trainable ones unless `trainOnly` narrows them). */
  gradientNames(): string[] {
    const prefixes = this.options.trainOnly;
    const names = [...this.model.params.trainable.keys()];
    return prefixes === undefined || prefixes.length === 0 ? names : names.filter((n) => prefixes.some((p) => n.startsWith(p)));
  }

  /** Clipped Adam update from (averaged) gradients, then the BN running statistics; disposes both. */
  applyGradients(grads: Map<string, tf.Tensor>, stats: BatchStats[]): void {
    this.optimizer.apply(grads, this.options.clipNorm);
    updateRunningStats(this.model.params, stats, this.options.bnMomentum ?? 0.1);
    tf.dispose([...grads.values()]);
  }

  /** One Adam step on `d`; returns the losses before the update. */
  step(d: BatchData): StepLosses {
    const { grads, losses, stats } = this.computeGradients(d);
    this.applyGradients(grads, stats);
    return losses;
  }

  /** Inference-mode losses (BN running statistics), no update. */
  evaluate(d: BatchData): StepLosses {
    return tf.tidy(() => {
      const l = this.losses(d, false);
      return { total: l.total.dataSync()[0]!, sep: l.sep.dataSync()[0]!, vad: l.vad.dataSync()[0]! };
    });
  }

  dispose(): void {
    this.optimizer.dispose();
    this.istft?.dispose();
  }
}
