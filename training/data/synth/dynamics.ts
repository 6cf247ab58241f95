/**
 * Gain envelopes: a feed-forward compressor (per stem, or on the bus) and slow loudness automation (fades, rides).
 * Both return a gain per sample that the mixer multiplies into stems. Why envelopes and not processed audio: the
 * bus compressor's gain, computed from the sum, is applied identically to every stem, so stems still sum to the
 * mixture although compression is nonlinear. Pure and deterministic.
 */
import type { Rng } from './rng.ts';

export interface CompressorParams {
  thresholdDb: number;
  ratio: number;
  attackSec: number;
  releaseSec: number;
  /** Make-up gain applied with the envelope. */
  makeupDb: number;
}

/** Gain (linear) per sample for `channels` as the detector: peak-ish level smoothed with attack/release. */
export function compressorGain(channels: readonly Float32Array[], sampleRateHz: number, p: CompressorParams): Float32Array {
  const length = channels[0]?.length ?? 0;
  const gain = new Float32Array(length);
  const att = Math.exp(-1 / (p.attackSec * sampleRateHz));
  const rel = Math.exp(-1 / (p.releaseSec * sampleRateHz));
  const makeup = 10 ** (p.makeupDb / 20);
  let envDb = -120;
  for (let i = 0; i < length; i++) {
    let x = 0;
    for (const ch of channels) x = Math.max(x, Math.abs(ch[i] ?? 0));
    const levelDb = x > 1e-6 ? 20 * Math.log10(x) : -120;
    const coeff = levelDb > envDb ? att : rel;
    envDb = levelDb + (envDb - levelDb) * coeff;
    const over = envDb - p.thresholdDb;
    const reductionDb = over > 0 ? over * (1 - 1 / p.ratio) : 0;
    gain[i] = 10 ** (-reductionDb / 20) * makeup;
  }
  return gain;
}

export function applyGain(channels: Float32Array[], gain: Float32Array): void {
  for (const ch of channels) for (let i = 0; i < ch.length; i++) ch[i] = (ch[i] ?? 0) * (gain[i] ?? 1);
}

export interface AutomationParams {
  fadeInSec: number;
  fadeOutSec: number;
  /** Slow level rides: dB depth and period. */
  rideDb: number;
  ridePeriodSec: number;
  ridePhase: number;
}

export function chooseAutomation(rng: Rng): AutomationParams {
  return {
    fadeInSec: rng.chance(0.2) ? rng.range(0.5, 5) : 0,
    fadeOutSec: rng.chance(0.3) ? rng.range(2, 10) : 0,
    rideDb: rng.chance(0.5) ? rng.range(1, 6) : 0,
    ridePeriodSec: rng.range(8, 40),
    ridePhase: rng.range(0, 2 * Math.PI),
  };
}

export function automationGain(lengthSamples: number, sampleRateHz: number, p: AutomationParams): Float32Array {
  const gain = new Float32Array(lengthSamples);
  const fadeIn = p.fadeInSec * sampleRateHz;
  const fadeOut = p.fadeOutSec * sampleRateHz;
  for (let i = 0; i < lengthSamples; i++) {
    const t = i / sampleRateHz;
    let g = 10 ** ((p.rideDb * Math.sin((2 * Math.PI * t) / p.ridePeriodSec + p.ridePhase)) / 20);
    if (fadeIn > 0 && i < fadeIn) g *= (i / fadeIn) ** 2;
    const fromEnd = lengthSamples - 1 - i;
    if (fadeOut > 0 && fromEnd < fadeOut) g *= (fromEnd / fadeOut) ** 2;
    gain[i] = g;
  }
  return gain;
}
