/**
 * Real-time factor of offline separation: compute time / audio time for one whole song through the server's
 * offline separator (the same streaming pipeline and ONNX model a live session uses, stepped as fast as it goes).
 */
import { performance } from 'node:perf_hooks';
import { createOfflineSeparator } from '../../server/engine/offline-separator.ts';
import type { ExecutionProvider } from '../../server/inference/model-runtime.ts';
import type { Song } from '../song.ts';

export interface OfflineRtf {
  audioSeconds: number;
  computeSeconds: number;
  /** computeSeconds / audioSeconds: below 1 is faster than real time. */
  rtf: number;
  provider: ExecutionProvider;
}

/** The first `seconds` of the song (looped if shorter), so every model is timed on the same audio. */
export function songExcerpt(song: Song, seconds: number): Float32Array[] {
  const length = Math.round(seconds * song.sampleRateHz);
  return song.channels.map((ch) => {
    const out = new Float32Array(length);
    for (let i = 0; i < length; i += ch.length) out.set(ch.subarray(0, Math.min(ch.length, length - i)), i);
    return out;
  });
}

export async function measureOfflineRtf(modelDir: string, song: Song, seconds: number, provider: ExecutionProvider = 'cpu'): Promise<OfflineRtf> {
  const separator = await createOfflineSeparator(modelDir, { provider, intraOpThreads: 1 });
  try {
    const mixture = songExcerpt(song, seconds);
    const t0 = performance.now();
    const result = await separator.separate(mixture, song.sampleRateHz);
    const computeSeconds = (performance.now() - t0) / 1000;
    if (result.vocals[0]?.length !== mixture[0]?.length) throw new Error('offline separation changed the length');
    return { audioSeconds: seconds, computeSeconds, rtf: computeSeconds / seconds, provider };
  } finally {
    await separator.close();
  }
}
