/**
 * The v2 vocals stem: a lead line (sung by any engine, or spoken), optional double-tracking and a harmony line in
 * the same voice, panned around the lead, plus the SoundFont choir backing — all stereo, all on the vocals stem.
 */
import type { Rng } from './rng.ts';
import type { Song, VocalPhrase } from './song.ts';
import type { SingerV2 } from './singers-v2.ts';
import { Scale } from './theory.ts';
import { renderLeadVocal, singPhrase, type PhraseRenderer } from './vocals.ts';
import { speakPhrase } from './spoken-voice.ts';
import { chooseVocalFx, type VocalFxParams } from './vocal-fx.ts';
import { applyVocalFxV2, chooseVocalFxV2, type VocalFxV2Params } from './vocal-fx-v2.ts';
import { gatedRmsDb } from './mixer.ts';

export interface VocalLayer {
  /** Delay against the lead (double-tracking is never sample-aligned). */
  delaySec: number;
  detuneCents: number;
  /** Diatonic steps from the lead's notes (0 = a double). */
  steps: number;
  gainDb: number;
  pan: number;
  /** Only phrases in choruses, or every phrase. */
  where: 'chorus' | 'all';
}

export interface VocalPlanV2 {
  fx: VocalFxParams;
  fxV2: VocalFxV2Params;
  leadPan: number;
  layers: VocalLayer[];
  choirDb: number;
}

export function chooseVocalPlan(singer: SingerV2, rng: Rng): VocalPlanV2 {
  const layers: VocalLayer[] = [];
  const spoken = singer.delivery === 'spoken';
  if (rng.chance(spoken ? 0.2 : 0.45)) {
    const side = rng.chance(0.5) ? 1 : -1;
    layers.push({ delaySec: rng.range(0.008, 0.035), detuneCents: rng.range(-12, 12), steps: 0, gainDb: rng.range(-9, -3), pan: side * rng.range(0.3, 0.9), where: rng.chance(0.5) ? 'chorus' : 'all' });
  }
  if (!spoken && rng.chance(0.35)) {
    layers.push({ delaySec: rng.range(0, 0.02), detuneCents: rng.range(-6, 6), steps: rng.pick([2, 2, 4, -3, -5]), gainDb: rng.range(-11, -5), pan: rng.range(-0.7, 0.7), where: rng.chance(0.7) ? 'chorus' : 'all' });
  }
  return { fx: chooseVocalFx(rng), fxV2: chooseVocalFxV2(singer.delivery, rng), leadPan: rng.range(-0.12, 0.12), layers, choirDb: rng.range(-14, -5) };
}

function diatonicShift(scale: Scale, midi: number, steps: number): number {
  if (steps === 0) return midi;
  const notes = scale.notesIn(midi - 24, midi + 24);
  const idx = notes.indexOf(midi);
  if (idx < 0) return midi + (steps > 0 ? 4 : -3);
  return notes[idx + steps] ?? midi;
}

function inChorus(song: Song, phrase: VocalPhrase): boolean {
  const barSec = (song.beatsPerBar * 60) / song.tempoBpm;
  const t = phrase.notes[0]?.startSec ?? 0;
  return song.sections.some((s) => s.kind === 'chorus' && t >= s.startBar * barSec && t < (s.startBar + s.bars) * barSec);
}

function layerSong(song: Song, layer: VocalLayer): Song {
  const scale = new Scale(song.keyRootPc, song.mode);
  const phrases = song.leadVocal
    .filter((p) => layer.where === 'all' || inChorus(song, p))
    .map((p) => ({ notes: p.notes.map((n) => ({ ...n, midi: diatonicShift(scale, n.midi, layer.steps) + layer.detuneCents / 100, startSec: n.startSec + layer.delaySec })) }))
    .map((p) => ({ notes: p.notes.filter((n) => n.startSec + n.durSec < song.durationSec - 0.3) }))
    .filter((p) => p.notes.length > 0);
  return { ...song, leadVocal: phrases };
}

function addPanned(out: Float32Array[], mono: Float32Array, pan: number, gain: number): void {
  const angle = ((pan + 1) * Math.PI) / 4;
  const gl = Math.cos(angle) * Math.SQRT2 * gain;
  const gr = Math.sin(angle) * Math.SQRT2 * gain;
  const [l, r] = out;
  if (l === undefined || r === undefined) return;
  for (let i = 0; i < mono.length; i++) {
    l[i] = (l[i] ?? 0) + (mono[i] ?? 0) * gl;
    r[i] = (r[i] ?? 0) + (mono[i] ?? 0) * gr;
  }
}

/** Stereo vocals stem before mixing; silent when the song has no sung phrases. */
export function renderVocalsV2(song: Song, singer: SingerV2, plan: VocalPlanV2, choir: Float32Array[], lengthSamples: number,
  sampleRateHz: number, tmpDir: string, rng: Rng): Float32Array[] {
  const out = [new Float32Array(lengthSamples), new Float32Array(lengthSamples)];
  if (song.leadVocal.length === 0) return out;
  const render: PhraseRenderer = singer.delivery === 'spoken' ? (p, s, rate, dir) => speakPhrase(p, s, rate, dir) : singPhrase;
  const line = (which: Song, label: string): Float32Array =>
    applyVocalFxV2(renderLeadVocal(which, singer, plan.fx, lengthSamples, sampleRateHz, tmpDir, rng.fork(label), render), sampleRateHz, plan.fxV2, rng.fork(`${label}-fx`));
  const lead = line(song, 'lead');
  addPanned(out, lead, plan.leadPan, 1);
  plan.layers.forEach((layer, k) => {
    const ls = layerSong(song, layer);
    if (ls.leadVocal.length === 0) return;
    addPanned(out, line(ls, `layer-${k}`), layer.pan, 10 ** (layer.gainDb / 20));
  });
  // Choir "oohs" sit under the lead at a fixed ratio of their loudness, as in v1.
  const leadDb = gatedRmsDb([lead], sampleRateHz);
  const choirLevelDb = gatedRmsDb(choir, sampleRateHz);
  if (Number.isFinite(leadDb) && Number.isFinite(choirLevelDb)) {
    const g = 10 ** ((leadDb + plan.choirDb - choirLevelDb) / 20);
    out.forEach((ch, c) => {
      const src = choir[c];
      if (src !== undefined) for (let i = 0; i < lengthSamples; i++) ch[i] = (ch[i] ?? 0) + (src[i] ?? 0) * g;
    });
  }
  return out;
}
