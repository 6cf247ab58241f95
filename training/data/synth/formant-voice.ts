/**
 * A formant singing synthesiser in plain TypeScript: Rosenberg glottal pulses with jitter/shimmer and aspiration,
 * a five-formant cascade that glides between vowel and consonant targets, and filtered noise for fricatives and
 * stop bursts. Renders at the output rate directly, so its spectrum is full-band.
 */
import type { Rng } from './rng.ts';
import type { VocalPhrase } from './song.ts';
import { pitchContour, type Singer } from './singers.ts';
import { syllableOf, type Consonant, type Vowel } from './lyrics.ts';
import { Biquad, Resonator } from './filters.ts';
import { phraseSpan } from './festival-voice.ts';

type Formants = readonly [number, number, number];
const VOWELS: Record<Vowel, Formants> = {
  a: [730, 1090, 2440], ae: [660, 1720, 2410], e: [530, 1840, 2480], i: [270, 2290, 3010],
  o: [570, 840, 2410], u: [300, 870, 2240], er: [490, 1350, 1690], uh: [640, 1190, 2390],
};

type ConsonantKind = 'fricative' | 'voicedFricative' | 'stop' | 'voicedStop' | 'nasal' | 'approximant' | 'aspirate';
interface ConsonantSpec { kind: ConsonantKind; formants: Formants; noiseHz: number; noiseQ: number; durSec: number }
const CONSONANTS: Record<Consonant, ConsonantSpec> = {
  s: { kind: 'fricative', formants: [300, 1700, 2700], noiseHz: 7500, noiseQ: 1.2, durSec: 0.11 },
  z: { kind: 'voicedFricative', formants: [300, 1700, 2700], noiseHz: 7000, noiseQ: 1.2, durSec: 0.09 },
  sh: { kind: 'fricative', formants: [300, 1800, 2500], noiseHz: 3800, noiseQ: 1.5, durSec: 0.11 },
  ch: { kind: 'fricative', formants: [300, 1800, 2500], noiseHz: 4000, noiseQ: 1.3, durSec: 0.1 },
  f: { kind: 'fricative', formants: [300, 1100, 2400], noiseHz: 6000, noiseQ: 0.5, durSec: 0.1 },
  th: { kind: 'fricative', formants: [300, 1400, 2600], noiseHz: 5500, noiseQ: 0.5, durSec: 0.09 },
  v: { kind: 'voicedFricative', formants: [300, 1100, 2400], noiseHz: 5000, noiseQ: 0.6, durSec: 0.07 },
  h: { kind: 'aspirate', formants: [600, 1400, 2500], noiseHz: 2000, noiseQ: 0.4, durSec: 0.07 },
  p: { kind: 'stop', formants: [300, 800, 2200], noiseHz: 1200, noiseQ: 0.7, durSec: 0.08 },
  t: { kind: 'stop', formants: [300, 1700, 2700], noiseHz: 4500, noiseQ: 0.8, durSec: 0.08 },
  k: { kind: 'stop', formants: [300, 2000, 2500], noiseHz: 2500, noiseQ: 1.0, durSec: 0.085 },
  b: { kind: 'voicedStop', formants: [300, 800, 2200], noiseHz: 1000, noiseQ: 0.7, durSec: 0.06 },
  d: { kind: 'voicedStop', formants: [300, 1700, 2700], noiseHz: 3500, noiseQ: 0.8, durSec: 0.06 },
  g: { kind: 'voicedStop', formants: [300, 2000, 2500], noiseHz: 2200, noiseQ: 1.0, durSec: 0.06 },
  m: { kind: 'nasal', formants: [250, 1100, 2300], noiseHz: 0, noiseQ: 1, durSec: 0.08 },
  n: { kind: 'nasal', formants: [250, 1600, 2600], noiseHz: 0, noiseQ: 1, durSec: 0.08 },
  l: { kind: 'approximant', formants: [360, 1000, 2800], noiseHz: 0, noiseQ: 1, durSec: 0.06 },
  r: { kind: 'approximant', formants: [420, 1300, 1600], noiseHz: 0, noiseQ: 1, durSec: 0.06 },
  w: { kind: 'approximant', formants: [300, 700, 2200], noiseHz: 0, noiseQ: 1, durSec: 0.05 },
  y: { kind: 'approximant', formants: [280, 2200, 3000], noiseHz: 0, noiseQ: 1, durSec: 0.05 },
};

