/**
 * How far a recorded output lags the recorded input, window by window (pure; FFT cross-correlation): the round trip
 * a page experiences, and, between two output tracks, their skew. Each output of a separation is a filtered part of
 * the input (a real-valued STFT mask, zero phase), so its cross-correlation with the input peaks at the true lag;
 * a noise-like test signal keeps that peak sharp (tonal music would add peaks one period apart).
 */
import { RealFft } from '../server/dsp/fft.ts';

export interface LagWindow {
  /** Window start in the output recording, s. */
  atSec: number;
  lagMs: number;
  /** Normalised correlation at the peak (1 = the output is the input, delayed and scaled). */
  corr: number;
}

export interface LagOptions {
  sampleRateHz: number;
  windowSamples: number;
  stepSamples: number;
  maxLagSamples: number;
}

function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/**
 * Per window of `output` [t0, t0 + W): the lag L ∈ [0, maxLag] maximising Σ output[t] · input[t − L], refined to a
 * fraction of a sample by a parabola through the peak.
 */
export function lagWindows(input: Float32Array, output: Float32Array, opts: LagOptions): LagWindow[] {
  const W = opts.windowSamples;
  const M = opts.maxLagSamples;
  const n = nextPow2(2 * W + M);
  const fft = new RealFft(n);
  const bins = n / 2 + 1;
  const [aRe, aIm, bRe, bIm, pRe, pIm] = Array.from({ length: 6 }, () => new Float32Array(bins));
  const a = new Float32Array(n);
  const b = new Float32Array(n);
  const r = new Float32Array(n);
  const out: LagWindow[] = [];
  for (let t0 = M; t0 + W <= Math.min(output.length, input.length); t0 += opts.stepSamples) {
    // a = input[t0 − M, t0 + W), b = output[t0, t0 + W); r[k] = Σ_j b[j] a[j + k] and lag = M − k.
    a.fill(0);
    b.fill(0);
    a.set(input.subarray(t0 - M, t0 + W));
    b.set(output.subarray(t0, t0 + W));
    fft.forward(a, aRe!, aIm!);
    fft.forward(b, bRe!, bIm!);
    for (let i = 0; i < bins; i++) {
      pRe![i] = aRe![i]! * bRe![i]! + aIm![i]! * bIm![i]!;
      pIm![i] = aIm![i]! * bRe![i]! - aRe![i]! * bIm![i]!;
    }
    fft.inverse(pRe!, pIm!, r);
    let best = 0;
    for (let k = 1; k <= M; k++) if (r[k]! > r[best]!) best = k;
    let eb = 0;
    for (let j = 0; j < W; j++) eb += b[j]! ** 2;
    let ea = 0;
    for (let j = 0; j < W; j++) ea += a[j + best]! ** 2;
    const corr = ea > 0 && eb > 0 ? r[best]! / Math.sqrt(ea * eb) : 0;
    let frac = 0;
    if (best > 0 && best < M) {
      const y0 = r[best - 1]!;
      const y1 = r[best]!;
      const y2 = r[best + 1]!;
      const den = y0 - 2 * y1 + y2;
      if (den < 0) frac = (0.5 * (y0 - y2)) / den;
    }
    out.push({ atSec: t0 / opts.sampleRateHz, lagMs: ((M - (best + frac)) / opts.sampleRateHz) * 1000, corr });
  }
  return out;
}

export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return NaN;
  const sorted = [...xs].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

export interface Spread {
  n: number;
  median: number;
  p90: number;
  p99: number;
  max: number;
}

export function spread(xs: readonly number[]): Spread {
  const round = (x: number): number => Math.round(x * 100) / 100;
  return { n: xs.length, median: round(quantile(xs, 0.5)), p90: round(quantile(xs, 0.9)), p99: round(quantile(xs, 0.99)), max: round(xs.length ? Math.max(...xs) : NaN) };
}
