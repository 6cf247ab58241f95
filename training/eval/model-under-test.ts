/**
 * The model side of an evaluation: finds the model directory, runs tracks through the server's streaming engine
 * (createOfflineSeparator) and pairs its per-hop VAD probabilities with the labels of the same framing.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ModelManifest } from '../../server/inference/model-manifest.ts';
import { createOfflineSeparator, type OfflineSeparator } from '../../server/engine/offline-separator.ts';
import { VAD_AMPLITUDE_THRESHOLD, vocalActivityPerStftFrame } from '../data/vad-labels.ts';
import type { MethodOutput } from './score-track.ts';
import { flagSettingsOf } from '../../server/pipeline/vad-smoother.ts';

const MODELS_DIR = fileURLToPath(new URL('../../models/', import.meta.url));

export class ModelNotFoundError extends Error {
  override readonly name = 'ModelLoadError';
}

/** `nameOrPath` is a model directory (with manifest.json) or a name under models/; default: the server's default. */
export function resolveModelDir(nameOrPath: string | undefined): string {
  const wanted = nameOrPath ?? process.env['LIVESTEM_DEFAULT_MODEL'] ?? 'lstm';
  const asPath = resolve(wanted);
  if (existsSync(join(asPath, 'manifest.json'))) return asPath;
  const named = join(MODELS_DIR, wanted);
  if (existsSync(join(named, 'manifest.json'))) return named;
  const available = existsSync(MODELS_DIR)
    ? readdirSync(MODELS_DIR).filter((d) => existsSync(join(MODELS_DIR, d, 'manifest.json')))
    : [];
  throw new ModelNotFoundError(
    `no model "${wanted}" (neither a directory with manifest.json nor models/${wanted}); ` +
      `available: ${available.length > 0 ? available.join(', ') : 'none'} — or run with --baselines-only`,
  );
}

/**
 * VAD labels on the model's hop grid expressed at the track's rate: label k covers track samples
 * [round(k·h), round((k+1)·h)) with h = hop · trackRate / modelRate (exactly vocalActivityPerStftFrame when equal).
 */
export function labelsOnModelHops(vocals: Float32Array[], manifest: ModelManifest, sampleRateHz: number): Uint8Array {
  if (sampleRateHz === manifest.sampleRateHz) return vocalActivityPerStftFrame(vocals, manifest.stft);
  const h = (manifest.stft.hopSamples * sampleRateHz) / manifest.sampleRateHz;
  const length = vocals[0]?.length ?? 0;
  const frames = Math.floor(length / h);
  const labels = new Uint8Array(frames);
  for (let k = 0; k < frames; k++) {
    const start = Math.round(k * h);
    const end = Math.max(start + 1, Math.round((k + 1) * h));
    let sum = 0;
    for (const ch of vocals) for (let i = start; i < end; i++) sum += Math.abs(ch[i] ?? 0);
    labels[k] = sum / ((end - start) * vocals.length) > VAD_AMPLITUDE_THRESHOLD ? 1 : 0;
  }
  return labels;
}

export interface ModelUnderTest {
  manifest: ModelManifest;
  dir: string;
  separate(mixture: Float32Array[], trueVocals: Float32Array[], sampleRateHz: number): Promise<MethodOutput>;
  close(): Promise<void>;
}

export async function loadModelUnderTest(nameOrPath: string | undefined): Promise<ModelUnderTest> {
  const dir = resolveModelDir(nameOrPath);
  const separator: OfflineSeparator = await createOfflineSeparator(dir);
  const { manifest } = separator;
  return {
    manifest,
    dir,
    async separate(mixture, trueVocals, sampleRateHz) {
      const out = await separator.separate(mixture, sampleRateHz);
      return {
        vocals: out.vocals,
        accompaniment: out.accompaniment,
        vad: {
          probabilities: out.vadProb,
          labels: labelsOnModelHops(trueVocals, manifest, sampleRateHz),
          threshold: manifest.vadThreshold,
          hopMs: (1000 * manifest.stft.hopSamples) / manifest.sampleRateHz,
          flag: flagSettingsOf(manifest),
        },
      };
    },
    close: () => separator.close(),
  };
}
