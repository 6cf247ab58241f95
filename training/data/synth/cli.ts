/**
 * npm run data:synth -- --out data/synth --train 100 --valid 14 --test 20 --seconds 60 --seed 1 --workers 2 [--profile v1|v2]
 * Generates synthetic multitrack songs in the MUSDB18-HQ layout; deterministic per (profile, seed), resumable.
 */
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { createRequire } from 'node:module';
import { generateTrack, isTrackComplete, trackDir, type TrackSummary } from './generate-track.ts';
import { planJobs } from './plan.ts';
import { checkSystemTools, MissingToolError } from './system-tools.ts';
import { runJobsInWorkers } from './workers.ts';
import { DEFAULT_PROFILE, GENERATOR_PROFILES, isGeneratorProfile, type GeneratorProfile } from './profile.ts';

const USAGE = 'usage: npm run data:synth -- --out DIR [--train N] [--valid N] [--test N] [--seconds S] [--seed N] [--workers N] [--profile v1|v2]';
const HELP = `${USAGE}

Writes <out>/<split>/<track>/{mixture,vocals,drums,bass,other}.wav + vocal_activity.json + meta.json (MUSDB18-HQ
layout, 44.1 kHz 16-bit stereo; the stems sum to the mixture). Same profile and seed: bit-identical files. A run
resumes: complete track folders are skipped.

  --profile v2   (default) genres with their own instruments, drum kits and forms; ~1 in 5 songs instrumental;
                 long instrumental intros, breaks and endings with an instrumental lead; sung, breathy, strained
                 and spoken vocals from Festival, espeak-ng (many accents/variants) and a formant synth, with
                 doubles, harmonies and choir backing; compression, reverb sizes, stereo width, bus compression,
                 low-pass/telephone/radio band on the whole mix, fades and loudness rides. Tracks: synth<seed>v2_*.
  --profile v1   the first generator, frozen: regenerates the data the shipped models were trained on
                 (--profile v1 --seed 1 --train 60 --valid 14 --test 20 --seconds 60). Tracks: synth<seed>_*.
  --seconds S    track length (default 60); --seed N (default 1); --workers N child processes (default 1).`;

class UsageError extends Error {}

/** The slice of cli-progress we use (the package ships no types and @types/cli-progress is not installed). */
interface ProgressBar {
  start(total: number, value: number, payload: Record<string, string>): void;
  increment(step: number, payload: Record<string, string>): void;
  stop(): void;
}
interface CliProgress {
  SingleBar: new (opts: Record<string, unknown>, preset: unknown) => ProgressBar;
  Presets: { shades_classic: unknown };
}
const cliProgress = createRequire(import.meta.url)('cli-progress') as CliProgress;

function intOption(values: Record<string, string | boolean | undefined>, name: string, fallback: number, min: number): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (typeof raw !== 'string' || !Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer >= ${min}, got ${String(raw)}`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      out: { type: 'string' }, train: { type: 'string' }, valid: { type: 'string' }, test: { type: 'string' },
      seconds: { type: 'string' }, seed: { type: 'string' }, workers: { type: 'string' }, profile: { type: 'string' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.help === true) {
    console.log(HELP);
    return;
  }
  if (values.out === undefined) throw new UsageError('--out is required');
  const counts = { train: intOption(values, 'train', 100, 0), valid: intOption(values, 'valid', 14, 0), test: intOption(values, 'test', 20, 0) };
  const seconds = intOption(values, 'seconds', 60, 2);
  const seed = intOption(values, 'seed', 1, 0);
  const workers = intOption(values, 'workers', 1, 1);
  const profileArg = values.profile ?? DEFAULT_PROFILE;
  if (typeof profileArg !== 'string' || !isGeneratorProfile(profileArg)) {
    throw new UsageError(`--profile must be one of ${GENERATOR_PROFILES.join(', ')}, got ${String(profileArg)}`);
  }
  const profile: GeneratorProfile = profileArg;
  checkSystemTools();

  const jobs = planJobs(resolve(values.out), counts, seed, seconds, profile);
  const todo = jobs.filter((j) => !isTrackComplete(trackDir(j)));
  const bar = new cliProgress.SingleBar({
    format: 'synth {bar} {value}/{total} tracks | {speed} s compute per audio min per worker | eta {eta_formatted} | {last}',
    noTTYOutput: true, notTTYSchedule: 15000, etaBuffer: 8,
  }, cliProgress.Presets.shades_classic);
  bar.start(jobs.length, jobs.length - todo.length, { speed: '-', last: todo.length < jobs.length ? `resuming, ${jobs.length - todo.length} done` : '' });
  let computeSec = 0;
  let audioSec = 0;
  const onDone = (s: TrackSummary): void => {
    computeSec += s.computeSec;
    audioSec += s.audioSec;
    bar.increment(1, { speed: audioSec > 0 ? (computeSec / (audioSec / 60)).toFixed(1) : '-', last: `${s.name} (${s.engine}, vocals ${(s.vocalFraction * 100).toFixed(0)} %)` });
  };
  if (workers <= 1 || todo.length <= 1) {
    for (const job of todo) onDone(await generateTrack(job));
  } else {
    await runJobsInWorkers(todo, workers, onDone);
  }
  bar.stop();
  if (audioSec > 0) {
    console.error(`generated ${todo.length} tracks (${(audioSec / 60).toFixed(1)} min of audio) in ${computeSec.toFixed(0)} s of compute: `
      + `${(computeSec / (audioSec / 60)).toFixed(1)} s per audio minute per core`);
  }
}

main().catch((err: unknown) => {
  if (err instanceof MissingToolError || err instanceof UsageError) {
    console.error(`data:synth: ${err.message}${err instanceof UsageError ? `\n${USAGE}` : ''}`);
    process.exit(2);
  }
  console.error(`data:synth: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
