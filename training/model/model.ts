/**
 * The architecture-independent face of a separation model: whole-sequence forward pass on magnitudes (training and
 * parity checks), its parameters, and its inference cost. Training, export and tests go through this.
 */
import type * as tf from '@tensorflow/tfjs';
import type { BatchStats } from './batchnorm.ts';
import type { ModelConfig } from './config.ts';
import { createLstmParams, lstmForward, lstmMacsPerFrame, type ForwardOutput } from './lstm.ts';
import type { ParamStore } from './params.ts';

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
  dispose(): void;
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
    dispose: () => params.dispose(),
  };
});

export function createModel(cfg: ModelConfig, seed: number): SeparationModel {
  const factory = factories.get(cfg.arch);
  if (factory === undefined) throw new Error(`unknown architecture ${cfg.arch}`);
  return factory(cfg, seed);
}
