/**
 * Whole-track separation and detection metrics beside BSS-Eval (pure, synchronous):
 * - SI-SDR (Le Roux et al. 2019): scale-invariant, per channel after removing the mean, channels pooled;
 * - MDX SDR (Music Demixing Challenge): 10·log10((Σs² + δ) / (Σ(s − ŝ)² + δ)) over the whole track, δ = 1e-7 as
 *   in the challenge's scorer, so a silent reference gives a finite number;
 * - non-vocal leakage (seed 004): RMS in dBFS of the vocal estimate over the 10 ms frames where the TRUE vocals are
 *   silent by the VAD rule — what a karaoke user hears as bleed, and what BSS-Eval cannot see (it skips those frames);
 * - VAD: AUROC (rank statistic, ties averaged) and accuracy / precision / recall / F1 at a threshold.
 */
import { vadFrameSamples, vocalActivity } from '../data/vad-labels.ts';

const MDX_DELTA = 1e-7;

function checkShapes(reference: Float32Array[], estimate: Float32Array[]): void {
  if (reference.length !== estimate.length) throw new RangeError('reference and estimate differ in channel count');
  reference.forEach((ch, c) => {
    if (ch.length !== estimate[c]!.length) throw new RangeError('reference and estimate differ in length');
  });
}

/** SI-SDR in dB; null when the reference is silent (undefined target). */
export function siSdr(reference: Float32Array[], estimate: Float32Array[]): number | null {
  checkShapes(reference, estimate);
  // Σ over channels of the zero-mean products, from raw sums: Σ(s−μs)(e−μe) = Σse − n·μs·μe, etc.
  let dot = 0;
  let refEnergy = 0;
  let estEnergy = 0;
  for (let c = 0; c < reference.length; c++) {
    const s = reference[c]!;
    const e = estimate[c]!;
    const n = s.length;
    let ss = 0;
    let se = 0;
    let sss = 0;
    let see = 0;
    let sse = 0;
    for (let i = 0; i < n; i++) {
      const a = s[i]!;
      const b = e[i]!;
      ss += a;
      se += b;
      sss += a * a;
      see += b * b;
      sse += a * b;
    }
    if (n === 0) continue;
    dot += sse - (ss * se) / n;
    refEnergy += sss - (ss * ss) / n;
    estEnergy += see - (se * se) / n;
  }
  if (refEnergy <= 0) return null;
  // target = α·s with α = <s,e>/|s|²: |target|² = <s,e>²/|s|², |noise|² = |e|² − |target|²
  const target = (dot * dot) / refEnergy;
  const noise = estEnergy - target;
  if (!(noise > 0)) return null;
  if (target === 0) return -Infinity;
  return 10 * Math.log10(target / noise);
}

/** The Music Demixing Challenge's global SDR in dB. */
export function mdxSdr(reference: Float32Array[], estimate: Float32Array[]): number {
  checkShapes(reference, estimate);
  let num = 0;
  let den = 0;
  reference.forEach((ch, c) => {
    const est = estimate[c]!;
    for (let i = 0; i < ch.length; i++) {
      const s = ch[i]!;
      const d = s - est[i]!;
      num += s * s;
      den += d * d;
    }
  });
  return 10 * Math.log10((num + MDX_DELTA) / (den + MDX_DELTA));
}

export interface LeakageResult {
  /** RMS of the vocal estimate over true-silent 10 ms frames, dBFS (full-scale = 1.0); -Infinity if exactly 0. */
  rmsDbfs: number | null;
  /** Share of the track the measurement covers (true-silent frames). */
  silentFraction: number;
}

/** Non-vocal leakage of a vocal estimate, judged against the true vocals with the 10 ms VAD rule. */
export function nonVocalLeakage(trueVocals: Float32Array[], vocalEstimate: Float32Array[], sampleRateHz: number): LeakageResult {
  checkShapes(trueVocals, vocalEstimate);
  const frame = vadFrameSamples(sampleRateHz);
  const labels = vocalActivity(trueVocals, sampleRateHz, frame);
  const length = trueVocals[0]?.length ?? 0;
  let sum = 0;
  let count = 0;
  for (let f = 0; f < labels.length; f++) {
    if (labels[f]) continue;
    const start = f * frame;
    const end = Math.min(length, start + frame);
    for (const ch of vocalEstimate) {
      for (let i = start; i < end; i++) sum += ch[i]! * ch[i]!;
    }
    count += (end - start) * vocalEstimate.length;
  }
  if (count === 0) return { rmsDbfs: null, silentFraction: 0 };
  return { rmsDbfs: 10 * Math.log10(sum / count), silentFraction: count / (length * vocalEstimate.length) };
}

/** Area under the ROC curve of `scores` for binary `labels`; null if only one class is present. */
export function auroc(scores: ArrayLike<number>, labels: ArrayLike<number>): number | null {
  const n = Math.min(scores.length, labels.length);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  let positives = 0;
  let rankSumPositive = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]!] === scores[order[i]!]) j++;
    const averageRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) {
      if (labels[order[k]!]) {
        positives++;
        rankSumPositive += averageRank;
      }
    }
    i = j + 1;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return null;
  return (rankSumPositive - (positives * (positives + 1)) / 2) / (positives * negatives);
}

export interface DetectionScores {
  threshold: number;
  accuracy: number;
  precision: number | null;
  recall: number | null;
  f1: number | null;
  auroc: number | null;
  frames: number;
  positiveFraction: number;
}

/** Detection quality of probabilities against 0/1 labels (compared over their common length). */
export function detectionScores(probabilities: ArrayLike<number>, labels: ArrayLike<number>, threshold: number): DetectionScores {
  const n = Math.min(probabilities.length, labels.length);
  let tp = 0;
  let fp = 0;
  let tn = 0;
  let fn = 0;
  for (let i = 0; i < n; i++) {
    const predicted = probabilities[i]! >= threshold;
    const actual = labels[i]! > 0;
    if (predicted && actual) tp++;
    else if (predicted) fp++;
    else if (actual) fn++;
    else tn++;
  }
  const precision = tp + fp > 0 ? tp / (tp + fp) : null;
  const recall = tp + fn > 0 ? tp / (tp + fn) : null;
  const f1 = precision !== null && recall !== null && precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : null;
  return {
    threshold,
    accuracy: n > 0 ? (tp + tn) / n : 0,
    precision,
    recall,
    f1,
    auroc: auroc(probabilities, labels),
    frames: n,
    positiveFraction: n > 0 ? (tp + fn) / n : 0,
  };
}
