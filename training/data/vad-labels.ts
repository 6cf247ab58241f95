/**
 * Vocal-activity labels from a vocal stem (seed-004 rule): a 10 ms stretch is "vocal" when the mean of |x| over
 * its samples and channels exceeds 5·10⁻⁴. Works on any MUSDB-layout folder because it needs only vocals.wav.
 */
import type { StftConfig } from '../../server/dsp/stft.ts';

export const VAD_AMPLITUDE_THRESHOLD = 5e-4;

/** 10 ms frames at a given rate (441 samples at 44.1 kHz). */
export function vadFrameSamples(sampleRateHz: number): number {
  return Math.round(sampleRateHz / 100);
}

function meanAbs(vocals: Float32Array[], start: number, end: number): number {
  let sum = 0;
  for (const ch of vocals) {
    for (let i = start; i < end; i++) sum += Math.abs(ch[i] ?? 0);
  }
  const count = (end - start) * vocals.length;
  return count > 0 ? sum / count : 0;
}

function signalLength(vocals: Float32Array[]): number {
  const first = vocals[0];
  if (first === undefined) throw new RangeError('vocals must have at least one channel');
  for (const ch of vocals) {
    if (ch.length !== first.length) throw new RangeError('vocal channels differ in length');
  }
  return first.length;
}

/**
 * One label per non-overlapping frame of `frameSamples` (a trailing partial frame counts, averaged over the samples it
 * has). `sampleRateHz` is carried for the caller's bookkeeping; the rule itself is in samples.
 */
export function vocalActivity(vocals: Float32Array[], sampleRateHz: number, frameSamples: number): Uint8Array {
  if (!(sampleRateHz > 0)) throw new RangeError(`sampleRateHz must be positive, got ${sampleRateHz}`);
  if (!Number.isInteger(frameSamples) || frameSamples <= 0) {
    throw new RangeError(`frameSamples must be a positive integer, got ${frameSamples}`);
  }
  const length = signalLength(vocals);
  const frames = Math.ceil(length / frameSamples);
  const labels = new Uint8Array(frames);
  for (let f = 0; f < frames; f++) {
    const start = f * frameSamples;
    labels[f] = meanAbs(vocals, start, Math.min(length, start + frameSamples)) > VAD_AMPLITUDE_THRESHOLD ? 1 : 0;
  }
  return labels;
}

/** Number of STFT frames our framing yields for `lengthSamples` input samples (one per completed hop). */
export function stftFrameCount(lengthSamples: number, hopSamples: number): number {
  return Math.floor(lengthSamples / hopSamples);
}

/**
 * One label per STFT frame of our causal framing (frame k covers [(k+1)·hop − nFft, (k+1)·hop)).
 *
 * Label k is the amplitude rule evaluated on the NEWEST hop of frame k, i.e. input samples [k·hop, (k+1)·hop).
 * Why the newest hop: it is the audio that arrived with frame k, so label k and the model's VAD output for frame k
 * both describe hop k of the input timeline; the server reports one VAD value per hop, and with this rule that value
 * is compared against exactly the hop it was computed on, with no extra look-back that would smear onsets and
 * offsets by nFft − hop samples. With a hop near 10 ms this is the seed-004 10 ms rule itself; for other hops the
 * rule is the same mean-|x| test over the hop (a mean is independent of window length).
 * Frames: floor(length / hop) (the last partial hop has no frame, matching StftAnalyzer.push over the whole signal).
 */
export function vocalActivityPerStftFrame(vocals: Float32Array[], cfg: StftConfig): Uint8Array {
  const hop = cfg.hopSamples;
  if (!Number.isInteger(hop) || hop <= 0) throw new RangeError(`hopSamples must be a positive integer, got ${hop}`);
  const length = signalLength(vocals);
  const frames = stftFrameCount(length, hop);
  const labels = new Uint8Array(frames);
  for (let k = 0; k < frames; k++) {
    labels[k] = meanAbs(vocals, k * hop, (k + 1) * hop) > VAD_AMPLITUDE_THRESHOLD ? 1 : 0;
  }
  return labels;
}
