/**
 * Composes one song: tempo, key/mode, a section form (intro/verse/chorus/bridge/instrumental/outro), chord
 * progressions, drums, bass, comping, pads, arpeggios, an instrumental lead where nobody sings, choir "ooh"s in
 * choruses (vocals stem) and the lead vocal melody with its words.
 */
import type { Rng } from './rng.ts';
import type { ChannelPlan, NoteEvent, Section, SectionKind, Song, VocalPhrase } from './song.ts';
import { PROGRESSIONS_MAJOR, PROGRESSIONS_MINOR, Scale } from './theory.ts';
import { DRUM_STYLES, drumSection, type DrumStyle } from './drums.ts';
import { BASS_STYLES, COMP_STYLES, bassLine, compPart, melody, padPart, type BeatNote, type ChordAt } from './parts.ts';
import { lyricWords } from './lyrics.ts';

/** General MIDI programs per role. Choir/voice presets (52–54, 85 "voice lead", 91 "choir pad") never go to "other". */
const BASS_PROGRAMS = [32, 33, 34, 35, 36, 37, 38, 39];
const COMP_PROGRAMS = [0, 1, 2, 4, 5, 7, 16, 17, 18, 24, 25, 26, 27, 28, 29, 30, 11, 12, 6];
const PAD_PROGRAMS = [48, 49, 50, 51, 88, 89, 90, 92, 93, 94, 95, 19, 61, 44];
const ARP_PROGRAMS = [0, 4, 5, 8, 10, 11, 12, 13, 24, 25, 46, 108];
const LEAD_PROGRAMS = [73, 71, 64, 65, 66, 56, 40, 26, 27, 29, 30, 80, 81, 82, 83, 84, 86, 87, 68, 22, 0, 11, 17, 57, 60, 41, 74, 79, 69, 72];
const CHOIR_PROGRAMS = [52, 53, 54];
export const VOICE_LIKE_PROGRAMS: readonly number[] = [52, 53, 54, 85, 91];

export interface ComposeOptions {
  durationSec: number;
  /** Lead singer's comfortable MIDI range. */
  vocalLow: number;
  vocalHigh: number;
  /** Shortest sung note; consonants need time. */
  minVocalNoteSec: number;
}

const SECTION_ENERGY: Record<SectionKind, number> = { intro: 0.4, verse: 0.6, chorus: 0.9, bridge: 0.5, instrumental: 0.8, outro: 0.45 };

function planForm(totalBars: number, rng: Rng): Array<{ kind: SectionKind; bars: number }> {
  const verseBars = rng.pick([4, 8, 8]);
  const chorusBars = rng.pick([4, 8, 8]);
  const template: Array<{ kind: SectionKind; bars: number }> = [
    { kind: 'intro', bars: Math.min(rng.pick([2, 4, 4]), Math.max(1, Math.round(totalBars * 0.2))) },
    { kind: 'verse', bars: verseBars },
    { kind: 'chorus', bars: chorusBars },
    { kind: 'instrumental', bars: rng.pick([4, 8]) },
    { kind: 'verse', bars: verseBars },
    { kind: 'chorus', bars: chorusBars },
    { kind: 'bridge', bars: 4 },
    { kind: 'instrumental', bars: 4 },
    { kind: 'chorus', bars: chorusBars },
    { kind: 'outro', bars: 4 },
  ];
  if (rng.chance(0.3)) template.splice(3, 1);
  const form: Array<{ kind: SectionKind; bars: number }> = [];
  let used = 0;
  for (let i = 0; used < totalBars; i++) {
    const s = template[i % template.length] ?? { kind: 'instrumental', bars: 4 };
    const bars = Math.min(s.bars, totalBars - used);
    form.push({ kind: s.kind, bars });
    used += bars;
  }
  return form;
}

