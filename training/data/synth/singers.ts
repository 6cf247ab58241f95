/**
 * Singers: which engine sings the lead, with what voice, range, formant shift and vibrato. Male- and female-like
 * singers across three engines (Festival diphone singing mode, espeak-ng with an imposed melody, a JS formant
 * synthesiser), and the pitch contour (portamento, vibrato, drift) every engine follows.
 */
import type { Rng } from './rng.ts';
import type { SungNote } from './song.ts';
import { midiToHz } from './theory.ts';

export type VoiceEngine = 'festival' | 'espeak' | 'formant';

export interface Singer {
  engine: VoiceEngine;
  /** Festival voice (kal/ked), espeak-ng voice name, or formant-synth voice label. */
  voice: string;
  gender: 'male' | 'female';
  lowMidi: number;
  highMidi: number;
  /** PSOLA/formant scale: > 1 shorter vocal tract (female/child-like). */
  formantRatio: number;
  vibratoHz: number;
  vibratoCents: number;
  /** Seconds into a note before vibrato starts. */
  vibratoDelaySec: number;
  portamentoSec: number;
  /** 0..1: aspiration noise mixed into the voice. */
  breathiness: number;
  /** Slow random pitch drift depth in cents. */
  driftCents: number;
  /** Formant engine's glottal open quotient (v2): low = pressed/strained, high = breathy. Unset: by gender. */
  openQuotient?: number;
}

const ESPEAK_MALE = ['en+m1', 'en+m2', 'en+m3', 'en+m4', 'en+m7', 'en-us+m3', 'en-gb-x-rp', 'en-us', 'en+Storm', 'en-us+Andy'];
const ESPEAK_FEMALE = ['en+f1', 'en+f2', 'en+f3', 'en+f4', 'en+f5', 'en-us+f2', 'en+Annie', 'en+belinda', 'en+linda', 'en+anika'];

export function pickSinger(rng: Rng): Singer {
  const engine = rng.weighted([['festival', 0.4], ['espeak', 0.3], ['formant', 0.3]] as const);
  const gender = rng.chance(0.5) ? 'female' : 'male';
  const female = gender === 'female';
  // Festival's diphone voices are male; a female-like Festival singer is sung high and formant-shifted.
  const voice = engine === 'festival' ? rng.pick(['kal', 'ked']) : engine === 'espeak'
    ? rng.pick(female ? ESPEAK_FEMALE : ESPEAK_MALE)
    : `formant-${gender}`;
  const lowMidi = female ? rng.int(55, 60) : rng.int(43, 50);
  return {
    engine,
    voice,
    gender,
    lowMidi,
    highMidi: Math.min(engine === 'festival' ? 70 : 79, lowMidi + rng.int(12, 16)),
    formantRatio: female ? rng.range(1.1, 1.22) : rng.range(0.92, 1.04),
    vibratoHz: rng.range(4.5, 6.5),
    vibratoCents: rng.range(15, 60),
    vibratoDelaySec: rng.range(0.1, 0.3),
    portamentoSec: rng.range(0.03, 0.09),
    breathiness: rng.range(0.05, 0.35),
    driftCents: rng.range(3, 15),
  };
}

/**
 * The sung pitch (Hz) at time `tSec` relative to the phrase start: note pitches joined by short glides, vibrato
 * that sets in after a delay, and slow drift. Notes are relative to the phrase start too.
 */
export function pitchContour(notes: readonly SungNote[], singer: Singer, phraseStartSec: number): (tSec: number) => number {
  const rel = notes.map((n) => ({ start: n.startSec - phraseStartSec, end: n.startSec - phraseStartSec + n.durSec, midi: n.midi }));
  return (t) => {
    let idx = 0;
    while (idx + 1 < rel.length && (rel[idx + 1]?.start ?? Infinity) <= t) idx++;
    const note = rel[idx];
    if (note === undefined) return 200;
    let midi = note.midi;
    const prev = rel[idx - 1];
    const since = t - note.start;
    if (prev !== undefined && since < singer.portamentoSec && since >= 0) {
      const a = since / singer.portamentoSec;
      midi = prev.midi + (note.midi - prev.midi) * (0.5 - 0.5 * Math.cos(Math.PI * a));
    }
    const vibAmount = Math.min(1, Math.max(0, (since - singer.vibratoDelaySec) / 0.25));
    const cents = vibAmount * singer.vibratoCents * Math.sin(2 * Math.PI * singer.vibratoHz * t)
      + singer.driftCents * Math.sin(2 * Math.PI * 0.37 * t + 1.3) * Math.sin(2 * Math.PI * 0.11 * t);
    return midiToHz(midi + cents / 100);
  };
}
