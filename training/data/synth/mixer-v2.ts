/**
 * v2 mixing: per stem loudness normalisation, EQ, compression, reverb of a chosen size (room, plate, hall,
 * cathedral), stereo width, pan and gain; then, the same on every stem so the stems still sum to the mixture: a
 * whole-mix filter (low-pass, telephone or radio band, rumble high-pass), bus compression and loudness automation;
 * finally v1's master gain and 16-bit quantisation.
 */
import type { Rng } from './rng.ts';
import { STEM_NAMES } from './song.ts';
import { soxProcess } from './effects.ts';
import { Biquad } from './filters.ts';
import { finishMix, gatedRmsDb, NORMALISED_RMS_DB, scale, type MixResult, type Stems } from './mixer.ts';
import { applyGain, automationGain, chooseAutomation, compressorGain, type AutomationParams, type CompressorParams } from './dynamics.ts';

export type ReverbSize = 'room' | 'plate' | 'hall' | 'cathedral';

export interface StemMixV2 {
  gainDb: number;
  pan: number;
  /** Mid/side width: 0 mono, 1 as rendered, up to 1.6 wider. */
  width: number;
  eq: string[];
  compressor: CompressorParams | null;
  reverb: { size: ReverbSize; args: string[]; wetDb: number } | null;
}

export type MixFilter = { kind: 'none' } | { kind: 'lowpass'; hz: number } | { kind: 'band'; name: 'telephone' | 'radio'; lowHz: number; highHz: number }
  | { kind: 'highpass'; hz: number };

export interface MixParamsV2 {
  stems: Record<(typeof STEM_NAMES)[number], StemMixV2>;
  filter: MixFilter;
  bus: CompressorParams | null;
  automation: AutomationParams;
  masterRmsDb: number;
}

function randomEq(rng: Rng): string[] {
  const eq: string[] = [];
  for (let b = rng.int(0, 3); b > 0; b--) {
    eq.push('equalizer', String(Math.round(rng.range(60, 12000))), `${rng.range(0.4, 3).toFixed(2)}q`, rng.range(-8, 8).toFixed(1));
  }
  if (rng.chance(0.4)) eq.push('bass', rng.range(-6, 6).toFixed(1));
  if (rng.chance(0.4)) eq.push('treble', rng.range(-6, 6).toFixed(1));
  return eq;
}

/** sox reverb: reverberance, HF damping, room scale, stereo depth, pre-delay (ms). */
function randomReverb(rng: Rng, chance: number): StemMixV2['reverb'] {
  if (!rng.chance(chance)) return null;
  const size = rng.weighted([['room', 4], ['plate', 3], ['hall', 2], ['cathedral', 0.7]] as const);
  // [reverberance lo, hi, room scale lo, hi, max pre-delay ms]
  const table: Record<ReverbSize, readonly [number, number, number, number, number]> = {
    room: [15, 50, 5, 35, 0], plate: [40, 75, 40, 70, 10], hall: [60, 90, 75, 100, 30], cathedral: [85, 100, 100, 100, 60],
  };
  const [revLo, revHi, scaleLo, scaleHi, pre] = table[size];
  const rev = rng.int(revLo, revHi);
  return { size, args: ['reverb', '-w', String(rev), String(rng.int(10, 80)), String(rng.int(scaleLo, scaleHi)), String(rng.int(30, 100)), String(rng.int(0, pre))], wetDb: rng.range(-20, -4) };
}

function randomCompressor(rng: Rng, chance: number): CompressorParams | null {
  if (!rng.chance(chance)) return null;
  return { thresholdDb: rng.range(-30, -12), ratio: rng.range(1.5, 8), attackSec: rng.range(0.001, 0.03), releaseSec: rng.range(0.04, 0.4), makeupDb: 0 };
}

export function chooseMixV2(rng: Rng): MixParamsV2 {
  const stem = (gainLo: number, gainHi: number, panSpread: number, width: readonly [number, number], compChance: number, reverbChance: number): StemMixV2 => ({
    gainDb: rng.range(gainLo, gainHi), pan: rng.range(-panSpread, panSpread), width: rng.range(width[0], width[1]), eq: randomEq(rng),
    compressor: randomCompressor(rng, compChance), reverb: randomReverb(rng, reverbChance),
  });
  const stems = {
    vocals: stem(-6, 4, 0.15, [0.2, 1.2], 0.7, 0.85), drums: stem(-7, 3, 0.2, [0.5, 1.5], 0.5, 0.45),
    bass: stem(-8, 2, 0.1, [0, 0.6], 0.5, 0.15), other: stem(-6, 3, 0.35, [0.6, 1.6], 0.35, 0.6),
  };
  if (rng.chance(0.05)) for (const s of STEM_NAMES) stems[s].width = 0;
  const filter = rng.weighted<() => MixFilter>([
    [() => ({ kind: 'none' }), 62],
    [() => ({ kind: 'lowpass', hz: rng.range(3000, 12000) }), 22],
    [() => ({ kind: 'band', name: 'telephone', lowHz: rng.range(250, 400), highHz: rng.range(3000, 3800) }), 6],
    [() => ({ kind: 'band', name: 'radio', lowHz: rng.range(80, 200), highHz: rng.range(4500, 7000) }), 5],
    [() => ({ kind: 'highpass', hz: rng.range(60, 180) }), 5],
  ])();
  const bus = rng.chance(0.5) ? { thresholdDb: rng.range(-22, -8), ratio: rng.range(1.5, 10), attackSec: rng.range(0.001, 0.03), releaseSec: rng.range(0.05, 0.5), makeupDb: 0 } : null;
  return { stems, filter, bus, automation: chooseAutomation(rng), masterRmsDb: rng.range(-28, -10) };
}

