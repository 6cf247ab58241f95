/**
 * What makes the synthetic lead more than a band-limited voice: breaths before phrases, sibilance bursts on
 * s/sh/ch/t/z/f sounds and a gentle exciter that adds harmonics above 8 kHz. Why: Festival/espeak stop near 8 kHz
 * while drums reach 20 kHz, and a model must not learn "high frequencies = accompaniment".
 */
import type { Rng } from './rng.ts';
import type { VocalPhrase } from './song.ts';
import { Biquad } from './filters.ts';

function rms(x: Float32Array): number {
  let s = 0;
  let n = 0;
  for (const v of x) {
    if (v !== 0) {
      s += v * v;
      n++;
    }
  }
  return n > 0 ? Math.sqrt(s / n) : 0;
}

/** Adds filtered-noise bursts shaped by a raised-cosine envelope. */
function addNoiseBurst(out: Float32Array, startSample: number, lengthSamples: number, amplitude: number, filters: Biquad[], rng: Rng): void {
  for (let k = 0; k < lengthSamples; k++) {
    const i = startSample + k;
    if (i < 0 || i >= out.length) continue;
    let v = rng.next() * 2 - 1;
    for (const f of filters) v = f.process(v);
    const env = Math.sin((Math.PI * k) / lengthSamples) ** 2;
    out[i] = (out[i] ?? 0) + v * env * amplitude;
  }
}

const SIBILANT_ONSET = /^(s|sh|ch|z|t|f|th)/;
const SIBILANT_CODA = /(s|sh|ch|z|t|ts|st|ft|th)$/;

export interface VocalFxParams {
  breathLevel: number;
  sibilanceLevel: number;
  exciterAmount: number;
}

export function chooseVocalFx(rng: Rng): VocalFxParams {
  return { breathLevel: rng.range(0.1, 0.35), sibilanceLevel: rng.range(0.3, 0.9), exciterAmount: rng.range(0.15, 0.45) };
}

export function applyVocalFx(lead: Float32Array, phrases: readonly VocalPhrase[], sampleRateHz: number, params: VocalFxParams, rng: Rng): Float32Array {
  const out = Float32Array.from(lead);
  const level = rms(lead);
  if (level === 0) return out;
  // Exciter: high-passed voice through a soft clipper, high-passed again, keeps only new high harmonics.
  const hpIn = Biquad.highpass(sampleRateHz, 3000);
  const hpOut1 = Biquad.highpass(sampleRateHz, 7000);
  const hpOut2 = Biquad.highpass(sampleRateHz, 7000);
  const drive = 4 / level;
  for (let i = 0; i < out.length; i++) {
    const h = hpIn.process(lead[i] ?? 0);
    const sat = Math.tanh(h * drive) * level;
    out[i] = (out[i] ?? 0) + hpOut2.process(hpOut1.process(sat)) * params.exciterAmount * 4;
  }
  for (const phrase of phrases) {
    const first = phrase.notes[0];
    if (first === undefined) continue;
    const breathSec = rng.range(0.22, 0.45);
    const start = Math.round((first.startSec - breathSec - 0.04) * sampleRateHz);
    addNoiseBurst(out, start, Math.round(breathSec * sampleRateHz), level * params.breathLevel,
      [Biquad.bandpass(sampleRateHz, rng.range(1200, 2600), 0.7), Biquad.highpass(sampleRateHz, 500)], rng);
    for (const note of phrase.notes) {
      const word = note.word.toLowerCase();
      const burst = (at: number, lenSec: number): void => addNoiseBurst(out, Math.round(at * sampleRateHz), Math.round(lenSec * sampleRateHz),
        level * params.sibilanceLevel, [Biquad.highpass(sampleRateHz, rng.range(4500, 6500)), Biquad.lowpass(sampleRateHz, rng.range(11000, 17000))], rng);
      if (SIBILANT_ONSET.test(word)) burst(note.startSec, rng.range(0.04, 0.09));
      if (SIBILANT_CODA.test(word)) burst(note.startSec + note.durSec - 0.08, rng.range(0.05, 0.09));
    }
  }
  return out;
}
