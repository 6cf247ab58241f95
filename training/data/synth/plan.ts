/** Which tracks a run generates, and each track's seed. */
import { hashSeed } from './rng.ts';
import type { TrackJob } from './generate-track.ts';

/** Per-track seeds depend on (seed, split, index) only, so --train 10 and --train 100 share their first 10 tracks. */
export function planJobs(outDir: string, counts: Record<string, number>, seed: number, durationSec: number): TrackJob[] {
  const jobs: TrackJob[] = [];
  for (const [split, count] of Object.entries(counts)) {
    for (let index = 0; index < count; index++) {
      jobs.push({ outDir, split, index, name: `synth${seed}_${split}_${String(index).padStart(4, '0')}`, seed: hashSeed('livestem-synth', seed, split, index), durationSec });
    }
  }
  return jobs;
}
