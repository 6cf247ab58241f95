/**
 * The vocals stem: the lead singer's phrases from the chosen engine, placed on the song timeline with breath,
 * sibilance and exciter, plus the SoundFont choir "ooh/aah" backing already rendered from MIDI.
 */
import type { Rng } from './rng.ts';
import type { Song, VocalPhrase } from './song.ts';
import type { Singer } from './singers.ts';
import { singFestivalPhrase, phraseSpan } from './festival-voice.ts';
import { singEspeakPhrase } from './espeak-voice.ts';
import { singFormantPhrase } from './formant-voice.ts';
import { applyVocalFx, type VocalFxParams } from './vocal-fx.ts';

/** Renders one phrase, mono, as long as the phrase span. */
export type PhraseRenderer = (phrase: VocalPhrase, singer: Singer, sampleRateHz: number, tmpDir: string, rng: Rng) => Float32Array;

export function singPhrase(phrase: VocalPhrase, singer: Singer, sampleRateHz: number, tmpDir: string, rng: Rng): Float32Array {
  switch (singer.engine) {
    case 'festival': return singFestivalPhrase(phrase, singer, sampleRateHz, tmpDir);
    case 'espeak': return singEspeakPhrase(phrase, singer, sampleRateHz, tmpDir);
    case 'formant': return singFormantPhrase(phrase, singer, sampleRateHz, rng);
  }
}

/** Mono lead vocal for the whole song (`lengthSamples` long). */
export function renderLeadVocal(song: Song, singer: Singer, fx: VocalFxParams, lengthSamples: number, sampleRateHz: number,
  tmpDir: string, rng: Rng, render: PhraseRenderer = singPhrase): Float32Array {
  const lead = new Float32Array(lengthSamples);
  const phraseRng = rng.fork('phrases');
  for (const phrase of song.leadVocal) {
    const audio = render(phrase, singer, sampleRateHz, tmpDir, phraseRng);
    let sum = 0;
    for (const v of audio) sum += v * v;
    const level = Math.sqrt(sum / Math.max(1, audio.length));
    if (level === 0) continue;
    // Phrase-level dynamics: each phrase at its own loudness (±3 dB) around a common level.
    const gain = (0.1 / level) * 10 ** (phraseRng.range(-3, 3) / 20);
    const start = Math.round(phraseSpan(phrase).startSec * sampleRateHz);
    const fade = Math.round(0.01 * sampleRateHz);
    for (let k = 0; k < audio.length && start + k < lengthSamples; k++) {
      const g = Math.min(1, k / fade, (audio.length - 1 - k) / fade);
      lead[start + k] = (lead[start + k] ?? 0) + (audio[k] ?? 0) * gain * g;
    }
  }
  return applyVocalFx(lead, song.leadVocal, sampleRateHz, fx, rng.fork('fx'));
}
