/**
 * v2 arrangement styles ("genres"): tempo, meter, modes, drum styles and kits, General MIDI programs per role and
 * how likely a song is sung, spoken or shouted. Why several: a model trained on one arrangement recipe learns the
 * recipe; songs from another generator (other instruments, other singers) then fool it.
 *
 * Voice-like presets (52–54 choir/voice oohs, 85 voice lead, 91 choir pad) are never in an "other" pool: they only
 * ever play as deliberate backing vocals on the vocals stem (CHOIR_PROGRAMS_V2).
 */
import type { Rng } from './rng.ts';
import type { DrumStyle } from './drums.ts';
import type { BassStyle, CompStyle } from './parts.ts';

export type Delivery = 'sung' | 'breathy' | 'strained' | 'spoken';

export interface ArrangementStyle {
  name: string;
  tempo: readonly [number, number];
  tripleMeterChance: number;
  modes: ReadonlyArray<readonly [string, number]>;
  drumStyles: readonly DrumStyle[];
  /** GM drum-kit programs on channel 10 (bank 128): 0 standard, 8 room, 16 power, 24 electronic, 25 TR-808, 32 jazz, 40 brush, 48 orchestra. */
  drumKits: readonly number[];
  bass: readonly number[];
  comp: readonly number[];
  pad: readonly number[];
  lead: readonly number[];
  arp: readonly number[];
  bassStyles: readonly BassStyle[];
  compStyles: readonly CompStyle[];
  /** Chance the whole song has no vocals at all. */
  instrumentalChance: number;
  deliveries: ReadonlyArray<readonly [Delivery, number]>;
}

export const VOICE_LIKE_PROGRAMS_V2: readonly number[] = [52, 53, 54, 85, 91];
export const CHOIR_PROGRAMS_V2: readonly number[] = [52, 53, 54, 85, 91];

/**
 * Every pitched GM program that may play in "other": 0–111 and steel drums, minus the voice-like ones and the
 * basses (32–39), which would blur the bass stem.
 */
export const ANY_OTHER_PROGRAMS: readonly number[] = [...Array.from({ length: 112 }, (_, p) => p), 114]
  .filter((p) => !VOICE_LIKE_PROGRAMS_V2.includes(p) && (p < 32 || p > 39));
const ALL_BASSES = [32, 33, 34, 35, 36, 37, 38, 39, 43, 58, 70, 87];

const ALL_BASS_STYLES: readonly BassStyle[] = ['roots', 'rootFifth', 'eighths', 'walking', 'syncopated', 'octaves'];
const ALL_COMP_STYLES: readonly CompStyle[] = ['block', 'offbeat', 'strum', 'arpeggio', 'sustain'];
const SUNG: ReadonlyArray<readonly [Delivery, number]> = [['sung', 6], ['breathy', 2], ['strained', 1], ['spoken', 0.7]];

