/** Which tracks a run generates, and each track's seed. */
import { hashSeed } from './rng.ts';
import type { TrackJob } from './generate-track.ts';
import type { GeneratorProfile } from './profile.ts';

/**
 * Per-track seeds depend on (profile, seed, split, index) only, so --train 10 and --train 100 share their first 10
 * tracks. v2 tracks get their own names, so a v2 run into a v1 folder never "resumes" from v1 tracks.
 */
export function planJobs(outDir: string, counts: Record<string, number>, seed: number, durationSec: number,
  profile: GeneratorProfile = 'v1'): TrackJob[] {
  const jobs: TrackJob[] = [];
  for (const [split, count] of Object.entries(counts)) {
    for (let index = 0; index < count; index++) {
      const n = String(index).padStart(4, '0');
      jobs.push(profile === 'v1'
        ? { outDir, split, index, name: `synth${seed}_${split}_${n}`, seed: hashSeed('livestem-synth', seed, split, index), durationSec, profile }
        : { outDir, split, index, name: `synth${seed}${profile}_${split}_${n}`, seed: hashSeed(`livestem-synth-${profile}`, seed, split, index), durationSec, profile });
    }
  }
  return jobs;
}
