/**
 * A randomly initialised (untrained) small model exported exactly like a trained one, so the server and its tests
 * have a real ONNX model + manifest + golden vectors to load before any training has finished.
 */
import type { ModelManifest } from '../../server/inference/model-manifest.ts';
import { initBackend } from '../backend.ts';
import { binsBelow, type ModelConfig } from '../model/config.ts';
import { createModel } from '../model/model.ts';
import { exportModel } from './write-model.ts';

export interface RandomModelOptions {
  arch: 'lstm' | 'unet';
  hiddenSize?: number;
  layers?: number;
  seed?: number;
  name?: string;
  nFft?: number;
  hopSamples?: number;
}

export function smallConfig(opts: RandomModelOptions): ModelConfig {
  const nFft = opts.nFft ?? 1024;
  const hopSamples = opts.hopSamples ?? 256;
  const common = {
    sampleRateHz: 44100,
    stft: { nFft, hopSamples, window: 'sqrt-hann' as const },
    channels: 2 as const,
    bins: nFft / 2 + 1,
    cropBins: binsBelow(16000, 44100, nFft),
  };
  if (opts.arch === 'lstm') return { ...common, arch: 'lstm', hiddenSize: opts.hiddenSize ?? 16, layers: opts.layers ?? 2 };
  return { ...common, cropBins: 8 * Math.floor(common.cropBins / 8), arch: 'unet', contextFrames: 8, encoderChannels: [4, 6, 8], asppDilations: [1, 2, 4] };
}

/** Exports an untrained model to `outDir` (model.onnx, manifest.json, golden/). Uses whichever tfjs backend loads. */
export async function exportRandomModel(opts: RandomModelOptions, outDir: string): Promise<ModelManifest> {
  await initBackend();
  const cfg = smallConfig(opts);
  const model = createModel(cfg, opts.seed ?? 1);
  try {
    return await exportModel(
      {
        model,
        name: opts.name ?? `random-${opts.arch}`,
        description: `UNTRAINED randomly initialised ${opts.arch} (seed ${opts.seed ?? 1}) for tests: outputs are not separations`,
        training: { untrained: true, seed: opts.seed ?? 1 },
      },
      outDir,
    );
  } finally {
    model.dispose();
  }
}