export const STYLES: readonly ArrangementStyle[] = [
  { name: 'pop', tempo: [84, 132], tripleMeterChance: 0.05, modes: [['major', 6], ['minor', 3], ['mixolydian', 1]],
    drumStyles: ['pop', 'rock', 'disco', 'halftime', 'ballad'], drumKits: [0, 0, 8, 24], bass: [33, 34, 38, 39, 35],
    comp: [0, 1, 2, 4, 5, 24, 25, 27], pad: [48, 49, 50, 51, 88, 89, 90, 92, 94, 95], lead: [73, 80, 81, 11, 26, 65, 66, 56, 71, 22],
    arp: [0, 4, 8, 10, 11, 13, 46, 108], bassStyles: ['roots', 'eighths', 'syncopated', 'octaves'], compStyles: ALL_COMP_STYLES,
    instrumentalChance: 0.08, deliveries: SUNG },
  { name: 'rock', tempo: [96, 168], tripleMeterChance: 0.04, modes: [['major', 4], ['minor', 4], ['mixolydian', 2], ['dorian', 1]],
    drumStyles: ['rock', 'halftime', 'shuffle'], drumKits: [0, 8, 16, 16], bass: [33, 34, 35, 29],
    comp: [29, 30, 27, 25, 28, 16, 17, 18], pad: [48, 49, 19, 50, 16], lead: [29, 30, 27, 26, 57, 65, 81, 17],
    arp: [25, 27, 24], bassStyles: ['roots', 'eighths', 'rootFifth', 'octaves'], compStyles: ['block', 'strum', 'offbeat', 'sustain'],
    instrumentalChance: 0.1, deliveries: [['sung', 5], ['strained', 3], ['breathy', 1], ['spoken', 0.5]] },
  { name: 'electronic', tempo: [100, 140], tripleMeterChance: 0, modes: [['minor', 5], ['major', 3], ['dorian', 2]],
    drumStyles: ['disco', 'pop', 'halftime', 'funk'], drumKits: [24, 25, 24, 0], bass: [38, 39, 87, 81, 36],
    comp: [80, 81, 84, 86, 4, 5, 62, 63, 90, 94], pad: [88, 89, 90, 92, 93, 94, 95, 50, 51, 98, 99, 101],
    lead: [80, 81, 82, 83, 84, 86, 87, 62, 98, 100, 102, 103], arp: [80, 81, 98, 99, 100, 102, 8, 11],
    bassStyles: ['eighths', 'octaves', 'syncopated', 'roots'], compStyles: ['offbeat', 'arpeggio', 'sustain', 'block'],
    instrumentalChance: 0.3, deliveries: [['sung', 5], ['breathy', 3], ['spoken', 1.5], ['strained', 0.5]] },
  { name: 'hiphop', tempo: [72, 100], tripleMeterChance: 0, modes: [['minor', 6], ['dorian', 2], ['harmonicMinor', 1]],
    drumStyles: ['halftime', 'funk', 'pop'], drumKits: [25, 25, 24, 0], bass: [38, 39, 33, 34, 87],
    comp: [4, 5, 0, 11, 12, 46, 48, 61, 62], pad: [88, 89, 94, 95, 48, 49, 19], lead: [11, 12, 73, 80, 81, 56, 66, 104, 8],
    arp: [8, 11, 12, 46, 108, 10], bassStyles: ['roots', 'syncopated', 'octaves'], compStyles: ['sustain', 'arpeggio', 'offbeat'],
    instrumentalChance: 0.1, deliveries: [['spoken', 5], ['sung', 3], ['strained', 1], ['breathy', 1]] },
  { name: 'jazz', tempo: [70, 180], tripleMeterChance: 0.2, modes: [['major', 3], ['dorian', 3], ['minor', 2], ['mixolydian', 2]],
    drumStyles: ['shuffle', 'ballad', 'latin'], drumKits: [32, 40, 32, 40, 0], bass: [32, 32, 33, 35],
    comp: [0, 1, 4, 5, 26, 11, 16, 3], pad: [48, 49, 61, 16, 19], lead: [64, 65, 66, 67, 56, 57, 59, 71, 73, 11, 26, 22],
    arp: [0, 11, 46, 26], bassStyles: ['walking', 'walking', 'rootFifth'], compStyles: ['offbeat', 'block', 'sustain', 'strum'],
    instrumentalChance: 0.35, deliveries: [['sung', 6], ['breathy', 3], ['spoken', 0.5]] },
  { name: 'folk', tempo: [76, 150], tripleMeterChance: 0.25, modes: [['major', 5], ['mixolydian', 2], ['dorian', 2], ['minor', 2]],
    drumStyles: ['ballad', 'pop', 'shuffle', 'latin'], drumKits: [0, 8, 40], bass: [32, 33, 43, 58],
    comp: [24, 25, 105, 15, 21, 23, 46, 107], pad: [48, 49, 21, 20, 109], lead: [40, 110, 22, 73, 75, 77, 105, 109, 71, 72, 68, 24],
    arp: [24, 25, 46, 105, 15, 107], bassStyles: ['roots', 'rootFifth', 'walking'], compStyles: ['strum', 'arpeggio', 'block'],
    instrumentalChance: 0.15, deliveries: [['sung', 7], ['breathy', 2], ['strained', 1], ['spoken', 0.5]] },
  { name: 'latin', tempo: [88, 150], tripleMeterChance: 0.05, modes: [['minor', 4], ['major', 4], ['harmonicMinor', 1], ['dorian', 1]],
    drumStyles: ['latin', 'funk', 'disco'], drumKits: [0, 8], bass: [32, 33, 35, 36],
    comp: [24, 0, 1, 12, 13, 4, 114, 25], pad: [48, 49, 61, 50, 16], lead: [56, 59, 65, 66, 73, 11, 12, 24, 40, 22, 21],
    arp: [12, 13, 11, 24, 114, 108], bassStyles: ['syncopated', 'rootFifth', 'octaves'], compStyles: ['offbeat', 'strum', 'arpeggio'],
    instrumentalChance: 0.15, deliveries: SUNG },
  { name: 'funk-soul', tempo: [88, 124], tripleMeterChance: 0.03, modes: [['dorian', 4], ['mixolydian', 3], ['minor', 2], ['major', 2]],
    drumStyles: ['funk', 'disco', 'shuffle', 'halftime'], drumKits: [0, 8, 24], bass: [36, 37, 33, 34, 38],
    comp: [7, 4, 5, 16, 17, 27, 28, 61, 62], pad: [16, 17, 18, 61, 48, 89], lead: [61, 56, 57, 64, 65, 66, 17, 62, 81, 27, 22],
    arp: [7, 27, 4, 11], bassStyles: ['syncopated', 'octaves', 'eighths', 'walking'], compStyles: ['offbeat', 'strum', 'block'],
    instrumentalChance: 0.15, deliveries: [['sung', 5], ['strained', 2], ['breathy', 2], ['spoken', 1]] },
  { name: 'cinematic', tempo: [60, 120], tripleMeterChance: 0.25, modes: [['minor', 5], ['major', 3], ['harmonicMinor', 2], ['dorian', 1]],
    drumStyles: ['ballad', 'halftime', 'waltz'], drumKits: [48, 48, 0, 8], bass: [43, 42, 32, 58, 70],
    comp: [0, 46, 48, 45, 49, 11, 9, 14, 47], pad: [48, 49, 44, 50, 51, 89, 92, 95, 60, 61], lead: [40, 41, 42, 68, 69, 70, 71, 73, 74, 60, 56, 57, 46, 110, 111],
    arp: [46, 0, 8, 9, 10, 13, 45], bassStyles: ['roots', 'rootFifth'], compStyles: ['arpeggio', 'sustain', 'block'],
    instrumentalChance: 0.45, deliveries: [['sung', 6], ['breathy', 3], ['spoken', 0.5]] },
  { name: 'world', tempo: [72, 140], tripleMeterChance: 0.2, modes: [['dorian', 3], ['harmonicMinor', 3], ['minor', 2], ['mixolydian', 2]],
    drumStyles: ['latin', 'ballad', 'funk', 'halftime'], drumKits: [0, 8, 48], bass: [32, 33, 43, 58, 39],
    comp: [104, 105, 106, 107, 15, 24, 46, 108, 12, 114], pad: [48, 49, 89, 92, 109, 21, 20, 19], lead: [104, 106, 107, 109, 111, 75, 77, 78, 79, 72, 71, 110, 22, 68],
    arp: [108, 107, 12, 13, 114, 46], bassStyles: ['roots', 'rootFifth', 'syncopated'], compStyles: ['arpeggio', 'strum', 'offbeat', 'sustain'],
    instrumentalChance: 0.3, deliveries: [['sung', 6], ['breathy', 2], ['strained', 1], ['spoken', 1]] },
];

/** Programs for one role: usually the style's pool, sometimes any ordinary program (unheard-of combinations). */
export function pickProgram(pool: readonly number[], anyPool: readonly number[], rng: Rng): number {
  return rng.chance(0.2) ? rng.pick(anyPool) : rng.pick(pool);
}

export function pickStyle(rng: Rng): ArrangementStyle {
  const style = rng.pick(STYLES);
  // A fifth of the songs mix the style's rhythm section with another style's bass/comp choices.
  if (!rng.chance(0.2)) return style;
  return { ...style, name: `${style.name}-mixed`, bassStyles: ALL_BASS_STYLES, compStyles: ALL_COMP_STYLES, bass: ALL_BASSES };
}
