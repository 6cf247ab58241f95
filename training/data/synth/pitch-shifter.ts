/**
 * A TD-PSOLA pitch/duration/formant shifter: imposes a melody (with vibrato) on speech from espeak-ng or Festival.
 * Pure and synchronous: mono Float32Array in, mono Float32Array out, all rates in Hz.
 */

export interface PitchTrack {
  hopSamples: number;
  /** Fundamental per hop; 0 where unvoiced. */
  f0Hz: Float32Array;
}

/** Normalised-autocorrelation pitch tracker, 10 ms hops. */
export function trackPitch(x: Float32Array, sampleRateHz: number, minHz = 65, maxHz = 520): PitchTrack {
  const hop = Math.round(sampleRateHz / 100);
  const minLag = Math.floor(sampleRateHz / maxHz);
  const maxLag = Math.ceil(sampleRateHz / minHz);
  const win = maxLag + Math.round(0.02 * sampleRateHz);
  const frames = Math.ceil(x.length / hop);
  const f0 = new Float32Array(frames);
  let peakEnergy = 0;
  const energies = new Float64Array(frames);
  for (let f = 0; f < frames; f++) {
    let e = 0;
    const s = f * hop;
    for (let i = s; i < Math.min(x.length, s + win); i++) e += (x[i] ?? 0) ** 2;
    energies[f] = e;
    peakEnergy = Math.max(peakEnergy, e);
  }
  const corr = new Float64Array(maxLag + 1);
  for (let f = 0; f < frames; f++) {
    const s = f * hop - (win >> 1);
    if ((energies[f] ?? 0) < peakEnergy * 1e-3 || s < 0 || s + win + maxLag >= x.length) continue;
    const n = win - maxLag;
    let best = 0;
    for (let lag = minLag; lag <= maxLag; lag++) {
      let xy = 0;
      let xx = 0;
      let yy = 0;
      for (let i = 0; i < n; i++) {
        const a = x[s + i] ?? 0;
        const b = x[s + i + lag] ?? 0;
        xy += a * b;
        xx += a * a;
        yy += b * b;
      }
      const r = xy / Math.sqrt(xx * yy + 1e-20);
      corr[lag] = r;
      best = Math.max(best, r);
    }
    if (best < 0.5) continue;
    // First strong local maximum: avoids octave-low errors from picking 2T.
    for (let lag = minLag + 1; lag < maxLag; lag++) {
      const c = corr[lag] ?? 0;
      if (c >= 0.88 * best && c >= (corr[lag - 1] ?? 0) && c >= (corr[lag + 1] ?? 0)) {
        f0[f] = sampleRateHz / lag;
        break;
      }
    }
  }
  return { hopSamples: hop, f0Hz: f0 };
}

interface Mark {
  pos: number;
  /** Local period in samples; for unvoiced marks, the fixed grain half-width. */
  period: number;
  voiced: boolean;
}

/** Pitch marks on waveform peaks in voiced stretches, fixed 5 ms steps elsewhere. */
export function pitchMarks(x: Float32Array, sampleRateHz: number, track: PitchTrack): Mark[] {
  const marks: Mark[] = [];
  const unvoicedStep = Math.round(0.005 * sampleRateHz);
  const f0At = (pos: number): number => track.f0Hz[Math.min(track.f0Hz.length - 1, Math.floor(pos / track.hopSamples))] ?? 0;
  let pos = 0;
  while (pos < x.length) {
    const hz = f0At(pos);
    if (hz <= 0) {
      marks.push({ pos, period: unvoicedStep, voiced: false });
      pos += unvoicedStep;
      continue;
    }
    const period = sampleRateHz / hz;
    // Snap to the largest peak within ±25 % of a period so grains stay phase-aligned.
    const lo = Math.max(0, Math.round(pos - 0.25 * period));
    const hi = Math.min(x.length - 1, Math.round(pos + 0.25 * period));
    let best = pos;
    let bestVal = -Infinity;
    for (let i = lo; i <= hi; i++) {
      const v = x[i] ?? 0;
      if (v > bestVal) {
        bestVal = v;
        best = i;
      }
    }
    const prev = marks[marks.length - 1];
    const snapped = prev !== undefined && best <= prev.pos ? pos : best;
    marks.push({ pos: snapped, period, voiced: true });
    pos = snapped + period;
  }
  return marks;
}

export interface ShiftPlan {
  outLength: number;
  /** Output sample → input sample position (monotone). */
  timeMap: (outSample: number) => number;
  /** Target fundamental at an output sample (Hz). */
  targetHz: (outSample: number) => number;
  /** > 1 moves formants up (smaller vocal tract), < 1 down. */
  formantRatio: number;
}

function nearestMark(marks: readonly Mark[], pos: number): Mark {
  let lo = 0;
  let hi = marks.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((marks[mid]?.pos ?? 0) < pos) lo = mid + 1;
    else hi = mid;
  }
  const a = marks[Math.max(0, lo - 1)];
  const b = marks[lo];
  if (a === undefined || b === undefined) throw new RangeError('no pitch marks');
  return Math.abs(a.pos - pos) <= Math.abs(b.pos - pos) ? a : b;
}

function sampleAt(x: Float32Array, pos: number): number {
  const i = Math.floor(pos);
  const frac = pos - i;
  return (x[i] ?? 0) * (1 - frac) + (x[i + 1] ?? 0) * frac;
}

/** Overlap-adds Hann-windowed two-period grains at the target pitch, reading the input through `timeMap`. */
export function psola(x: Float32Array, sampleRateHz: number, marks: readonly Mark[], plan: ShiftPlan): Float32Array {
  const out = new Float32Array(plan.outLength);
  const weight = new Float32Array(plan.outLength);
  let t = 0;
  while (t < plan.outLength) {
    const mark = nearestMark(marks, plan.timeMap(t));
    const ratio = mark.voiced ? plan.formantRatio : 1;
    const half = Math.max(2, Math.round(mark.period / ratio));
    // Unvoiced grains follow the time map exactly (noise has no phase to keep); voiced ones sit on pitch marks.
    const centre = mark.voiced ? mark.pos : plan.timeMap(t);
    const at = Math.round(t);
    for (let j = -half; j < half; j++) {
      const o = at + j;
      if (o < 0 || o >= plan.outLength) continue;
      const w = 0.5 + 0.5 * Math.cos((Math.PI * j) / half);
      out[o] = (out[o] ?? 0) + w * sampleAt(x, centre + j * ratio);
      weight[o] = (weight[o] ?? 0) + w;
    }
    t += mark.voiced ? Math.max(4, sampleRateHz / Math.max(50, plan.targetHz(t))) : half;
  }
  // Where grains overlap more than a Hann pair (pitch raised), divide the excess out; never amplify gaps.
  for (let i = 0; i < out.length; i++) out[i] = (out[i] ?? 0) / Math.max(1, weight[i] ?? 0);
  return out;
}

/** Tracks pitch, places marks and resynthesises `x` per `plan`. */
export function shiftVoice(x: Float32Array, sampleRateHz: number, plan: ShiftPlan): Float32Array {
  const marks = pitchMarks(x, sampleRateHz, trackPitch(x, sampleRateHz));
  return psola(x, sampleRateHz, marks, plan);
}
