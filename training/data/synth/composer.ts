/**
 * Composes one song: tempo, key/mode, a section form (intro/verse/chorus/bridge/instrumental/break/outro), chord
 * progressions, drums, bass, comping, pads, arpeggios, an instrumental lead where nobody sings, choir "ooh"s in
 * choruses (vocals stem) and the lead vocal melody with its words. A `ComposeVariant` carries what differs between
 * generator profiles (pools, tempi, forms, whether anyone sings).
 */
import type { Rng } from './rng.ts';
import type { ChannelPlan, NoteEvent, Section, SectionKind, Song, VocalPhrase } from './song.ts';
import { PROGRESSIONS_MAJOR, PROGRESSIONS_MINOR, Scale } from './theory.ts';
import { DRUM_STYLES, drumSection, type DrumStyle } from './drums.ts';
import { BASS_STYLES, COMP_STYLES, bassLine, compPart, melody, padPart, type BassStyle, type BeatNote, type ChordAt, type CompStyle } from './parts.ts';
import { lyricWords } from './lyrics.ts';
import { planFormV1, type FormEntry } from './form.ts';

/** General MIDI programs per role. Choir/voice presets (52–54, 85 "voice lead", 91 "choir pad") never go to "other". */
const BASS_PROGRAMS = [32, 33, 34, 35, 36, 37, 38, 39];
const COMP_PROGRAMS = [0, 1, 2, 4, 5, 7, 16, 17, 18, 24, 25, 26, 27, 28, 29, 30, 11, 12, 6];
const PAD_PROGRAMS = [48, 49, 50, 51, 88, 89, 90, 92, 93, 94, 95, 19, 61, 44];
const ARP_PROGRAMS = [0, 4, 5, 8, 10, 11, 12, 13, 24, 25, 46, 108];
const LEAD_PROGRAMS = [73, 71, 64, 65, 66, 56, 40, 26, 27, 29, 30, 80, 81, 82, 83, 84, 86, 87, 68, 22, 0, 11, 17, 57, 60, 41, 74, 79, 69, 72];
const CHOIR_PROGRAMS = [52, 53, 54];
export const VOICE_LIKE_PROGRAMS: readonly number[] = [52, 53, 54, 85, 91];

/**
 * What differs between generator profiles in composition. Each field is drawn where v1 drew its constant, so the
 * v1 variant below reproduces v1's random sequence exactly; v2-only choices draw nothing from v1's streams.
 */
export interface ComposeVariant {
  tripleMeterChance: number;
  tempo4: readonly [number, number];
  tempo3: readonly [number, number];
  modes: ReadonlyArray<readonly [string, number]>;
  /** Drum styles for 4/4 (3/4 is always 'waltz'). */
  drumStyles: readonly DrumStyle[];
  /** GM drum-kit program on channel 10. */
  drumKit: number;
  programs: { bass: readonly number[]; comp: readonly number[]; pad: readonly number[]; lead: readonly number[]; arp: readonly number[]; choir: readonly number[] };
  pickProgram: (role: 'bass' | 'comp' | 'pad' | 'lead' | 'arp', pool: readonly number[], rng: Rng) => number;
  bassStyles: readonly BassStyle[];
  compStyles: readonly CompStyle[];
  planForm: (totalBars: number, rng: Rng) => FormEntry[];
  /** false: nobody sings; sections meant to be sung get the instrumental lead. */
  vocals: boolean;
  /** Chance that an unsung intro/outro/break carries an instrumental melody (instrumental sections always do). */
  instrumentLeadChance: number;
  /** Second lead instrument (MIDI channel index 6) alternating with the first across instrumental sections. */
  secondLead: number | null;
}

export const V1_VARIANT: ComposeVariant = {
  tripleMeterChance: 0.1, tempo4: [70, 150], tempo3: [84, 150],
  modes: [['major', 5], ['minor', 4], ['dorian', 1], ['mixolydian', 1], ['harmonicMinor', 0.5]],
  drumStyles: DRUM_STYLES.filter((s) => s !== 'waltz'), drumKit: 0,
  programs: { bass: BASS_PROGRAMS, comp: COMP_PROGRAMS, pad: PAD_PROGRAMS, lead: LEAD_PROGRAMS, arp: ARP_PROGRAMS, choir: CHOIR_PROGRAMS },
  pickProgram: (_role, pool, rng) => rng.pick(pool),
  bassStyles: BASS_STYLES, compStyles: COMP_STYLES, planForm: planFormV1, vocals: true, instrumentLeadChance: 0.5, secondLead: null,
};

export interface ComposeOptions {
  durationSec: number;
  /** Lead singer's comfortable MIDI range. */
  vocalLow: number;
  vocalHigh: number;
  /** Shortest sung note; consonants need time. */
  minVocalNoteSec: number;
}

const SECTION_ENERGY: Record<SectionKind, number> = { intro: 0.4, verse: 0.6, chorus: 0.9, bridge: 0.5, instrumental: 0.8, break: 0.5, outro: 0.45 };

