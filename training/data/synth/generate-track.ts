/**
 * Generates one track from its seed and writes it in the MUSDB18-HQ layout:
 * <out>/<split>/<name>/{mixture,vocals,drums,bass,other}.wav + vocal_activity.json + meta.json.
 * Written into a temp folder first and renamed, so a folder that exists is complete (resume relies on this).
 */
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeWav } from '../../../server/dsp/wav.ts';
import { VAD_AMPLITUDE_THRESHOLD, vadFrameSamples, vocalActivity } from '../vad-labels.ts';
import { Rng } from './rng.ts';
import { compose } from './composer.ts';
import { renderMidiStems } from './midi-render.ts';
import { pickSinger } from './singers.ts';
import { renderLeadVocal } from './vocals.ts';
import { chooseVocalFx } from './vocal-fx.ts';
import { chooseMix, gatedRmsDb, mixStems } from './mixer.ts';
import { STEM_NAMES } from './song.ts';

export const SAMPLE_RATE_HZ = 44100;
export const GENERATOR_VERSION = 1;
export const TRACK_FILES = ['mixture.wav', 'vocals.wav', 'drums.wav', 'bass.wav', 'other.wav', 'vocal_activity.json', 'meta.json'] as const;

export interface TrackJob {
  outDir: string;
  split: string;
  index: number;
  name: string;
  seed: number;
  durationSec: number;
}

export interface TrackSummary {
  name: string;
  split: string;
  skipped: boolean;
  audioSec: number;
  computeSec: number;
  vocalFraction: number;
  engine: string;
}

export function trackDir(job: TrackJob): string {
  return join(job.outDir, job.split, job.name);
}

export function isTrackComplete(dir: string): boolean {
  return TRACK_FILES.every((f) => existsSync(join(dir, f)));
}

function round(x: number, digits = 4): number {
  const m = 10 ** digits;
  return Math.round(x * m) / m;
}

export async function generateTrack(job: TrackJob): Promise<TrackSummary> {
  const finalDir = trackDir(job);
  if (isTrackComplete(finalDir)) {
    return { name: job.name, split: job.split, skipped: true, audioSec: 0, computeSec: 0, vocalFraction: NaN, engine: '' };
  }
  const started = performance.now();
  const rng = new Rng(job.seed);
  const lengthSamples = Math.round(job.durationSec * SAMPLE_RATE_HZ);
  const singer = pickSinger(rng.fork('singer'));
  const song = compose({
    durationSec: job.durationSec,
    vocalLow: singer.lowMidi,
    vocalHigh: singer.highMidi,
    minVocalNoteSec: singer.engine === 'formant' ? 0.18 : 0.24,
  }, rng.fork('song'));
  const vocalFx = chooseVocalFx(rng.fork('vocal-fx'));
  const mix = chooseMix(rng.fork('mix'));
  const choirDb = rng.fork('choir').range(-12, -5);

  const scratch = mkdtempSync(join(tmpdir(), `livestem-synth-${job.name}-`));
  try {
    const midi = await renderMidiStems(song.channels, song.notes, lengthSamples, SAMPLE_RATE_HZ);
    const lead = renderLeadVocal(song, singer, vocalFx, lengthSamples, SAMPLE_RATE_HZ, scratch, rng.fork('lead'));
    // Choir backing sits under the lead at a fixed ratio of their loudness.
    const leadDb = gatedRmsDb([lead], SAMPLE_RATE_HZ);
    const choirLevelDb = gatedRmsDb(midi.vocals, SAMPLE_RATE_HZ);
    const choirGain = Number.isFinite(leadDb) && Number.isFinite(choirLevelDb) ? 10 ** ((leadDb + choirDb - choirLevelDb) / 20) : 1;
    const vocals = midi.vocals.map((ch) => {
      const out = new Float32Array(lengthSamples);
      for (let i = 0; i < lengthSamples; i++) out[i] = (lead[i] ?? 0) + (ch[i] ?? 0) * choirGain;
      return out;
    });
    const result = mixStems({ vocals, drums: midi.drums, bass: midi.bass, other: midi.other }, mix, SAMPLE_RATE_HZ, scratch);

    const labels = vocalActivity(result.stems.vocals, SAMPLE_RATE_HZ, vadFrameSamples(SAMPLE_RATE_HZ));
    const vocalFraction = labels.reduce((a, b) => a + b, 0) / Math.max(1, labels.length);
    const stemRmsDb = Object.fromEntries(STEM_NAMES.map((s) => [s, round(gatedRmsDb(result.stems[s], SAMPLE_RATE_HZ), 2)]));

    const splitDir = join(job.outDir, job.split);
    mkdirSync(splitDir, { recursive: true });
    const tmpDir = join(splitDir, `.${job.name}.tmp-${process.pid}`);
    rmSync(tmpDir, { recursive: true, force: true });
    mkdirSync(tmpDir);
    writeFileSync(join(tmpDir, 'mixture.wav'), encodeWav(result.mixture, SAMPLE_RATE_HZ, 's16'));
    for (const s of STEM_NAMES) writeFileSync(join(tmpDir, `${s}.wav`), encodeWav(result.stems[s], SAMPLE_RATE_HZ, 's16'));
    writeFileSync(join(tmpDir, 'vocal_activity.json'), JSON.stringify({
      rule: 'mean |x| over channels and samples of the vocals stem per 10 ms frame > threshold (seed 004)',
      sampleRateHz: SAMPLE_RATE_HZ,
      frameSamples: vadFrameSamples(SAMPLE_RATE_HZ),
      frameSec: 0.01,
      threshold: VAD_AMPLITUDE_THRESHOLD,
      frames: labels.length,
      vocalFraction: round(vocalFraction),
      labels: Array.from(labels),
    }));
    writeFileSync(join(tmpDir, 'meta.json'), `${JSON.stringify({
      generator: 'livestem synthetic multitrack', version: GENERATOR_VERSION,
      name: job.name, split: job.split, index: job.index, seed: job.seed, sampleRateHz: SAMPLE_RATE_HZ, durationSec: job.durationSec,
      regenerate: `npm run data:synth (track seed ${job.seed}; see training/data/synth)`,
      singer,
      song: {
        tempoBpm: song.tempoBpm, beatsPerBar: song.beatsPerBar, keyRootPc: song.keyRootPc, mode: song.mode, drumStyle: song.drumStyle,
        chordsPerBar: song.chordsPerBar, sections: song.sections, channels: song.channels, noteCount: song.notes.length,
        leadVocal: song.leadVocal.map((p) => p.notes.map((n) => ({ word: n.word, midi: n.midi, startSec: round(n.startSec), durSec: round(n.durSec) }))),
      },
      vocalFx, choirDb: round(choirDb, 2), mix, masterGain: round(result.masterGain, 6),
      stats: { stemRmsDb, vocalFraction: round(vocalFraction) },
    }, null, 1)}\n`);
    rmSync(finalDir, { recursive: true, force: true });
    renameSync(tmpDir, finalDir);
    return { name: job.name, split: job.split, skipped: false, audioSec: job.durationSec, computeSec: (performance.now() - started) / 1000, vocalFraction, engine: singer.engine };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