function filtersFor(filter: MixFilter, sampleRateHz: number): Biquad[] {
  switch (filter.kind) {
    case 'none': return [];
    case 'lowpass': return [Biquad.lowpass(sampleRateHz, filter.hz), Biquad.lowpass(sampleRateHz, filter.hz)];
    case 'highpass': return [Biquad.highpass(sampleRateHz, filter.hz), Biquad.highpass(sampleRateHz, filter.hz)];
    case 'band': return [Biquad.highpass(sampleRateHz, filter.lowHz), Biquad.highpass(sampleRateHz, filter.lowHz),
      Biquad.lowpass(sampleRateHz, filter.highHz), Biquad.lowpass(sampleRateHz, filter.highHz)];
  }
}

function processStemV2(channels: Float32Array[], mix: StemMixV2, sampleRateHz: number, tmpDir: string): Float32Array[] {
  const length = channels[0]?.length ?? 0;
  const level = gatedRmsDb(channels, sampleRateHz);
  if (!Number.isFinite(level)) return channels.map((c) => new Float32Array(c.length));
  scale(channels, 10 ** ((NORMALISED_RMS_DB - level) / 20));
  const dry = mix.eq.length > 0 ? soxProcess(channels, sampleRateHz, mix.eq, tmpDir, { lengthSamples: length }) : channels;
  if (mix.compressor !== null) {
    applyGain(dry, compressorGain(dry, sampleRateHz, mix.compressor));
    // Back to the normalised level, so compression changes dynamics, not the balance chosen below.
    const after = gatedRmsDb(dry, sampleRateHz);
    if (Number.isFinite(after)) scale(dry, 10 ** ((NORMALISED_RMS_DB - after) / 20));
  }
  if (mix.reverb !== null) {
    const wet = soxProcess(dry, sampleRateHz, mix.reverb.args, tmpDir, { lengthSamples: length });
    const g = 10 ** (mix.reverb.wetDb / 20);
    dry.forEach((ch, c) => {
      const w = wet[c] ?? wet[0];
      if (w !== undefined) for (let i = 0; i < length; i++) ch[i] = (ch[i] ?? 0) + (w[i] ?? 0) * g;
    });
  }
  const [l, r] = dry;
  if (l === undefined || r === undefined) return dry;
  const angle = ((mix.pan + 1) * Math.PI) / 4;
  const gain = 10 ** (mix.gainDb / 20);
  const gl = Math.cos(angle) * Math.SQRT2 * gain;
  const gr = Math.sin(angle) * Math.SQRT2 * gain;
  for (let i = 0; i < length; i++) {
    const mid = ((l[i] ?? 0) + (r[i] ?? 0)) / 2;
    const side = (((l[i] ?? 0) - (r[i] ?? 0)) / 2) * mix.width;
    l[i] = (mid + side) * gl;
    r[i] = (mid - side) * gr;
  }
  return dry;
}

export function mixStemsV2(input: Stems, params: MixParamsV2, sampleRateHz: number, tmpDir: string): MixResult {
  const processed = {} as Stems;
  for (const name of STEM_NAMES) processed[name] = processStemV2(input[name], params.stems[name], sampleRateHz, tmpDir);
  for (const name of STEM_NAMES) {
    processed[name] = processed[name].map((ch) => filtersFor(params.filter, sampleRateHz).reduce((x, f) => f.processBuffer(x), ch));
  }
  const length = processed.vocals[0]?.length ?? 0;
  if (params.bus !== null) {
    const sum = [new Float32Array(length), new Float32Array(length)];
    for (const name of STEM_NAMES) processed[name].forEach((ch, c) => {
      const s = sum[c];
      if (s !== undefined) for (let i = 0; i < length; i++) s[i] = (s[i] ?? 0) + (ch[i] ?? 0);
    });
    // Threshold relative to the sum's level, so "how hard it compresses" doesn't depend on the stem gains.
    const sumDb = gatedRmsDb(sum, sampleRateHz);
    const bus = { ...params.bus, thresholdDb: (Number.isFinite(sumDb) ? sumDb : -20) + params.bus.thresholdDb + 14 };
    const g = compressorGain(sum, sampleRateHz, bus);
    for (const name of STEM_NAMES) applyGain(processed[name], g);
  }
  const ride = automationGain(length, sampleRateHz, params.automation);
  for (const name of STEM_NAMES) applyGain(processed[name], ride);
  return finishMix(processed, params.masterRmsDb);
}
