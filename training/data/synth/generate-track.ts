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
import { gatedRmsDb } from './mixer.ts';
import { STEM_NAMES } from './song.ts';
import { profileVersion, type GeneratorProfile } from './profile.ts';
import { renderSongV1, type RenderedSong } from './render-v1.ts';
import { renderSongV2 } from './render-v2.ts';

export const SAMPLE_RATE_HZ = 44100;
export const TRACK_FILES = ['mixture.wav', 'vocals.wav', 'drums.wav', 'bass.wav', 'other.wav', 'vocal_activity.json', 'meta.json'] as const;

export interface TrackJob {
  outDir: string;
  split: string;
  index: number;
  name: string;
  seed: number;
  durationSec: number;
  profile: GeneratorProfile;
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
  const scratch = mkdtempSync(join(tmpdir(), `livestem-synth-${job.name}-`));
  try {
    const rendered: RenderedSong = job.profile === 'v1'
      ? await renderSongV1(rng, job.durationSec, lengthSamples, SAMPLE_RATE_HZ, scratch)
      : await renderSongV2(rng, job.durationSec, lengthSamples, SAMPLE_RATE_HZ, scratch);
    const { result } = rendered;
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
      generator: 'livestem synthetic multitrack', version: profileVersion(job.profile),
      name: job.name, split: job.split, index: job.index, seed: job.seed, sampleRateHz: SAMPLE_RATE_HZ, durationSec: job.durationSec,
      regenerate: job.profile === 'v1'
        ? `npm run data:synth (track seed ${job.seed}; see training/data/synth)`
        : `npm run data:synth -- --profile ${job.profile} (track seed ${job.seed}; see training/data/synth)`,
      ...rendered.details,
      stats: { stemRmsDb, vocalFraction: round(vocalFraction) },
    }, null, 1)}\n`);
    rmSync(finalDir, { recursive: true, force: true });
    renameSync(tmpDir, finalDir);
    return { name: job.name, split: job.split, skipped: false, audioSec: job.durationSec, computeSec: (performance.now() - started) / 1000, vocalFraction, engine: rendered.engine };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
