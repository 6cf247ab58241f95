/**
 * Mixing: loudness-normalise each stem (gated RMS, a LUFS-like measure without K-weighting), then random EQ,
 * reverb (sox, wet only, added to the dry), pan and relative gain per stem, an optional low-pass shared by all
 * stems, one master gain, and 16-bit quantisation with mixture = clamp(sum of quantised stems).
 */
import type { Rng } from './rng.ts';
import { STEM_NAMES, type StemName } from './song.ts';
import { soxProcess } from './effects.ts';
import { Biquad } from './filters.ts';

export type Stems = Record<StemName, Float32Array[]>;

export interface StemMix {
  gainDb: number;
  pan: number;
  eq: string[];
  reverb: string[] | null;
  reverbWetDb: number;
}

export interface MixParams {
  stems: Record<StemName, StemMix>;
  lowpassHz: number | null;
  masterRmsDb: number;
}

export const NORMALISED_RMS_DB = -20;

/** Gated RMS in dBFS over 400 ms blocks: silent blocks and blocks 10 dB under the loud ones don't count. */
export function gatedRmsDb(channels: Float32Array[], sampleRateHz: number): number {
  const block = Math.round(0.4 * sampleRateHz);
  const length = channels[0]?.length ?? 0;
  const energies: number[] = [];
  for (let s = 0; s + block <= length || (s === 0 && length > 0); s += block) {
    let e = 0;
    const end = Math.min(length, s + block);
    for (const ch of channels) for (let i = s; i < end; i++) e += (ch[i] ?? 0) ** 2;
    energies.push(e / ((end - s) * channels.length));
  }
  const abs = energies.filter((e) => e > 1e-7);
  if (abs.length === 0) return -Infinity;
  const mean = abs.reduce((a, b) => a + b, 0) / abs.length;
  const rel = abs.filter((e) => e > mean * 0.1);
  return 10 * Math.log10(rel.reduce((a, b) => a + b, 0) / rel.length);
}

function randomEq(rng: Rng): string[] {
  const eq: string[] = [];
  const bands = rng.int(1, 3);
  for (let b = 0; b < bands; b++) {
    eq.push('equalizer', String(Math.round(rng.range(80, 9000))), `${rng.range(0.5, 2).toFixed(2)}q`, rng.range(-6, 6).toFixed(1));
  }
  if (rng.chance(0.4)) eq.push('bass', rng.range(-4, 4).toFixed(1));
  if (rng.chance(0.4)) eq.push('treble', rng.range(-4, 4).toFixed(1));
  return eq;
}

function randomReverb(rng: Rng, maxWet: number): string[] | null {
  if (!rng.chance(maxWet)) return null;
  return ['reverb', '-w', String(rng.int(20, 90)), String(rng.int(20, 80)), String(rng.int(30, 100)), String(rng.int(30, 100)), String(rng.int(0, 40))];
}

export function chooseMix(rng: Rng): MixParams {
  const stem = (gainLo: number, gainHi: number, panSpread: number, reverbChance: number): StemMix => ({
    gainDb: rng.range(gainLo, gainHi),
    pan: rng.range(-panSpread, panSpread),
    eq: randomEq(rng),
    reverb: randomReverb(rng, reverbChance),
    reverbWetDb: rng.range(-18, -6),
  });
  return {
    stems: { vocals: stem(-4, 3, 0.15, 0.85), drums: stem(-6, 2, 0.2, 0.4), bass: stem(-7, 1, 0.1, 0.15), other: stem(-5, 2, 0.35, 0.6) },
    lowpassHz: rng.chance(0.25) ? rng.range(4500, 12000) : null,
    masterRmsDb: rng.range(-20, -12),
  };
}

export function scale(channels: Float32Array[], gain: number): void {
  for (const ch of channels) for (let i = 0; i < ch.length; i++) ch[i] = (ch[i] ?? 0) * gain;
}

