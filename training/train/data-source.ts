/**
 * Where training excerpts come from: the data contributors' Open-Unmix-style sampler (training/data/sampler.ts)
 * over a MUSDB-layout folder. Described by a plain, structured-cloneable spec so the worker thread can open the
 * same source the main thread would.
 */
import type { StftConfig } from '../../server/dsp/stft.ts';
import { openMusdb } from '../data/open-dataset.ts';
import { TrainingSampler, type SamplerState } from '../data/sampler.ts';
import type { Excerpt } from './batch.ts';

export interface ExcerptSourceSpec {
  dataDir: string;
  split: string;
  stft: StftConfig;
  seed: number;
  seqDurSeconds: number;
  samplesPerTrack: number;
}

export interface ExcerptSource {
  next(): Promise<Excerpt>;
  /** Gives an excerpt's memory back for reuse once nothing reads it any more (calling it is optional). */
  recycle(excerpt: Excerpt): void;
  getState(): unknown;
  setState(state: unknown): void;
  /** Items per epoch. */
  readonly epochLength: number;
  readonly trackCount: number;
}

export async function openExcerptSource(spec: ExcerptSourceSpec): Promise<ExcerptSource> {
  const tracks = await openMusdb(spec.dataDir, spec.split);
  const sampler = new TrainingSampler(tracks, {
    stft: spec.stft,
    seed: spec.seed,
    seqDurSeconds: spec.seqDurSeconds,
    samplesPerTrack: spec.samplesPerTrack,
  });
  return {
    next: async () => {
      const item = await sampler.next();
      return { mixture: item.mixture, vocals: item.vocals, accompaniment: item.accompaniment, vad: item.vad };
    },
    recycle: (excerpt) => sampler.recycle(excerpt),
    getState: () => sampler.getState(),
    setState: (state) => sampler.setState(state as SamplerState),
    epochLength: sampler.epochLength,
    trackCount: tracks.length,
  };
}
