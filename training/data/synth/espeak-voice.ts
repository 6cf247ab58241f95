/**
 * Lead vocals from espeak-ng with an imposed melody: each word is spoken by espeak-ng, then PSOLA stretches its
 * vowel to the note's length (consonants keep their natural speed), sets the pitch contour and shifts formants.
 */
import { join } from 'node:path';
import type { VocalPhrase } from './song.ts';
import { pitchContour, type Singer } from './singers.ts';
import { readToolWav, runTool } from './system-tools.ts';
import { resampleMono } from './effects.ts';
import { pitchMarks, psola, trackPitch } from './pitch-shifter.ts';
import { phraseSpan } from './festival-voice.ts';

let counter = 0;

function speakWord(word: string, singer: Singer, tmpDir: string): { x: Float32Array; sampleRateHz: number } {
  const path = join(tmpDir, `espeak-${counter++}.wav`);
  const pitch = singer.gender === 'female' ? 55 : 35;
  runTool('espeak-ng', ['-v', singer.voice, '-s', '150', '-p', String(pitch), '-w', path, word]);
  const audio = readToolWav(path);
  const x = audio.channels[0] ?? new Float32Array(0);
  let peak = 0;
  for (const v of x) peak = Math.max(peak, Math.abs(v));
  let a = 0;
  let b = x.length - 1;
  while (a < b && Math.abs(x[a] ?? 0) < peak * 0.005) a++;
  while (b > a && Math.abs(x[b] ?? 0) < peak * 0.005) b--;
  return { x: x.slice(a, b + 1), sampleRateHz: audio.sampleRateHz };
}

/**
 * Piecewise-linear time map: onset consonants and the coda play at natural speed (or faster if the note is short),
 * the voiced nucleus stretches to fill the rest of the note.
 */
function consonantPreservingMap(inLength: number, voicedStart: number, voicedEnd: number, outLength: number): (t: number) => number {
  const onset = voicedStart;
  const coda = inLength - voicedEnd;
  const fixed = onset + coda;
  const squeeze = fixed > 0.6 * outLength ? (0.6 * outLength) / fixed : 1;
  const onsetOut = onset * squeeze;
  const codaOut = coda * squeeze;
  const nucleusOut = Math.max(1, outLength - onsetOut - codaOut);
  const nucleusIn = Math.max(1, voicedEnd - voicedStart);
  return (t) => {
    if (t < onsetOut) return t / squeeze;
    if (t < onsetOut + nucleusOut) return voicedStart + ((t - onsetOut) / nucleusOut) * nucleusIn;
    return voicedEnd + (t - onsetOut - nucleusOut) / squeeze;
  };
}

export function singEspeakPhrase(phrase: VocalPhrase, singer: Singer, sampleRateHz: number, tmpDir: string): Float32Array {
  const { startSec, endSec } = phraseSpan(phrase);
  const contour = pitchContour(phrase.notes, singer, startSec);
  let rate = 22050;
  const words = phrase.notes.map((n) => speakWord(n.word, singer, tmpDir));
  rate = words[0]?.sampleRateHz ?? rate;
  const phraseOut = new Float32Array(Math.ceil((endSec - startSec) * rate) + 1);
  phrase.notes.forEach((note, i) => {
    const word = words[i];
    if (word === undefined || word.x.length < 32) return;
    const track = trackPitch(word.x, rate);
    let v0 = -1;
    let v1 = -1;
    track.f0Hz.forEach((f, k) => {
      if (f > 0) {
        if (v0 < 0) v0 = k;
        v1 = k;
      }
    });
    const voicedStart = v0 < 0 ? 0 : v0 * track.hopSamples;
    const voicedEnd = v1 < 0 ? word.x.length : Math.min(word.x.length, (v1 + 1) * track.hopSamples);
    const outLength = Math.max(32, Math.round(note.durSec * rate));
    const offset = Math.round((note.startSec - startSec) * rate);
    const sung = psola(word.x, rate, pitchMarks(word.x, rate, track), {
      outLength,
      timeMap: consonantPreservingMap(word.x.length, voicedStart, voicedEnd, outLength),
      targetHz: (t) => contour((offset + t) / rate),
      formantRatio: singer.formantRatio,
    });
    // Short fades so word joins don't click.
    const fade = Math.min(Math.round(0.005 * rate), outLength >> 2);
    for (let k = 0; k < sung.length && offset + k < phraseOut.length; k++) {
      const g = Math.min(1, k / fade, (sung.length - 1 - k) / fade);
      phraseOut[offset + k] = (phraseOut[offset + k] ?? 0) + (sung[k] ?? 0) * g;
    }
  });
  const out = resampleMono(phraseOut, rate, sampleRateHz, tmpDir);
  const length = Math.max(1, Math.round((endSec - startSec) * sampleRateHz));
  const fixed = new Float32Array(length);
  fixed.set(out.subarray(0, length));
  return fixed;
}