export function compose(opts: ComposeOptions, rng: Rng, variant: ComposeVariant = V1_VARIANT): Song {
  const r = { form: rng.fork('form'), harmony: rng.fork('harmony'), drums: rng.fork('drums'), parts: rng.fork('parts'), vocal: rng.fork('vocal') };
  const beatsPerBar = r.form.chance(variant.tripleMeterChance) ? 3 : 4;
  const tempoBpm = r.form.int(beatsPerBar === 3 ? variant.tempo3[0] : variant.tempo4[0], beatsPerBar === 3 ? variant.tempo3[1] : variant.tempo4[1]);
  const beatSec = 60 / tempoBpm;
  const barSec = beatsPerBar * beatSec;
  const totalBars = Math.ceil(opts.durationSec / barSec);
  const mode = r.harmony.weighted(variant.modes);
  const keyRootPc = r.harmony.int(0, 11);
  const scale = new Scale(keyRootPc, mode);
  const progressions = mode === 'major' || mode === 'mixolydian' ? PROGRESSIONS_MAJOR : PROGRESSIONS_MINOR;
  const chordsPerBar = r.harmony.chance(0.25) ? 2 : 1;
  const sevenths = r.harmony.chance(0.3);
  const progFor: Record<SectionKind, number[]> = {
    verse: [...r.harmony.pick(progressions)], chorus: [...r.harmony.pick(progressions)], bridge: [...r.harmony.pick(progressions)],
    intro: [], instrumental: [], break: [], outro: [],
  };
  progFor.intro = progFor.verse;
  progFor.instrumental = r.harmony.chance(0.5) ? progFor.chorus : progFor.verse;
  progFor.outro = progFor.chorus;
  progFor.break = progFor.verse;
  const drumStyle: DrumStyle = beatsPerBar === 3 ? 'waltz' : r.drums.pick(variant.drumStyles);

  // Form, then guarantee room without lead vocals: at most ~62 % of bars are sung (the rest has a lead instrument
  // or nothing), so "melody" never means "vocals" and the VAD sees plenty of negatives.
  const form = variant.planForm(totalBars, r.form);
  const sections: Section[] = [];
  let bar = 0;
  for (const f of form) {
    const sung = (f.kind === 'verse' || f.kind === 'chorus' || (f.kind === 'bridge' && r.form.chance(0.6))) && variant.vocals;
    const lead = sung ? 'vocal' : f.kind === 'instrumental' || r.form.chance(variant.instrumentLeadChance) ? 'instrument' : 'none';
    const energy = Math.min(1, Math.max(0.2, SECTION_ENERGY[f.kind] + r.form.range(-0.1, 0.1)));
    sections.push({ kind: f.kind, startBar: bar, bars: f.bars, lead, energy, progression: progFor[f.kind] });
    bar += f.bars;
  }
  const sungBars = (): number => sections.reduce((n, s) => n + (s.lead === 'vocal' ? s.bars : 0), 0);
  for (let i = sections.length - 1; i > 0 && sungBars() > 0.62 * totalBars; i--) {
    const s = sections[i];
    if (s !== undefined && s.lead === 'vocal' && sections.filter((x) => x.lead === 'vocal').length > 1) {
      s.lead = 'instrument';
      s.kind = s.kind === 'chorus' || s.kind === 'verse' ? 'instrumental' : s.kind;
    }
  }
  if (sungBars() > 0.62 * totalBars) {
    // A lone sung section that is too long: sing only its first part.
    const s = sections.find((x) => x.lead === 'vocal');
    if (s !== undefined && s.bars > 1) {
      const keep = Math.max(1, Math.floor(0.62 * totalBars) - (sungBars() - s.bars));
      sections.splice(sections.indexOf(s) + 1, 0, { ...s, kind: 'instrumental', lead: 'instrument', startBar: s.startBar + keep, bars: s.bars - keep });
      s.bars = keep;
    }
  }

  const pr = r.parts;
  const channels: ChannelPlan[] = [
    { channel: 9, program: variant.drumKit, role: 'drums', stem: 'drums', pan: 64, volume: 110 },
    { channel: 0, program: variant.pickProgram('bass', variant.programs.bass, pr), role: 'bass', stem: 'bass', pan: 64, volume: 110 },
    { channel: 1, program: variant.pickProgram('comp', variant.programs.comp, pr), role: 'comp', stem: 'other', pan: pr.int(34, 94), volume: pr.int(85, 110) },
    { channel: 2, program: variant.pickProgram('pad', variant.programs.pad, pr), role: 'pad', stem: 'other', pan: pr.int(34, 94), volume: pr.int(60, 95) },
    { channel: 3, program: variant.pickProgram('lead', variant.programs.lead, pr), role: 'lead', stem: 'other', pan: pr.int(44, 84), volume: pr.int(95, 120) },
    { channel: 4, program: variant.pickProgram('arp', variant.programs.arp, pr), role: 'arp', stem: 'other', pan: pr.int(24, 104), volume: pr.int(60, 95) },
    { channel: 5, program: pr.pick(variant.programs.choir), role: 'choir', stem: 'vocals', pan: 64, volume: pr.int(70, 100) },
  ];
  if (variant.secondLead !== null) channels.push({ channel: 6, program: variant.secondLead, role: 'lead', stem: 'other', pan: 64, volume: 110 });
  const bassStyle = pr.pick(variant.bassStyles);
  const compStyle = pr.pick(variant.compStyles);
  const compCenter = pr.int(55, 70);
  const padEverywhere = pr.chance(0.4);
  const arpSections = pr.chance(0.4);
  const choirInChorus = pr.chance(0.5);
  const counterMelody = pr.chance(0.35);
  const leadLow = pr.int(58, 70);

  const notes: NoteEvent[] = [];
  const leadVocal: VocalPhrase[] = [];
  const add = (channel: number, sectionStartSec: number, list: readonly BeatNote[]): void => {
    for (const n of list) {
      notes.push({ channel, midi: n.midi, startSec: sectionStartSec + n.beat * beatSec, durSec: n.durBeats * beatSec, velocity: n.velocity });
    }
  };
  let instrumentalSections = 0;
  for (const s of sections) {
    const startSec = s.startBar * barSec;
    const chordAt: ChordAt = (beat) => {
      const idx = Math.floor(beat / (beatsPerBar / chordsPerBar));
      const degree = s.progression[((idx % s.progression.length) + s.progression.length) % s.progression.length] ?? 0;
      return { degree, pcs: scale.chordPcs(degree, sevenths) };
    };
    const e = s.energy;
    const sparse = s.kind === 'intro' || s.kind === 'break';
    const drumsOn = !sparse || pr.chance(0.5);
    if (drumsOn) {
      for (const h of drumSection(drumStyle, beatsPerBar, s.bars, e, r.drums)) {
        notes.push({ channel: 9, midi: h.midi, startSec: startSec + h.beat * beatSec, durSec: 0.2, velocity: h.velocity });
      }
    }
    if (!sparse || pr.chance(0.5)) add(0, startSec, bassLine(bassStyle, chordAt, beatsPerBar, s.bars, e, pr));
    add(1, startSec, compPart(s.kind === 'intro' && pr.chance(0.5) ? 'arpeggio' : compStyle, chordAt, beatsPerBar, s.bars, e, compCenter, pr));
    if (padEverywhere || s.kind === 'chorus' || s.kind === 'bridge' || s.kind === 'outro') {
      add(2, startSec, padPart(chordAt, beatsPerBar, s.bars, e * 0.8, compCenter + 5, pr, chordsPerBar));
    }
    if (arpSections && (s.kind === 'chorus' || s.kind === 'instrumental' || s.kind === 'bridge')) {
      add(4, startSec, compPart('arpeggio', chordAt, beatsPerBar, s.bars, e * 0.7, compCenter + 12, pr));
    }
    if (s.lead === 'instrument') {
      // With a second lead, instrumental sections alternate soloists (v1 has one: always channel 3).
      const soloist = variant.secondLead !== null && instrumentalSections++ % 2 === 1 ? 6 : 3;
      for (const phrase of melody(scale, chordAt, beatsPerBar, s.bars, leadLow, leadLow + 17, 0.25, pr)) add(soloist, startSec, phrase);
    } else if (s.lead === 'vocal') {
      if (counterMelody) {
        // A quiet instrumental counter-line under the singer: long notes, low velocity.
        const counter = melody(scale, chordAt, beatsPerBar, s.bars, leadLow, leadLow + 12, 1.5, pr).flat();
        add(3, startSec, counter.map((n) => ({ ...n, velocity: Math.round(n.velocity * 0.55) })));
      }
      if (choirInChorus && s.kind === 'chorus') add(5, startSec, padPart(chordAt, beatsPerBar, s.bars, e, pr.int(60, 67), pr, chordsPerBar));
      const minBeats = Math.max(0.5, Math.ceil(opts.minVocalNoteSec / beatSec * 4) / 4);
      const phrases = melody(scale, chordAt, beatsPerBar, s.bars, opts.vocalLow, opts.vocalHigh, minBeats, r.vocal);
      for (const phrase of phrases) {
        const words = lyricWords(phrase.length, r.vocal);
        leadVocal.push({
          notes: phrase.map((n, i) => ({ midi: n.midi, startSec: startSec + n.beat * beatSec, durSec: n.durBeats * beatSec, word: words[i] ?? 'la' })),
        });
      }
    }
  }
  const end = opts.durationSec;
  const keptNotes = notes.filter((n) => n.startSec < end - 0.05).sort((a, b) => a.startSec - b.startSec || a.channel - b.channel || a.midi - b.midi);
  const keptPhrases = leadVocal
    .map((p) => ({ notes: p.notes.filter((n) => n.startSec + n.durSec < end - 0.3) }))
    .filter((p) => p.notes.length > 0);
  return { tempoBpm, beatsPerBar, keyRootPc, mode, drumStyle, chordsPerBar, sections, channels, notes: keptNotes, leadVocal: keptPhrases, durationSec: end };
}
