/**
 * The architecture-independent face of a separation model: whole-sequence forward pass on magnitudes (training and
 * parity checks), its parameters, and its inference cost. Training, export and tests go through this.
 */
import type { BatchStats } from './batchnorm.ts';
import type { ModelConfig } from './config.ts';
import { createLstmParams, lstmForward, lstmMacsPerFrame, type ForwardOutput } from './lstm.ts';
import type { ParamStore } from './params.ts';
import { createUnetParams, unetForward } from './unet.ts';
import { unetMacsPerFrame } from './unet-core.ts';
import * as tf from '@tensorflow/tfjs';

export type { ForwardOutput } from './lstm.ts';

export interface ForwardOptions {
  training: boolean;
  collectStats?: BatchStats[];
}

export interface SeparationModel {
  readonly cfg: ModelConfig;
  readonly params: ParamStore;
  /** mag [B, T, 2, bins] (raw FFT magnitudes, stream start at frame 0) → mask [B, T, 2, bins], vad logits [B, T]. */
  forward(mag: tf.Tensor4D, options: ForwardOptions): ForwardOutput;
  macsPerFrame(): number;
  /**
   * Sets the input standardisation from per-bin statistics of the training mixtures' magnitudes; `statistics`
   * computes mean/std of f(|X|) per cropped bin, channel-major [2·crop], for the f this model standardises.
   */
  setInputStatistics(statistics: (f: (v: number) => number) => { mean: Float32Array; std: Float32Array }): void;
  dispose(): void;
}

/** Open-Unmix: x ← (x − mean) / max(std, 1e-4), stored as (x + inputMean)·inputScale. */
function standardisation(stats: { mean: Float32Array; std: Float32Array }): { mean: Float32Array; scale: Float32Array } {
  return { mean: stats.mean.map((m) => -m), scale: stats.std.map((s) => 1 / Math.max(s, 1e-4)) };
}

export type ModelFactory = (cfg: ModelConfig, seed: number) => SeparationModel;

const factories = new Map<ModelConfig['arch'], ModelFactory>();

export function registerArch(arch: ModelConfig['arch'], factory: ModelFactory): void {
  factories.set(arch, factory);
}

registerArch('lstm', (cfg, seed) => {
  if (cfg.arch !== 'lstm') throw new Error('lstm factory given a non-lstm config');
  const params = createLstmParams(cfg, seed);
  return {
    cfg,
    params,
    forward: (mag, options) => {
      const out = lstmForward(params, cfg, mag, {
        training: options.training,
        ...(options.collectStats ? { collectStats: options.collectStats } : {}),
      });
      return { mask: out.mask, vadLogit: out.vadLogit };
    },
    macsPerFrame: () => lstmMacsPerFrame(cfg),
    setInputStatistics: (statistics) => {
      const s = standardisation(statistics((v) => v));
      params.get('inputMean').assign(tf.tensor1d(s.mean));
      params.get('inputScale').assign(tf.tensor1d(s.scale));
    },
    dispose: () => params.dispose(),
  };
});

registerArch('unet', (cfg, seed) => {
  if (cfg.arch !== 'unet') throw new Error('unet factory given a non-unet config');
  const params = createUnetParams(cfg, seed);
  const F = cfg.cropBins;
  // Channel-major [2·F] → the U-Net's [F, 2] layout.
  const toBinMajor = (a: Float32Array): tf.Tensor2D =>
    tf.tensor2d(Float32Array.from({ length: 2 * F }, (_, i) => a[(i % 2) * F + Math.floor(i / 2)]!), [F, 2]);
  return {
    cfg,
    params,
    forward: (mag) => unetForward(params, cfg, mag),
    macsPerFrame: () => unetMacsPerFrame(cfg),
    setInputStatistics: (statistics) => {
      const s = standardisation(statistics(Math.log1p));
      params.get('inputMean').assign(toBinMajor(s.mean));
      params.get('inputScale').assign(toBinMajor(s.scale));
    },
    dispose: () => params.dispose(),
  };
});

export function createModel(cfg: ModelConfig, seed: number): SeparationModel {
  const factory = factories.get(cfg.arch);
  if (factory === undefined) throw new Error(`unknown architecture ${cfg.arch}`);
  return factory(cfg, seed);
}
