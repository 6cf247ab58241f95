/**
 * Lead vocals from Festival's singing mode with the kal/ked diphone voices: the phrase's words are sung to its
 * notes (FREQ/SECONDS attributes), then PSOLA imposes the exact contour (glides, vibrato, drift) and the singer's
 * formant shift, at 44.1 kHz.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { VocalPhrase } from './song.ts';
import { pitchContour, type Singer } from './singers.ts';
import { midiToHz } from './theory.ts';
import { readToolWav, runTool } from './system-tools.ts';
import { resampleMono } from './effects.ts';
import { shiftVoice } from './pitch-shifter.ts';

/** Festival's singing mode crashes on pitches above ~480 Hz. */
const FESTIVAL_MAX_HZ = 470;
let counter = 0;

export function phraseSpan(phrase: VocalPhrase): { startSec: number; endSec: number } {
  const first = phrase.notes[0];
  const last = phrase.notes[phrase.notes.length - 1];
  if (first === undefined || last === undefined) throw new RangeError('empty phrase');
  return { startSec: first.startSec, endSec: last.startSec + last.durSec };
}

/** Each note lasts until the next one starts, so the sung phrase has no internal rests to drift on. */
function legatoDurations(phrase: VocalPhrase): number[] {
  return phrase.notes.map((n, i) => {
    const next = phrase.notes[i + 1];
    return next !== undefined ? next.startSec - n.startSec : n.durSec;
  });
}

export function singFestivalPhrase(phrase: VocalPhrase, singer: Singer, sampleRateHz: number, tmpDir: string): Float32Array {
  const { startSec, endSec } = phraseSpan(phrase);
  const durations = legatoDurations(phrase);
  const body = phrase.notes.map((n, i) => {
    const hz = Math.min(FESTIVAL_MAX_HZ, Math.max(70, midiToHz(n.midi)));
    return `<PITCH FREQ="${hz.toFixed(1)}"><DURATION SECONDS="${(durations[i] ?? n.durSec).toFixed(3)}">${n.word}</DURATION></PITCH>`;
  }).join('\n');
  const xml = `<?xml version="1.0"?>\n<!DOCTYPE SINGING PUBLIC "-//SINGING//DTD SINGING mark up//EN" "Singing.v0_1.dtd" []>\n<SINGING BPM="120">\n${body}\n</SINGING>\n`;
  const id = counter++;
  const xmlPath = join(tmpDir, `festival-${id}.xml`);
  const wavPath = join(tmpDir, `festival-${id}.wav`);
  writeFileSync(xmlPath, xml);
  runTool('text2wave', ['-mode', 'singing', xmlPath, '-o', wavPath, '-eval', `(voice_${singer.voice}_diphone)`]);
  const raw = readToolWav(wavPath);
  const voice = resampleMono(raw.channels[0] ?? new Float32Array(0), raw.sampleRateHz, sampleRateHz, tmpDir);

  // Align the sung span (first to last audible sample) with the phrase's span.
  let peak = 0;
  for (const v of voice) peak = Math.max(peak, Math.abs(v));
  let first = 0;
  let last = voice.length - 1;
  while (first < last && Math.abs(voice[first] ?? 0) < peak * 0.01) first++;
  while (last > first && Math.abs(voice[last] ?? 0) < peak * 0.01) last--;
  const outLength = Math.max(1, Math.round((endSec - startSec) * sampleRateHz));
  const scale = (last - first) / outLength;
  const contour = pitchContour(phrase.notes, singer, startSec);
  return shiftVoice(voice, sampleRateHz, {
    outLength,
    timeMap: (t) => first + t * scale,
    targetHz: (t) => contour(t / sampleRateHz),
    formantRatio: singer.formantRatio,
  });
}
