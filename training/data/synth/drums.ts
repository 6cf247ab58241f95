/**
 * Drum patterns in several styles on the General MIDI percussion map (channel 10), with section-start crashes and
 * end-of-section fills. Times are in beats; the composer converts to seconds.
 */
import type { Rng } from './rng.ts';

export const DRUM_STYLES = ['rock', 'pop', 'halftime', 'disco', 'shuffle', 'funk', 'ballad', 'latin', 'waltz'] as const;
export type DrumStyle = (typeof DRUM_STYLES)[number];

const KICK = 36;
const RIM = 37;
const SNARE = 38;
const CLAP = 39;
const HAT = 42;
const PEDAL_HAT = 44;
const OPEN_HAT = 46;
const CRASH = 49;
const RIDE = 51;
const TAMBOURINE = 54;
const COWBELL = 56;
const CONGA_HI = 62;
const CONGA_LO = 64;
const SHAKER = 70;
const TOMS = [50, 48, 47, 45, 43, 41] as const;

export interface DrumHit {
  midi: number;
  beat: number;
  velocity: number;
}

interface Pattern {
  kick: number[];
  snare: number[];
  hats: number[];
  hatNote: number;
  extra: Array<readonly [number, number]>;
  snareNote: number;
}

/** One bar of the style (beats within the bar), before humanising. */
function barPattern(style: DrumStyle, beatsPerBar: number, variation: number, ride: boolean): Pattern {
  const eighths = Array.from({ length: beatsPerBar * 2 }, (_, i) => i / 2);
  const sixteenths = Array.from({ length: beatsPerBar * 4 }, (_, i) => i / 4);
  const hatNote = ride ? RIDE : HAT;
  switch (style) {
    case 'rock':
      return { kick: variation ? [0, 2, 2.5] : [0, 2], snare: [1, 3], hats: eighths, hatNote, extra: [], snareNote: SNARE };
    case 'pop':
      return { kick: [0, 1.5, 2.5], snare: [1, 3], hats: sixteenths, hatNote, extra: variation ? [[3.5, OPEN_HAT]] : [], snareNote: variation ? CLAP : SNARE };
    case 'halftime':
      return { kick: [0, 1.75, 2.5], snare: [2], hats: eighths, hatNote, extra: [], snareNote: SNARE };
    case 'disco':
      return { kick: [0, 1, 2, 3], snare: [1, 3], hats: [0, 1, 2, 3], hatNote: PEDAL_HAT, extra: [[0.5, OPEN_HAT], [1.5, OPEN_HAT], [2.5, OPEN_HAT], [3.5, OPEN_HAT]], snareNote: variation ? CLAP : SNARE };
    case 'shuffle':
      return { kick: [0, 2, 2 + 2 / 3], snare: [1, 3], hats: [0, 2 / 3, 1, 5 / 3, 2, 8 / 3, 3, 11 / 3], hatNote: ride ? RIDE : HAT, extra: [], snareNote: SNARE };
    case 'funk':
      return { kick: [0, 0.75, 2.25, 2.5], snare: [1, 3], hats: sixteenths, hatNote, extra: [[1.75, SNARE], [3.25, SNARE]], snareNote: SNARE };
    case 'ballad':
      return { kick: [0, 2.5], snare: [2], hats: eighths, hatNote, extra: variation ? [[3.5, TAMBOURINE]] : [], snareNote: variation ? SNARE : RIM };
    case 'latin':
      return { kick: [0, 1.5, 2, 3.5], snare: [1.75, 3], hats: eighths, hatNote: SHAKER, extra: [[0.5, CONGA_HI], [1, CONGA_LO], [2.5, CONGA_HI], [3, COWBELL]], snareNote: RIM };
    case 'waltz':
      return { kick: [0], snare: [1, 2], hats: eighths.slice(0, beatsPerBar * 2), hatNote, extra: [], snareNote: variation ? RIM : SNARE };
  }
}

/** A tom/snare fill over the last beat(s) of a bar. */
function fill(beatsPerBar: number, rng: Rng): DrumHit[] {
  const lengthBeats = rng.pick([1, 2]);
  const start = beatsPerBar - lengthBeats;
  const hits: DrumHit[] = [];
  const step = rng.pick([0.25, 0.5]);
  let tom = 0;
  for (let b = start; b < beatsPerBar - 1e-9; b += step) {
    const useSnare = rng.chance(0.35);
    hits.push({ midi: useSnare ? SNARE : (TOMS[Math.min(tom, TOMS.length - 1)] ?? 45), beat: b, velocity: 70 + rng.int(0, 40) });
    if (!useSnare && rng.chance(0.6)) tom += 1;
  }
  return hits;
}

/**
 * Drum hits for `bars` bars of one section. `energy` thins the pattern (quiet sections lose hats and ghost notes).
 */
export function drumSection(style: DrumStyle, beatsPerBar: number, bars: number, energy: number, rng: Rng): DrumHit[] {
  const hits: DrumHit[] = [];
  const ride = energy > 0.75 && rng.chance(0.4);
  const withFill = bars >= 2 && rng.chance(0.8);
  for (let bar = 0; bar < bars; bar++) {
    const offset = bar * beatsPerBar;
    const isFillBar = withFill && bar === bars - 1;
    const pattern = barPattern(style, beatsPerBar, bar % 2, ride);
    const fillStart = isFillBar ? beatsPerBar - 2 : beatsPerBar;
    const accent = 0.6 + 0.4 * energy;
    const add = (midi: number, beat: number, base: number): void => {
      if (beat >= beatsPerBar || (isFillBar && beat >= fillStart && midi !== KICK)) return;
      const velocity = Math.max(20, Math.min(127, Math.round(base * accent + rng.normal() * 6)));
      hits.push({ midi, beat: offset + beat + rng.normal() * 0.006, velocity });
    };
    for (const b of pattern.kick) add(KICK, b, 105);
    for (const b of pattern.snare) add(pattern.snareNote, b, 108);
    if (energy > 0.3) {
      for (const b of pattern.hats) add(pattern.hatNote, b, Number.isInteger(b) ? 85 : 62);
    }
    for (const [b, midi] of pattern.extra) add(midi, b, 80);
    if (bar === 0 && energy > 0.45) hits.push({ midi: CRASH, beat: offset, velocity: 100 + rng.int(0, 20) });
    if (isFillBar) for (const h of fill(beatsPerBar, rng)) hits.push({ ...h, beat: h.beat + offset });
  }
  return hits.map((h) => ({ ...h, beat: Math.max(0, h.beat) }));
}