interface Segment {
  startSample: number;
  endSample: number;
  formants: Formants;
  voicing: number;
  noise: number;
  /** Which noise filter: index into the per-phrase filter list, -1 = aspiration through the formants. */
  noiseFilter: number;
  /** Stops: silence except a burst at the end. */
  burst: boolean;
}

function segmentsForNote(word: string, startSample: number, lengthSamples: number, rate: number, filters: Array<{ hz: number; q: number }>): Segment[] {
  const syl = syllableOf(word);
  const segs: Segment[] = [];
  const consSeg = (c: Consonant, at: number, len: number): Segment => {
    const spec = CONSONANTS[c];
    let filterIdx = -1;
    if (spec.noiseHz > 0 && spec.kind !== 'aspirate') {
      filterIdx = filters.findIndex((f) => f.hz === spec.noiseHz && f.q === spec.noiseQ);
      if (filterIdx < 0) filterIdx = filters.push({ hz: spec.noiseHz, q: spec.noiseQ }) - 1;
    }
    const voicing = { fricative: 0, voicedFricative: 0.5, stop: 0, voicedStop: 0.25, nasal: 0.45, approximant: 0.8, aspirate: 0 }[spec.kind];
    const noise = { fricative: 0.6, voicedFricative: 0.35, stop: 0.7, voicedStop: 0.4, nasal: 0, approximant: 0, aspirate: 0.5 }[spec.kind];
    return { startSample: at, endSample: at + len, formants: spec.formants, voicing, noise, noiseFilter: filterIdx, burst: spec.kind === 'stop' || spec.kind === 'voicedStop' };
  };
  const consLen = (c: Consonant, budget: number, count: number): number => Math.round(Math.min(CONSONANTS[c].durSec * rate, budget / Math.max(1, count)));
  let t = startSample;
  const onsetBudget = lengthSamples * 0.35;
  for (const c of syl.onset) {
    const len = consLen(c, onsetBudget, syl.onset.length);
    segs.push(consSeg(c, t, len));
    t += len;
  }
  const codaBudget = lengthSamples * 0.25;
  const codaLens = syl.coda.map((c) => consLen(c, codaBudget, syl.coda.length));
  const vowelEnd = startSample + lengthSamples - codaLens.reduce((a, b) => a + b, 0);
  const v = VOWELS[syl.vowel];
  if (syl.offglide !== null) {
    const mid = Math.round(t + (vowelEnd - t) * 0.7);
    segs.push({ startSample: t, endSample: mid, formants: v, voicing: 1, noise: 0, noiseFilter: -1, burst: false });
    segs.push({ startSample: mid, endSample: vowelEnd, formants: VOWELS[syl.offglide], voicing: 1, noise: 0, noiseFilter: -1, burst: false });
  } else {
    segs.push({ startSample: t, endSample: vowelEnd, formants: v, voicing: 1, noise: 0, noiseFilter: -1, burst: false });
  }
  t = vowelEnd;
  syl.coda.forEach((c, i) => {
    const len = codaLens[i] ?? 0;
    segs.push(consSeg(c, t, len));
    t += len;
  });
  return segs;
}

/** Rosenberg glottal flow at phase p ∈ [0, 1) with open quotient `openQ`. */
function glottalFlow(p: number, openQ: number): number {
  const rise = openQ * 0.7;
  const fall = openQ * 0.3;
  if (p < rise) return 0.5 * (1 - Math.cos((Math.PI * p) / rise));
  if (p < rise + fall) return Math.cos((Math.PI * (p - rise)) / (2 * fall));
  return 0;
}

