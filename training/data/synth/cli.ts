/**
 * npm run data:synth -- --out data/synth --train 100 --valid 14 --test 20 --seconds 60 --seed 1 --workers 2
 * Generates synthetic multitrack songs in the MUSDB18-HQ layout; deterministic per seed, resumable.
 */
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { createRequire } from 'node:module';
import { generateTrack, isTrackComplete, trackDir, type TrackSummary } from './generate-track.ts';
import { planJobs } from './plan.ts';
import { checkSystemTools, MissingToolError } from './system-tools.ts';
import { runJobsInWorkers } from './workers.ts';

const USAGE = 'usage: npm run data:synth -- --out DIR [--train N] [--valid N] [--test N] [--seconds S] [--seed N] [--workers N]';

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
      seconds: { type: 'string' }, seed: { type: 'string' }, workers: { type: 'string' }, help: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.help === true) {
    console.log(USAGE);
    return;
  }
  if (values.out === undefined) throw new UsageError('--out is required');
  const counts = { train: intOption(values, 'train', 100, 0), valid: intOption(values, 'valid', 14, 0), test: intOption(values, 'test', 20, 0) };
  const seconds = intOption(values, 'seconds', 60, 2);
  const seed = intOption(values, 'seed', 1, 0);
  const workers = intOption(values, 'workers', 1, 1);
  checkSystemTools();

  const jobs = planJobs(resolve(values.out), counts, seed, seconds);
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
