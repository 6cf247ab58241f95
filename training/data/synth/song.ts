/** The data model of one composed song: what the composer decides and the renderers read. */

export type StemName = 'vocals' | 'drums' | 'bass' | 'other';
export const STEM_NAMES: readonly StemName[] = ['vocals', 'drums', 'bass', 'other'];

/** 'break' (v2 only): a sparse instrumental stretch, drums and bass sometimes out. */
export type SectionKind = 'intro' | 'verse' | 'chorus' | 'bridge' | 'instrumental' | 'break' | 'outro';

export interface Section {
  kind: SectionKind;
  startBar: number;
  bars: number;
  /** Who carries the melody: the lead singer, an instrument, or nobody. */
  lead: 'vocal' | 'instrument' | 'none';
  /** 0..1, scales density and velocity. */
  energy: number;
  /** Chord root scale degrees, one per bar (or per half bar when `chordsPerBar` is 2). */
  progression: number[];
}

/** One MIDI channel of the arrangement and the stem it belongs to. */
export interface ChannelPlan {
  channel: number;
  program: number;
  role: 'drums' | 'bass' | 'comp' | 'pad' | 'lead' | 'arp' | 'choir';
  stem: StemName;
  /** MIDI pan 0..127 and volume 0..127, set once at the start. */
  pan: number;
  volume: number;
}

export interface NoteEvent {
  channel: number;
  midi: number;
  startSec: number;
  durSec: number;
  velocity: number;
}

export interface SungNote {
  midi: number;
  startSec: number;
  durSec: number;
  word: string;
}

export interface VocalPhrase {
  notes: SungNote[];
}

export interface Song {
  tempoBpm: number;
  beatsPerBar: number;
  keyRootPc: number;
  mode: string;
  drumStyle: string;
  chordsPerBar: number;
  sections: Section[];
  channels: ChannelPlan[];
  notes: NoteEvent[];
  leadVocal: VocalPhrase[];
  durationSec: number;
}
