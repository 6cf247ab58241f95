/**
 * The v1 song renderer, frozen: existing models were trained on its output, and `--profile v1` must regenerate
 * those tracks bit for bit. Don't change what it draws or how it renders; add to v2 instead.
 */
import type { Rng } from './rng.ts';
import { compose } from './composer.ts';
import { renderMidiStems } from './midi-render.ts';
import { pickSinger } from './singers.ts';
import { renderLeadVocal } from './vocals.ts';
import { chooseVocalFx } from './vocal-fx.ts';
import { chooseMix, gatedRmsDb, mixStems, type MixResult } from './mixer.ts';

export interface RenderedSong {
  result: MixResult;
  engine: string;
  /** meta.json fields after `regenerate`, in the order they are written. */
  details: Record<string, unknown>;
}

function round(x: number, digits = 4): number {
  const m = 10 ** digits;
  return Math.round(x * m) / m;
}

export async function renderSongV1(rng: Rng, durationSec: number, lengthSamples: number, sampleRateHz: number,
  scratch: string): Promise<RenderedSong> {
  const singer = pickSinger(rng.fork('singer'));
  const song = compose({
    durationSec,
    vocalLow: singer.lowMidi,
    vocalHigh: singer.highMidi,
    minVocalNoteSec: singer.engine === 'formant' ? 0.18 : 0.24,
  }, rng.fork('song'));
  const vocalFx = chooseVocalFx(rng.fork('vocal-fx'));
  const mix = chooseMix(rng.fork('mix'));
  const choirDb = rng.fork('choir').range(-12, -5);

  const midi = await renderMidiStems(song.channels, song.notes, lengthSamples, sampleRateHz);
  const lead = renderLeadVocal(song, singer, vocalFx, lengthSamples, sampleRateHz, scratch, rng.fork('lead'));
  // Choir backing sits under the lead at a fixed ratio of their loudness.
  const leadDb = gatedRmsDb([lead], sampleRateHz);
  const choirLevelDb = gatedRmsDb(midi.vocals, sampleRateHz);
  const choirGain = Number.isFinite(leadDb) && Number.isFinite(choirLevelDb) ? 10 ** ((leadDb + choirDb - choirLevelDb) / 20) : 1;
  const vocals = midi.vocals.map((ch) => {
    const out = new Float32Array(lengthSamples);
    for (let i = 0; i < lengthSamples; i++) out[i] = (lead[i] ?? 0) + (ch[i] ?? 0) * choirGain;
    return out;
  });
  const result = mixStems({ vocals, drums: midi.drums, bass: midi.bass, other: midi.other }, mix, sampleRateHz, scratch);
  return {
    result,
    engine: singer.engine,
    details: {
      singer,
      song: {
        tempoBpm: song.tempoBpm, beatsPerBar: song.beatsPerBar, keyRootPc: song.keyRootPc, mode: song.mode, drumStyle: song.drumStyle,
        chordsPerBar: song.chordsPerBar, sections: song.sections, channels: song.channels, noteCount: song.notes.length,
        leadVocal: song.leadVocal.map((p) => p.notes.map((n) => ({ word: n.word, midi: n.midi, startSec: round(n.startSec), durSec: round(n.durSec) }))),
      },
      vocalFx, choirDb: round(choirDb, 2), mix, masterGain: round(result.masterGain, 6),
    },
  };
}
