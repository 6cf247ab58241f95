/**
 * Pitched parts of the arrangement: bass lines, comping, pads, arpeggios, melodies and choir "ooh" pads.
 * All in beats relative to the section start; `ChordAt` gives the chord sounding at a beat.
 */
import type { Rng } from './rng.ts';
import { chordNotesIn, type Scale } from './theory.ts';

export interface BeatNote {
  midi: number;
  beat: number;
  durBeats: number;
  velocity: number;
}

export interface ChordAt {
  (beat: number): { degree: number; pcs: number[] };
}

export const BASS_STYLES = ['roots', 'rootFifth', 'eighths', 'walking', 'syncopated', 'octaves'] as const;
export type BassStyle = (typeof BASS_STYLES)[number];
export const COMP_STYLES = ['block', 'offbeat', 'strum', 'arpeggio', 'sustain'] as const;
export type CompStyle = (typeof COMP_STYLES)[number];

function vel(base: number, energy: number, rng: Rng): number {
  return Math.max(25, Math.min(127, Math.round(base * (0.65 + 0.35 * energy) + rng.normal() * 5)));
}

export function bassLine(style: BassStyle, chordAt: ChordAt, beatsPerBar: number, bars: number, energy: number, rng: Rng): BeatNote[] {
  const notes: BeatNote[] = [];
  const rootNear = (beat: number): number => chordNotesIn([chordAt(beat).pcs[0] ?? 0], 33, 44)[0] ?? 36;
  const fifth = (beat: number): number => chordNotesIn([chordAt(beat).pcs[2] ?? 7], 38, 50)[0] ?? 43;
  for (let bar = 0; bar < bars; bar++) {
    const o = bar * beatsPerBar;
    const root = rootNear(o);
    const push = (midi: number, beat: number, dur: number, base = 100): void => {
      notes.push({ midi, beat: o + beat, durBeats: dur, velocity: vel(base, energy, rng) });
    };
    switch (style) {
      case 'roots':
        for (let b = 0; b < beatsPerBar; b += 2) push(rootNear(o + b), b, 1.8);
        break;
      case 'rootFifth':
        for (let b = 0; b < beatsPerBar; b++) push(b % 2 === 0 ? rootNear(o + b) : fifth(o + b), b, 0.9);
        break;
      case 'eighths':
        for (let b = 0; b < beatsPerBar; b += 0.5) push(rootNear(o + b), b, 0.42, b % 1 === 0 ? 100 : 85);
        break;
      case 'walking': {
        const next = rootNear(o + beatsPerBar);
        for (let b = 0; b < beatsPerBar; b++) {
          const pcs = chordAt(o + b).pcs;
          const tones = chordNotesIn(pcs, 31, 52);
          const m = b === 0 ? root : b === beatsPerBar - 1 ? next + rng.pick([-1, 1, 2]) : rng.pick(tones);
          push(m, b, 0.9);
        }
        break;
      }
      case 'syncopated':
        push(root, 0, 0.7);
        push(root, 0.75, 0.25, 80);
        push(root + 12, 1.5, 0.4, 85);
        push(fifth(o + 2), 2.5, 0.5);
        if (beatsPerBar > 3) push(root, 3, 0.4, 80);
        break;
      case 'octaves':
        for (let b = 0; b < beatsPerBar; b += 0.5) push(b % 1 === 0 ? root : root + 12, b, 0.4);
        break;
    }
  }
  return notes.filter((n) => n.beat < bars * beatsPerBar);
}

/** Close voicing of the chord around `center`. */
function voicing(pcs: number[], center: number, size: number): number[] {
  const pool = chordNotesIn(pcs, center - 7, center + 10);
  const start = Math.max(0, Math.floor((pool.length - size) / 2));
  return pool.slice(start, start + size);
}

