/**
 * Validation loss on fixed full tracks (no augmentation), cut into chunks so they batch; every chunk starts from
 * the model's initial state, as a stream would. Losses are frame-weighted means over all chunks.
 */
import type { StftConfig } from '../../server/dsp/stft.ts';
import { openMusdb } from '../data/open-dataset.ts';
import type { MusdbTrack } from '../data/musdb.ts';
import { validationItems } from '../data/sampler.ts';
import { prepareBatch, type Excerpt } from './batch.ts';
import type { StepLosses, Trainer } from './trainer.ts';

export interface ValidationSpec {
  dataDir: string;
  split: string;
  chunkSeconds: number;
  /** Seconds read from the start of each track (undefined: whole tracks). */
  maxSecondsPerTrack?: number;
  batchSize: number;
}

export async function openValidationTracks(spec: ValidationSpec): Promise<MusdbTrack[] | undefined> {
  try {
    return await openMusdb(spec.dataDir, spec.split);
  } catch (err) {
    if (err instanceof Error && 'code' in err && err.code === 'LIVESTEM_DATA_MISSING_FOLDER') return undefined;
    throw err;
  }
}

function chunk(item: Excerpt, chunkSamples: number): Excerpt[] {
  const length = item.mixture[0]!.length;
  const out: Excerpt[] = [];
  // A track shorter than one chunk is one chunk of its own length.
  if (length < chunkSamples) return [item];
  for (let start = 0; start + chunkSamples <= length; start += chunkSamples) {
    const cut = (s: Float32Array[]): Float32Array[] => s.map((ch) => ch.subarray(start, start + chunkSamples));
    out.push({ mixture: cut(item.mixture), vocals: cut(item.vocals), accompaniment: cut(item.accompaniment) });
  }
  return out;
}

export async function validate(trainer: Trainer, tracks: MusdbTrack[], spec: ValidationSpec, stft: StftConfig, sampleRateHz: number): Promise<StepLosses> {
  const chunkSamples = Math.round(spec.chunkSeconds * sampleRateHz);
  const sums = { total: 0, sep: 0, vad: 0, frames: 0 };
  let pending: Excerpt[] = [];
  const flush = (): void => {
    if (pending.length === 0) return;
    const data = prepareBatch(pending, stft, trainer.timeDomain);
    const l = trainer.evaluate(data);
    const frames = data.batch * data.frames;
    sums.total += l.total * frames;
    sums.sep += l.sep * frames;
    sums.vad += l.vad * frames;
    sums.frames += frames;
    pending = [];
  };
  for await (const item of validationItems(tracks, stft, spec.maxSecondsPerTrack)) {
    for (const c of chunk(item, chunkSamples)) {
      if (pending.length > 0 && pending[0]!.mixture[0]!.length !== c.mixture[0]!.length) flush();
      pending.push(c);
      if (pending.length === spec.batchSize) flush();
    }
  }
  flush();
  const n = Math.max(1, sums.frames);
  return { total: sums.total / n, sep: sums.sep / n, vad: sums.vad / n };
}