export function singFormantPhrase(phrase: VocalPhrase, singer: Singer, sampleRateHz: number, rng: Rng): Float32Array {
  const { startSec, endSec } = phraseSpan(phrase);
  const rate = sampleRateHz;
  const length = Math.max(1, Math.round((endSec - startSec) * rate));
  const out = new Float32Array(length);
  const contour = pitchContour(phrase.notes, singer, startSec);
  const filterSpecs: Array<{ hz: number; q: number }> = [];
  const segs: Segment[] = [];
  for (const n of phrase.notes) {
    const s = Math.round((n.startSec - startSec) * rate);
    segs.push(...segmentsForNote(n.word, s, Math.min(length - s, Math.round(n.durSec * rate)), rate, filterSpecs));
  }
  const noiseFilters = filterSpecs.map((f) => Biquad.bandpass(rate, f.hz, f.q));
  const resonators = Array.from({ length: 5 }, () => new Resonator(rate));
  const bandwidths = [70, 90, 130, 180, 250];
  const formantNow = [500, 1500, 2500, 3300 * singer.formantRatio, 3900 * singer.formantRatio];
  const openQ = singer.openQuotient ?? (singer.gender === 'female' ? 0.65 : 0.55);
  let phase = 0;
  let prevFlow = 0;
  let periodJitter = 1;
  let shimmer = 1;
  let voicingNow = 0;
  let noiseNow = 0;
  let segIdx = 0;
  const smooth = 1 - Math.exp(-1 / (0.012 * rate));
  for (let i = 0; i < length; i++) {
    while (segIdx + 1 < segs.length && (segs[segIdx]?.endSample ?? 0) <= i) segIdx++;
    const seg = segs[segIdx];
    const inSeg = seg !== undefined && i >= seg.startSample && i < seg.endSample;
    const targetVoicing = inSeg ? seg.voicing : 0;
    let targetNoise = inSeg ? seg.noise : 0;
    if (inSeg && seg.burst) {
      // Closure (silence) then a 15 ms burst.
      const burstStart = seg.endSample - Math.round(0.015 * rate);
      targetNoise = i >= burstStart ? seg.noise : 0;
    }
    voicingNow += (targetVoicing - voicingNow) * smooth * 1.5;
    noiseNow += (targetNoise - noiseNow) * smooth * 3;
    if ((i & 15) === 0) {
      for (let k = 0; k < 3; k++) {
        const target = (inSeg ? seg.formants[k] ?? 500 : formantNow[k] ?? 500) * singer.formantRatio;
        formantNow[k] = (formantNow[k] ?? 500) + (target - (formantNow[k] ?? 500)) * Math.min(1, smooth * 16);
      }
      resonators.forEach((r, k) => r.set(formantNow[k] ?? 1000, bandwidths[k] ?? 100));
    }
    const f0 = contour(i / rate);
    phase += (f0 * periodJitter) / rate;
    if (phase >= 1) {
      phase -= 1;
      periodJitter = 1 + rng.normal() * 0.004;
      shimmer = 1 + rng.normal() * 0.04;
    }
    const flow = glottalFlow(phase, openQ);
    const excitation = (flow - prevFlow) * shimmer * 20;
    prevFlow = flow;
    const white = rng.next() * 2 - 1;
    const aspiration = white * (singer.breathiness * 0.3 * flow + (inSeg && seg.noiseFilter < 0 ? noiseNow : 0));
    let y = excitation * voicingNow + aspiration;
    for (const r of resonators) y = r.process(y);
    if (inSeg && seg.noiseFilter >= 0) y += (noiseFilters[seg.noiseFilter]?.process(white) ?? 0) * noiseNow * 0.6;
    out[i] = y;
  }
  return out;
}