function processStem(channels: Float32Array[], mix: StemMix, sampleRateHz: number, tmpDir: string): Float32Array[] {
  const length = channels[0]?.length ?? 0;
  const level = gatedRmsDb(channels, sampleRateHz);
  if (!Number.isFinite(level)) return channels.map((c) => new Float32Array(c.length));
  scale(channels, 10 ** ((NORMALISED_RMS_DB - level) / 20));
  const dry = mix.eq.length > 0 ? soxProcess(channels, sampleRateHz, mix.eq, tmpDir, { lengthSamples: length }) : channels;
  if (mix.reverb !== null) {
    const wet = soxProcess(dry, sampleRateHz, mix.reverb, tmpDir, { lengthSamples: length });
    const g = 10 ** (mix.reverbWetDb / 20);
    dry.forEach((ch, c) => {
      const w = wet[c] ?? wet[0];
      if (w === undefined) return;
      for (let i = 0; i < length; i++) ch[i] = (ch[i] ?? 0) + (w[i] ?? 0) * g;
    });
  }
  // Constant-power balance, unity at centre.
  const angle = ((mix.pan + 1) * Math.PI) / 4;
  const [l, r] = dry;
  if (l !== undefined && r !== undefined) {
    const gl = Math.cos(angle) * Math.SQRT2;
    const gr = Math.sin(angle) * Math.SQRT2;
    const gain = 10 ** (mix.gainDb / 20);
    for (let i = 0; i < length; i++) {
      l[i] = (l[i] ?? 0) * gl * gain;
      r[i] = (r[i] ?? 0) * gr * gain;
    }
  }
  return dry;
}

function quantise(x: number): number {
  const v = Math.round(x * 32768);
  return v > 32767 ? 32767 : v < -32768 ? -32768 : v;
}

export interface MixResult {
  /** Quantised stems (values are k / 32768) and their clamped sum. */
  stems: Stems;
  mixture: Float32Array[];
  masterGain: number;
}

export function mixStems(input: Stems, params: MixParams, sampleRateHz: number, tmpDir: string): MixResult {
  const processed = {} as Stems;
  for (const name of STEM_NAMES) processed[name] = processStem(input[name], params.stems[name], sampleRateHz, tmpDir);
  if (params.lowpassHz !== null) {
    // The same linear filter on every stem keeps mixture = sum of stems.
    for (const name of STEM_NAMES) {
      processed[name] = processed[name].map((ch) => {
        const a = Biquad.lowpass(sampleRateHz, params.lowpassHz ?? 20000);
        const b = Biquad.lowpass(sampleRateHz, params.lowpassHz ?? 20000);
        return b.processBuffer(a.processBuffer(ch));
      });
    }
  }
  return finishMix(processed, params.masterRmsDb);
}

/**
 * Master gain to `masterRmsDb` (never clipping a stem or the sum), then 16-bit quantisation of each stem with the
 * mixture as the clamped sum of the quantised stems, so stems sum to the mixture exactly.
 */
export function finishMix(processed: Stems, masterRmsDb: number): MixResult {
  const length = processed.vocals[0]?.length ?? 0;
  let sumSq = 0;
  let peak = 0;
  let stemPeak = 0;
  for (let c = 0; c < 2; c++) {
    for (let i = 0; i < length; i++) {
      let s = 0;
      for (const name of STEM_NAMES) {
        const v = processed[name][c]?.[i] ?? 0;
        s += v;
        stemPeak = Math.max(stemPeak, Math.abs(v));
      }
      sumSq += s * s;
      peak = Math.max(peak, Math.abs(s));
    }
  }
  const mixRms = Math.sqrt(sumSq / Math.max(1, 2 * length));
  const masterGain = Math.min(10 ** (masterRmsDb / 20) / Math.max(mixRms, 1e-9), 0.97 / Math.max(peak, stemPeak, 1e-9));
  const stems = {} as Stems;
  const mixtureInt = [new Int32Array(length), new Int32Array(length)];
  for (const name of STEM_NAMES) {
    stems[name] = processed[name].map((ch, c) => {
      const q = new Float32Array(length);
      const acc = mixtureInt[c];
      for (let i = 0; i < length; i++) {
        const k = quantise((ch[i] ?? 0) * masterGain);
        q[i] = k / 32768;
        if (acc !== undefined) acc[i] = (acc[i] ?? 0) + k;
      }
      return q;
    });
  }
  const mixture = mixtureInt.map((acc) => {
    const m = new Float32Array(length);
    for (let i = 0; i < length; i++) m[i] = Math.max(-32768, Math.min(32767, acc[i] ?? 0)) / 32768;
    return m;
  });
  return { stems, mixture, masterGain };
}
