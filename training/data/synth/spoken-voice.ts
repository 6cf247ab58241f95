/**
 * Spoken (rap / spoken-word) lines: espeak-ng or Festival speak the phrase's words at a rate that fits the phrase,
 * with their own speech intonation instead of the melody. Why: a model that has only heard sung, pitch-corrected
 * voices treats speech over music as accompaniment.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { VocalPhrase } from './song.ts';
import type { Singer } from './singers.ts';
import { readToolWav, runTool } from './system-tools.ts';
import { resampleMono } from './effects.ts';
import { phraseSpan } from './festival-voice.ts';

let counter = 0;

/** Festival's diphone voices speak about 2.6 words a second at stretch 1. */
const FESTIVAL_WORDS_PER_SEC = 2.6;

function trimSilence(x: Float32Array): Float32Array {
  let peak = 0;
  for (const v of x) peak = Math.max(peak, Math.abs(v));
  let a = 0;
  while (a < x.length - 1 && Math.abs(x[a] ?? 0) < peak * 0.01) a++;
  return x.subarray(a);
}

/** Mono speech for the phrase, exactly as long as the phrase span; an overlong line is cut with a short fade. */
export function speakPhrase(phrase: VocalPhrase, singer: Singer, sampleRateHz: number, tmpDir: string): Float32Array {
  const { startSec, endSec } = phraseSpan(phrase);
  const spanSec = Math.max(0.2, endSec - startSec);
  const words = phrase.notes.map((n) => n.word);
  const text = words.join(' ');
  const id = counter++;
  const wavPath = join(tmpDir, `spoken-${id}.wav`);
  if (singer.engine === 'festival') {
    const txtPath = join(tmpDir, `spoken-${id}.txt`);
    writeFileSync(txtPath, `${text}\n`);
    const stretch = Math.min(1.6, Math.max(0.55, words.length / FESTIVAL_WORDS_PER_SEC / spanSec));
    runTool('text2wave', ['-o', wavPath, '-eval', `(voice_${singer.voice}_diphone)`, '-eval', `(Parameter.set 'Duration_Stretch ${stretch.toFixed(3)})`, txtPath]);
  } else {
    const wpm = Math.round(Math.min(320, Math.max(90, (words.length / spanSec) * 60 * 0.9)));
    const pitch = Math.round(Math.min(80, Math.max(15, (singer.lowMidi - 36) * 2)));
    runTool('espeak-ng', ['-v', singer.voice, '-s', String(wpm), '-p', String(pitch), '-w', wavPath, text]);
  }
  const raw = readToolWav(wavPath);
  const speech = resampleMono(Float32Array.from(trimSilence(raw.channels[0] ?? new Float32Array(0))), raw.sampleRateHz, sampleRateHz, tmpDir);
  const length = Math.max(1, Math.round(spanSec * sampleRateHz));
  const out = new Float32Array(length);
  out.set(speech.subarray(0, length));
  if (speech.length > length) {
    const fade = Math.min(length, Math.round(0.03 * sampleRateHz));
    for (let k = 0; k < fade; k++) out[length - 1 - k] = (out[length - 1 - k] ?? 0) * (k / fade);
  }
  return out;
}
