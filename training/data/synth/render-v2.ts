/**
 * The v2 song renderer: a style picks the arrangement recipe, a v2 singer and vocal plan fill the vocals stem (or
 * nobody sings: instrumental songs), and the v2 mixer adds compression, reverb sizes, width, whole-mix filters and
 * loudness automation.
 */
import type { Rng } from './rng.ts';
import { compose, type ComposeVariant } from './composer.ts';
import { planFormV2 } from './form.ts';
import { renderMidiStems } from './midi-render.ts';
import { pickSingerV2, type SingerV2 } from './singers-v2.ts';
import { ANY_OTHER_PROGRAMS, CHOIR_PROGRAMS_V2, pickProgram, pickStyle, type ArrangementStyle } from './styles.ts';
import { chooseVocalPlan, renderVocalsV2, type VocalPlanV2 } from './vocals-v2.ts';
import { chooseMixV2, mixStemsV2, type MixParamsV2 } from './mixer-v2.ts';
import type { RenderedSong } from './render-v1.ts';
import type { Song } from './song.ts';

function round(x: number, digits = 4): number {
  const m = 10 ** digits;
  return Math.round(x * m) / m;
}

export interface SongPlanV2 {
  style: ArrangementStyle;
  instrumental: boolean;
  singer: SingerV2;
  song: Song;
  plan: VocalPlanV2;
  mix: MixParamsV2;
}

/** Every v2 choice for one track, before any audio is rendered (cheap: tests check thousands of these). */
export function planSongV2(rng: Rng, durationSec: number): SongPlanV2 {
  const style = pickStyle(rng.fork('style'));
  const choices = rng.fork('style-choices');
  const instrumental = choices.chance(style.instrumentalChance);
  const singer = pickSingerV2(style.deliveries, rng.fork('singer'));
  const fourFour = style.drumStyles.filter((s) => s !== 'waltz');
  const variant: ComposeVariant = {
    tripleMeterChance: style.tripleMeterChance, tempo4: style.tempo, tempo3: style.tempo, modes: style.modes,
    drumStyles: fourFour.length > 0 ? fourFour : ['ballad'],
    drumKit: choices.pick(style.drumKits),
    programs: { bass: style.bass, comp: style.comp, pad: style.pad, lead: style.lead, arp: style.arp, choir: CHOIR_PROGRAMS_V2 },
    // The bass stem keeps bass instruments; the other roles sometimes take any ordinary program.
    pickProgram: (role, pool, r) => (role === 'bass' ? r.pick(pool) : pickProgram(pool, ANY_OTHER_PROGRAMS, r)),
    bassStyles: style.bassStyles, compStyles: style.compStyles, planForm: planFormV2,
    vocals: !instrumental, instrumentLeadChance: 0.85,
    secondLead: choices.chance(0.5) ? pickProgram(style.lead, ANY_OTHER_PROGRAMS, choices) : null,
  };
  const minVocalNoteSec = singer.delivery === 'spoken' ? 0.15 : singer.engine === 'formant' ? 0.18 : 0.24;
  const song = compose({ durationSec, vocalLow: singer.lowMidi, vocalHigh: singer.highMidi, minVocalNoteSec }, rng.fork('song'), variant);
  return { style, instrumental, singer, song, plan: chooseVocalPlan(singer, rng.fork('vocal-plan')), mix: chooseMixV2(rng.fork('mix')) };
}

export async function renderSongV2(rng: Rng, durationSec: number, lengthSamples: number, sampleRateHz: number,
  scratch: string): Promise<RenderedSong> {
  const { style, instrumental, singer, song, plan, mix } = planSongV2(rng, durationSec);
  const midi = await renderMidiStems(song.channels, song.notes, lengthSamples, sampleRateHz);
  const vocals = renderVocalsV2(song, singer, plan, midi.vocals, lengthSamples, sampleRateHz, scratch, rng.fork('vocals'));
  const result = mixStemsV2({ vocals, drums: midi.drums, bass: midi.bass, other: midi.other }, mix, sampleRateHz, scratch);
  return {
    result,
    engine: instrumental ? 'instrumental' : `${singer.engine} ${singer.delivery}`,
    details: {
      profile: 'v2',
      style: style.name,
      instrumental,
      singer: instrumental ? null : singer,
      song: {
        tempoBpm: song.tempoBpm, beatsPerBar: song.beatsPerBar, keyRootPc: song.keyRootPc, mode: song.mode, drumStyle: song.drumStyle,
        chordsPerBar: song.chordsPerBar, sections: song.sections, channels: song.channels, noteCount: song.notes.length,
        leadVocal: song.leadVocal.map((p) => p.notes.map((n) => ({ word: n.word, midi: n.midi, startSec: round(n.startSec), durSec: round(n.durSec) }))),
      },
      vocalPlan: instrumental ? null : plan,
      mix, masterGain: round(result.masterGain, 6),
    },
  };
}
