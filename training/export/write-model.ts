/**
 * Writes a model directory the server can load: model.onnx (per-frame step graph with explicit state),
 * manifest.json (validated with the server's own parseManifest before it is written) and golden/golden.json
 * (a few frames of input with the tfjs outputs, re-checked against onnxruntime here and by the test suite).
 */
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { parseManifest, type ModelManifest } from '../../server/inference/model-manifest.ts';
import { stftLatencySamples } from '../../server/dsp/stft.ts';
import type { SeparationModel } from '../model/model.ts';
import { Rng } from '../model/rng.ts';
import { buildStepGraph } from './build-step-graph.ts';
import { createStepSession, runSteps } from './ort-step.ts';

export interface ModelExport {
  model: SeparationModel;
  name: string;
  description: string;
  vadThreshold?: number;
  training?: Record<string, unknown>;
  eval?: Record<string, unknown>;
}

export interface Golden {
  batch: number;
  frames: number;
  /** Per frame: [batch, 2, bins] magnitudes, flattened. */
  input: number[][];
  /** Per frame: expected mask [batch, 2, bins] and vad [batch] (tfjs forward pass, inference mode). */
  mask: number[][];
  vad: number[][];
  /** onnxruntime's state outputs after the last frame, by output name. */
  finalState: Record<string, number[]>;
  /** Max |onnxruntime − tfjs| measured when the model was exported. */
  maxAbsDiffAtExport: number;
}

export const GOLDEN_TOLERANCE = 1e-5;

export function gitCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

/** Plausible magnitudes: a falling spectral envelope with random fine structure, some near-silent frames. */
export function goldenInput(bins: number, batch: number, frames: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const out = new Float32Array(batch * frames * 2 * bins);
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t < frames; t++) {
      const level = t === 1 ? 1e-3 : rng.uniform(0.2, 3);
      for (let c = 0; c < 2; c++) {
        for (let k = 0; k < bins; k++) {
          out[((b * frames + t) * 2 + c) * bins + k] = (level * 40 * Math.abs(rng.normal())) / (1 + k / 16);
        }
      }
    }
  }
  return out;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** tfjs inference-mode outputs, regrouped per frame like the step graph produces them. */
export function tfjsPerFrame(model: SeparationModel, input: Float32Array, batch: number, frames: number): { mask: Float32Array[]; vad: Float32Array[] } {
  const bins = model.cfg.bins;
  const [maskData, vadData] = tf.tidy(() => {
    const out = model.forward(tf.tensor4d(input, [batch, frames, 2, bins]), { training: false });
    return [out.mask.dataSync() as Float32Array, tf.sigmoid(out.vadLogit).dataSync() as Float32Array];
  });
  const mask: Float32Array[] = [];
  const vad: Float32Array[] = [];
  const frameSize = 2 * bins;
  for (let t = 0; t < frames; t++) {
    const m = new Float32Array(batch * frameSize);
    const v = new Float32Array(batch);
    for (let b = 0; b < batch; b++) {
      m.set(maskData.subarray((b * frames + t) * frameSize, (b * frames + t + 1) * frameSize), b * frameSize);
      v[b] = vadData[b * frames + t]!;
    }
    mask.push(m);
    vad.push(v);
  }
  return { mask, vad };
}

/** Frame t of a [batch, frames, 2, bins] buffer as [batch, 2, bins]. */
export function frameSlice(input: Float32Array, bins: number, batch: number, frames: number, t: number): Float32Array {
  const frameSize = 2 * bins;
  const out = new Float32Array(batch * frameSize);
  for (let b = 0; b < batch; b++) out.set(input.subarray((b * frames + t) * frameSize, (b * frames + t + 1) * frameSize), b * frameSize);
  return out;
}

export async function exportModel(spec: ModelExport, outDir: string): Promise<ModelManifest> {
  const { model } = spec;
  const cfg = model.cfg;
  const graph = buildStepGraph(model);
  const manifest = parseManifest({
    schemaVersion: 1,
    name: spec.name,
    arch: cfg.arch,
    description: spec.description,
    onnx: 'model.onnx',
    sampleRateHz: cfg.sampleRateHz,
    channels: 2,
    stft: { nFft: cfg.stft.nFft, hopSamples: cfg.stft.hopSamples, window: cfg.stft.window },
    bins: cfg.bins,
    latencySamples: stftLatencySamples(cfg.stft),
    vadThreshold: spec.vadThreshold ?? 0.5,
    io: graph.io,
    ...(graph.maxBatchPerRun !== undefined ? { maxBatchPerRun: graph.maxBatchPerRun } : {}),
    parameters: model.params.trainableCount(),
    macsPerFrame: model.macsPerFrame(),
    training: { config: cfg, ...spec.training },
    eval: spec.eval ?? {},
    gitCommit: gitCommit(),
  });

  const batch = 2;
  const frames = 6;
  const input = goldenInput(cfg.bins, batch, frames, 20261123);
  const expected = tfjsPerFrame(model, input, batch, frames);
  const session = await createStepSession(graph.bytes);
  const frameInputs = Array.from({ length: frames }, (_, t) => frameSlice(input, cfg.bins, batch, frames, t));
  const run = await runSteps(session, graph.io, frameInputs, batch);
  await session.release();
  let worst = 0;
  for (let t = 0; t < frames; t++) {
    worst = Math.max(worst, maxAbsDiff(run.mask[t]!, expected.mask[t]!), maxAbsDiff(run.vad[t]!, expected.vad[t]!));
  }
  if (!(worst <= GOLDEN_TOLERANCE)) {
    throw new Error(`export self-check failed: onnxruntime vs tfjs max |diff| ${worst} > ${GOLDEN_TOLERANCE}`);
  }
  const golden: Golden = {
    batch,
    frames,
    input: frameInputs.map((f) => Array.from(f)),
    mask: expected.mask.map((m) => Array.from(m)),
    vad: expected.vad.map((v) => Array.from(v)),
    finalState: Object.fromEntries(Object.entries(run.finalState).map(([k, v]) => [k, Array.from(v)])),
    maxAbsDiffAtExport: worst,
  };

  await mkdir(join(outDir, 'golden'), { recursive: true });
  await writeFile(join(outDir, 'model.onnx'), graph.bytes);
  await writeFile(join(outDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  await writeFile(join(outDir, 'golden', 'golden.json'), `${JSON.stringify(golden)}\n`);
  return manifest;
}
