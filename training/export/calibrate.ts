/**
 * Inference-time calibration on the VALIDATION split (never the test split): a mask temperature γ, mask' =
 * sigmoid(γ·logit(mask)), and the VAD decision threshold. γ > 1 sharpens the soft mask (less bleed, more
 * artefacts); it is folded into the model's last affine layer, so the exported graph is unchanged in shape.
 * Scored like the streaming path: the masked mixture STFT through OlaSynthesizer, compared with the references
 * delayed by the STFT latency, MDX SDR = 10·log10(Σs² / Σ(s − ŝ)²).
 */
import * as tf from '@tensorflow/tfjs';
import { OlaSynthesizer, offlineStft, stftLatencySamples, type StftFrame } from '../../server/dsp/stft.ts';
import { openMusdb } from '../data/open-dataset.ts';
import { validationItems } from '../data/sampler.ts';
import { auroc } from '../eval/metrics.ts';
import type { SeparationModel } from '../model/model.ts';

export interface CalibrationResult {
  temperature: number;
  vadThreshold: number;
  /** Mean MDX SDR (dB) over validation tracks per temperature tried. */
  table: { temperature: number; vocalsSdr: number; accompanimentSdr: number }[];
  vadAccuracy: number;
  /** AUROC of the per-frame VAD probability (null when a class is absent). */
  vadAuroc: number | null;
  tracks: number;
  secondsPerTrack: number;
}

/** null when the reference is silent (≤ −70 dBFS): its SDR says nothing about separation, only about ε. */
function mdxSdr(reference: Float32Array[], estimate: Float32Array[], delay: number): number | null {
  let num = 0;
  let den = 0;
  let count = 0;
  reference.forEach((ref, c) => {
    const est = estimate[c]!;
    for (let n = delay; n < est.length; n++) {
      const s = ref[n - delay]!;
      num += s * s;
      den += (s - est[n]!) ** 2;
      count++;
    }
  });
  if (num / Math.max(1, count) < 1e-7) return null;
  return 10 * Math.log10((num + 1e-12) / (den + 1e-12));
}

function synthesize(frames: StftFrame[], masks: Float32Array, gamma: number, cfg: SeparationModel['cfg'], complement: boolean): Float32Array[] {
  const ola = new OlaSynthesizer(cfg.stft, 2);
  const bins = cfg.bins;
  const out: Float32Array[] = [new Float32Array(frames.length * cfg.stft.hopSamples), new Float32Array(frames.length * cfg.stft.hopSamples)];
  frames.forEach((fr, t) => {
    const masked: StftFrame = { re: [], im: [] };
    for (let c = 0; c < 2; c++) {
      const re = new Float32Array(bins);
      const im = new Float32Array(bins);
      for (let k = 0; k < bins; k++) {
        const m0 = Math.min(1 - 1e-7, Math.max(1e-7, masks[(t * 2 + c) * bins + k]!));
        const m = 1 / (1 + Math.exp(-gamma * Math.log(m0 / (1 - m0))));
        const g = complement ? 1 - m : m;
        re[k] = fr.re[c]![k]! * g;
        im[k] = fr.im[c]![k]! * g;
      }
      masked.re.push(re);
      masked.im.push(im);
    }
    ola.push(masked).forEach((hop, c) => out[c]!.set(hop, t * cfg.stft.hopSamples));
  });
  return out;
}

export async function calibrate(model: SeparationModel, dataDir: string, split: string, secondsPerTrack: number, temperatures: number[]): Promise<CalibrationResult> {
  const cfg = model.cfg;
  const tracks = await openMusdb(dataDir, split);
  const delay = stftLatencySamples(cfg.stft);
  const sums = temperatures.map(() => ({ voc: 0, acc: 0, vocCount: 0, accCount: 0 }));
  const vadProbs: number[] = [];
  const vadLabels: number[] = [];
  let n = 0;
  for await (const item of validationItems(tracks, cfg.stft, secondsPerTrack)) {
    const frames = offlineStft(item.mixture, cfg.stft);
    const T = frames.length;
    const mag = new Float32Array(T * 2 * cfg.bins);
    frames.forEach((fr, t) => {
      for (let c = 0; c < 2; c++) {
        for (let k = 0; k < cfg.bins; k++) mag[(t * 2 + c) * cfg.bins + k] = Math.sqrt(fr.re[c]![k]! ** 2 + fr.im[c]![k]! ** 2);
      }
    });
    const [masks, vad] = tf.tidy(() => {
      const out = model.forward(tf.tensor4d(mag, [1, T, 2, cfg.bins]), { training: false });
      return [out.mask.dataSync() as Float32Array, tf.sigmoid(out.vadLogit).dataSync() as Float32Array];
    });
    temperatures.forEach((gamma, i) => {
      const voc = mdxSdr(item.vocals, synthesize(frames, masks, gamma, cfg, false), delay);
      const acc = mdxSdr(item.accompaniment, synthesize(frames, masks, gamma, cfg, true), delay);
      const sum = sums[i]!;
      if (voc !== null) {
        sum.voc += voc;
        sum.vocCount++;
      }
      if (acc !== null) {
        sum.acc += acc;
        sum.accCount++;
      }
    });
    for (let t = 0; t < T; t++) {
      vadProbs.push(vad[t]!);
      vadLabels.push(item.vad[t] ?? 0);
    }
    n++;
  }
  const table = temperatures.map((temperature, i) => ({ temperature, vocalsSdr: sums[i]!.voc / Math.max(1, sums[i]!.vocCount), accompanimentSdr: sums[i]!.acc / Math.max(1, sums[i]!.accCount) }));
  const best = table.reduce((a, b) => (b.vocalsSdr + b.accompanimentSdr > a.vocalsSdr + a.accompanimentSdr ? b : a));
  let bestThreshold = 0.5;
  let bestAccuracy = -1;
  for (let th = 0.05; th < 0.96; th += 0.05) {
    let correct = 0;
    vadProbs.forEach((p, i) => (correct += (p >= th ? 1 : 0) === vadLabels[i] ? 1 : 0));
    if (correct / vadProbs.length > bestAccuracy) {
      bestAccuracy = correct / vadProbs.length;
      bestThreshold = Math.round(th * 100) / 100;
    }
  }
  return { temperature: best.temperature, vadThreshold: bestThreshold, table, vadAccuracy: bestAccuracy, vadAuroc: auroc(vadProbs, vadLabels), tracks: n, secondsPerTrack };
}

/** Folds mask' = sigmoid(γ·logit) into the last affine layer before the mask sigmoid. */
export function applyMaskTemperature(model: SeparationModel, gamma: number): void {
  const names = model.cfg.arch === 'lstm' ? ['bn3.gamma', 'bn3.beta'] : ['out.pw', 'out.b', 'high.W', 'high.b'];
  for (const name of names) {
    const v = model.params.get(name);
    v.assign(tf.tidy(() => tf.mul(v, gamma)));
  }
}
