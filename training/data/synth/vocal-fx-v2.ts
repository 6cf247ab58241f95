/**
 * v2 vocal colour on top of v1's breaths/sibilance/exciter: saturation and presence for strained singing, an airy
 * noise layer that follows the voice for breathy singing, a slapback/echo delay, and sometimes a telephone-band
 * vocal effect. All of it belongs to the vocals stem (as reverb and echo do in MUSDB18).
 */
import type { Rng } from './rng.ts';
import type { Delivery } from './styles.ts';
import { Biquad } from './filters.ts';

export interface VocalFxV2Params {
  /** 0 = clean; tanh drive for strained/shouted voices. */
  drive: number;
  presenceDb: number;
  /** Aspiration noise following the voice's envelope, relative to the voice. */
  air: number;
  echo: { delaySec: number; feedback: number; wetDb: number } | null;
  telephone: boolean;
}

export function chooseVocalFxV2(delivery: Delivery, rng: Rng): VocalFxV2Params {
  return {
    drive: delivery === 'strained' ? rng.range(2, 8) : rng.chance(0.15) ? rng.range(1, 2.5) : 0,
    presenceDb: delivery === 'strained' ? rng.range(3, 8) : rng.range(-2, 4),
    air: delivery === 'breathy' ? rng.range(0.25, 0.6) : rng.range(0, 0.12),
    echo: rng.chance(0.3) ? { delaySec: rng.range(0.08, 0.42), feedback: rng.range(0.1, 0.45), wetDb: rng.range(-16, -7) } : null,
    telephone: rng.chance(0.06),
  };
}

function rms(x: Float32Array): number {
  let s = 0;
  for (const v of x) s += v * v;
  return Math.sqrt(s / Math.max(1, x.length));
}

export function applyVocalFxV2(voice: Float32Array, sampleRateHz: number, p: VocalFxV2Params, rng: Rng): Float32Array {
  const level = rms(voice);
  if (level === 0) return voice;
  const out = Float32Array.from(voice);
  if (p.drive > 0) {
    // Drive relative to the voice's own level, so the amount of grit doesn't depend on the render's loudness.
    const k = p.drive / (3 * level);
    const norm = 1 / Math.tanh(p.drive);
    for (let i = 0; i < out.length; i++) out[i] = Math.tanh((out[i] ?? 0) * k) * norm * 3 * level;
  }
  if (p.presenceDb !== 0) {
    const band = Biquad.bandpass(sampleRateHz, 3200, 0.9);
    const g = 10 ** (p.presenceDb / 20) - 1;
    for (let i = 0; i < out.length; i++) out[i] = (out[i] ?? 0) + band.process(out[i] ?? 0) * g;
  }
  if (p.air > 0) {
    const hp = Biquad.highpass(sampleRateHz, 2500);
    const attack = 1 - Math.exp(-1 / (0.01 * sampleRateHz));
    let env = 0;
    for (let i = 0; i < out.length; i++) {
      env += (Math.abs(voice[i] ?? 0) - env) * attack;
      out[i] = (out[i] ?? 0) + hp.process(rng.next() * 2 - 1) * env * p.air * 2;
    }
  }
  if (p.telephone) {
    const a = Biquad.highpass(sampleRateHz, 450);
    const b = Biquad.lowpass(sampleRateHz, 3200);
    for (let i = 0; i < out.length; i++) out[i] = b.process(a.process(out[i] ?? 0)) * 1.6;
  }
  if (p.echo !== null) {
    const d = Math.max(1, Math.round(p.echo.delaySec * sampleRateHz));
    const wet = new Float32Array(out.length);
    const lp = Biquad.lowpass(sampleRateHz, 5000);
    for (let i = d; i < out.length; i++) wet[i] = lp.process((out[i - d] ?? 0) + (wet[i - d] ?? 0) * p.echo.feedback);
    const g = 10 ** (p.echo.wetDb / 20);
    for (let i = 0; i < out.length; i++) out[i] = (out[i] ?? 0) + (wet[i] ?? 0) * g;
  }
  return out;
}
