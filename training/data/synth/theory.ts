/** Scales, chords and the small amount of music theory the composer needs. */

export const MODES: Readonly<Record<string, readonly number[]>> = {
  major: [0, 2, 4, 5, 7, 9, 11],
  minor: [0, 2, 3, 5, 7, 8, 10],
  dorian: [0, 2, 3, 5, 7, 9, 10],
  mixolydian: [0, 2, 4, 5, 7, 9, 10],
  harmonicMinor: [0, 2, 3, 5, 7, 8, 11],
};

/** Chord-root progressions in scale degrees (0 = tonic), idiomatic for major-ish and minor-ish modes. */
export const PROGRESSIONS_MAJOR: readonly (readonly number[])[] = [
  [0, 4, 5, 3], [0, 5, 3, 4], [5, 3, 0, 4], [0, 3, 4, 3], [0, 3, 0, 4], [1, 4, 0, 0], [0, 2, 3, 4], [3, 4, 0, 5],
  [0, 0, 3, 4], [0, 4, 3, 3], [5, 4, 3, 4], [0, 6, 3, 0],
];
export const PROGRESSIONS_MINOR: readonly (readonly number[])[] = [
  [0, 5, 2, 6], [0, 3, 4, 0], [0, 6, 5, 6], [0, 5, 3, 4], [0, 2, 6, 5], [3, 4, 0, 0], [0, 3, 6, 2], [5, 6, 0, 0],
];

export class Scale {
  readonly steps: readonly number[];

  constructor(readonly rootPc: number, readonly mode: string) {
    const steps = MODES[mode];
    if (steps === undefined) throw new RangeError(`unknown mode ${mode}`);
    this.steps = steps;
  }

  /** MIDI note of scale degree `degree` (any integer; 7 = tonic an octave up) with tonic octave at `tonicMidi`. */
  degreeToMidi(degree: number, tonicMidi: number): number {
    const n = this.steps.length;
    const octave = Math.floor(degree / n);
    const idx = ((degree % n) + n) % n;
    return tonicMidi + 12 * octave + (this.steps[idx] ?? 0);
  }

  /** Tonic MIDI note in the octave containing `near` (at or below it). */
  tonicNear(near: number): number {
    return near - (((near - this.rootPc) % 12) + 12) % 12;
  }

  /** Pitch classes of the triad (or seventh chord) on `degree`. */
  chordPcs(degree: number, seventh: boolean): number[] {
    const tones = seventh ? [0, 2, 4, 6] : [0, 2, 4];
    return tones.map((t) => (this.degreeToMidi(degree + t, this.rootPc) % 12 + 12) % 12);
  }

  isInScale(midi: number): boolean {
    const pc = ((midi - this.rootPc) % 12 + 12) % 12;
    return this.steps.includes(pc);
  }

  /** Scale notes within [lo, hi]. */
  notesIn(lo: number, hi: number): number[] {
    const out: number[] = [];
    for (let m = lo; m <= hi; m++) if (this.isInScale(m)) out.push(m);
    return out;
  }
}

/** Notes of the given pitch classes within [lo, hi], ascending. */
export function chordNotesIn(pcs: readonly number[], lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let m = lo; m <= hi; m++) if (pcs.includes(((m % 12) + 12) % 12)) out.push(m);
  return out;
}

export function midiToHz(midi: number): number {
  return 440 * 2 ** ((midi - 69) / 12);
}