export function compPart(style: CompStyle, chordAt: ChordAt, beatsPerBar: number, bars: number, energy: number, center: number, rng: Rng): BeatNote[] {
  const notes: BeatNote[] = [];
  for (let bar = 0; bar < bars; bar++) {
    const o = bar * beatsPerBar;
    const chord = (b: number): number[] => voicing(chordAt(o + b).pcs, center, rng.pick([3, 3, 4]));
    const hit = (b: number, dur: number, base: number): void => {
      const strumSec = style === 'strum' ? 0.012 : 0;
      chord(b).forEach((m, i) => notes.push({ midi: m, beat: o + b + i * strumSec * 2, durBeats: dur, velocity: vel(base, energy, rng) }));
    };
    switch (style) {
      case 'block':
        for (let b = 0; b < beatsPerBar; b++) hit(b, 0.85, 80);
        break;
      case 'offbeat':
        for (let b = 0.5; b < beatsPerBar; b += 1) hit(b, 0.35, 78);
        break;
      case 'strum':
        for (const b of [0, 1.5, 2, 2.5, 3.5]) if (b < beatsPerBar) hit(b, 0.45, b % 1 === 0 ? 85 : 70);
        break;
      case 'arpeggio': {
        const tones = chord(0);
        const order = [...tones, ...tones.slice(1, -1).reverse()];
        let i = 0;
        for (let b = 0; b < beatsPerBar; b += 0.5) {
          const m = order[i++ % Math.max(1, order.length)] ?? center;
          notes.push({ midi: m, beat: o + b, durBeats: 0.9, velocity: vel(75, energy, rng) });
        }
        break;
      }
      case 'sustain':
        hit(0, beatsPerBar - 0.1, 72);
        break;
    }
  }
  return notes;
}

/** Long chords, one per chord change. */
export function padPart(chordAt: ChordAt, beatsPerBar: number, bars: number, energy: number, center: number, rng: Rng, chordsPerBar: number): BeatNote[] {
  const notes: BeatNote[] = [];
  const step = beatsPerBar / chordsPerBar;
  for (let b = 0; b < bars * beatsPerBar - 1e-9; b += step) {
    for (const m of voicing(chordAt(b).pcs, center, 3)) notes.push({ midi: m, beat: b, durBeats: step * 0.98, velocity: vel(70, energy, rng) });
  }
  return notes;
}

const RHYTHM_CELLS: readonly (readonly number[])[] = [
  [1], [1], [0.5, 0.5], [0.5, 0.5], [1.5, 0.5], [0.75, 0.25], [2], [0.5, 1, 0.5], [1, 1], [0.25, 0.25, 0.5],
];

/**
 * Phrase-structured melody: `phraseBars`-bar phrases with a rest (breath) at the end of each, chord tones on strong
 * beats and mostly stepwise motion in between, kept within [lo, hi]. `minDurBeats` keeps notes singable.
 */
export function melody(scale: Scale, chordAt: ChordAt, beatsPerBar: number, bars: number, lo: number, hi: number,
  minDurBeats: number, rng: Rng): BeatNote[][] {
  const phrases: BeatNote[][] = [];
  const phraseBars = bars >= 4 ? rng.pick([2, 2, 4]) : Math.max(1, bars);
  const inScale = scale.notesIn(lo, hi);
  let prev = inScale[Math.floor(inScale.length / 2)] ?? Math.round((lo + hi) / 2);
  for (let p = 0; p * phraseBars < bars; p++) {
    const start = p * phraseBars * beatsPerBar + (rng.chance(0.4) ? rng.pick([0.5, 1]) : 0);
    const end = Math.min(bars, (p + 1) * phraseBars) * beatsPerBar - rng.pick([1, 1.5, 2]);
    const notes: BeatNote[] = [];
    let b = start;
    while (b < end - 1e-9) {
      const cell = rng.pick(RHYTHM_CELLS);
      for (const d0 of cell) {
        if (b >= end - 1e-9) break;
        const d = Math.min(Math.max(d0, minDurBeats), end - b);
        if (d < minDurBeats * 0.99) { b = end; break; }
        const strong = Math.abs(b - Math.round(b)) < 1e-6;
        let candidates = strong ? chordNotesIn(chordAt(b).pcs, lo, hi) : inScale;
        candidates = candidates.filter((m) => Math.abs(m - prev) <= (strong ? 7 : 4));
        if (candidates.length === 0) candidates = inScale;
        // Prefer small steps: weight by distance.
        const choice = rng.weighted(candidates.map((m) => [m, 1 / (1 + Math.abs(m - prev))] as const));
        notes.push({ midi: choice, beat: b, durBeats: d * 0.95, velocity: 90 + rng.int(-10, 15) });
        prev = choice;
        b += d;
      }
    }
    // End phrases on a longer note: stretch the last one into the gap a little.
    const last = notes[notes.length - 1];
    if (last !== undefined) last.durBeats = Math.min(last.durBeats + 0.5, end + 0.5 - last.beat);
    if (notes.length > 0) phrases.push(notes);
  }
  return phrases;
}