export function compose(opts: ComposeOptions, rng: Rng): Song {
  const r = { form: rng.fork('form'), harmony: rng.fork('harmony'), drums: rng.fork('drums'), parts: rng.fork('parts'), vocal: rng.fork('vocal') };
  const beatsPerBar = r.form.chance(0.1) ? 3 : 4;
  const tempoBpm = r.form.int(beatsPerBar === 3 ? 84 : 70, beatsPerBar === 3 ? 150 : 150);
  const beatSec = 60 / tempoBpm;
  const barSec = beatsPerBar * beatSec;
  const totalBars = Math.ceil(opts.durationSec / barSec);
  const mode = r.harmony.weighted([['major', 5], ['minor', 4], ['dorian', 1], ['mixolydian', 1], ['harmonicMinor', 0.5]] as const);
  const keyRootPc = r.harmony.int(0, 11);
  const scale = new Scale(keyRootPc, mode);
  const progressions = mode === 'major' || mode === 'mixolydian' ? PROGRESSIONS_MAJOR : PROGRESSIONS_MINOR;
  const chordsPerBar = r.harmony.chance(0.25) ? 2 : 1;
  const sevenths = r.harmony.chance(0.3);
  const progFor: Record<SectionKind, number[]> = {
    verse: [...r.harmony.pick(progressions)], chorus: [...r.harmony.pick(progressions)], bridge: [...r.harmony.pick(progressions)],
    intro: [], instrumental: [], outro: [],
  };
  progFor.intro = progFor.verse;
  progFor.instrumental = r.harmony.chance(0.5) ? progFor.chorus : progFor.verse;
  progFor.outro = progFor.chorus;
  const drumStyle: DrumStyle = beatsPerBar === 3 ? 'waltz' : r.drums.pick(DRUM_STYLES.filter((s) => s !== 'waltz'));

  // Form, then guarantee room without lead vocals: at most ~62 % of bars are sung (the rest has a lead instrument
  // or nothing), so "melody" never means "vocals" and the VAD sees plenty of negatives.
  const form = planForm(totalBars, r.form);
  const sections: Section[] = [];
  let bar = 0;
  for (const f of form) {
    const sung = f.kind === 'verse' || f.kind === 'chorus' || (f.kind === 'bridge' && r.form.chance(0.6));
    const lead = sung ? 'vocal' : f.kind === 'instrumental' || r.form.chance(0.5) ? 'instrument' : 'none';
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
    { channel: 9, program: 0, role: 'drums', stem: 'drums', pan: 64, volume: 110 },
    { channel: 0, program: pr.pick(BASS_PROGRAMS), role: 'bass', stem: 'bass', pan: 64, volume: 110 },
    { channel: 1, program: pr.pick(COMP_PROGRAMS), role: 'comp', stem: 'other', pan: pr.int(34, 94), volume: pr.int(85, 110) },
    { channel: 2, program: pr.pick(PAD_PROGRAMS), role: 'pad', stem: 'other', pan: pr.int(34, 94), volume: pr.int(60, 95) },
    { channel: 3, program: pr.pick(LEAD_PROGRAMS), role: 'lead', stem: 'other', pan: pr.int(44, 84), volume: pr.int(95, 120) },
    { channel: 4, program: pr.pick(ARP_PROGRAMS), role: 'arp', stem: 'other', pan: pr.int(24, 104), volume: pr.int(60, 95) },
    { channel: 5, program: pr.pick(CHOIR_PROGRAMS), role: 'choir', stem: 'vocals', pan: 64, volume: pr.int(70, 100) },
  ];
  const bassStyle = pr.pick(BASS_STYLES);
  const compStyle = pr.pick(COMP_STYLES);
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
  for (const s of sections) {
    const startSec = s.startBar * barSec;
    const chordAt: ChordAt = (beat) => {
      const idx = Math.floor(beat / (beatsPerBar / chordsPerBar));
      const degree = s.progression[((idx % s.progression.length) + s.progression.length) % s.progression.length] ?? 0;
      return { degree, pcs: scale.chordPcs(degree, sevenths) };
    };
    const e = s.energy;
    const drumsOn = s.kind !== 'intro' || pr.chance(0.5);
    if (drumsOn) {
      for (const h of drumSection(drumStyle, beatsPerBar, s.bars, e, r.drums)) {
        notes.push({ channel: 9, midi: h.midi, startSec: startSec + h.beat * beatSec, durSec: 0.2, velocity: h.velocity });
      }
    }
    if (s.kind !== 'intro' || pr.chance(0.5)) add(0, startSec, bassLine(bassStyle, chordAt, beatsPerBar, s.bars, e, pr));
    add(1, startSec, compPart(s.kind === 'intro' && pr.chance(0.5) ? 'arpeggio' : compStyle, chordAt, beatsPerBar, s.bars, e, compCenter, pr));
    if (padEverywhere || s.kind === 'chorus' || s.kind === 'bridge' || s.kind === 'outro') {
      add(2, startSec, padPart(chordAt, beatsPerBar, s.bars, e * 0.8, compCenter + 5, pr, chordsPerBar));
    }
    if (arpSections && (s.kind === 'chorus' || s.kind === 'instrumental' || s.kind === 'bridge')) {
      add(4, startSec, compPart('arpeggio', chordAt, beatsPerBar, s.bars, e * 0.7, compCenter + 12, pr));
    }
    if (s.lead === 'instrument') {
      for (const phrase of melody(scale, chordAt, beatsPerBar, s.bars, leadLow, leadLow + 17, 0.25, pr)) add(3, startSec, phrase);
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
