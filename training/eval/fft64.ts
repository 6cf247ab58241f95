/**
 * Double-precision real FFT helpers for the evaluation code (server/dsp/fft.ts works in float32 spectra, which is
 * right for streaming but loses the precision BSS-Eval's correlations and projections need).
 * Spectra are half spectra: bins 0..n/2, interleaved [re0, im0, re1, im1, …] (length n + 2).
 */
import FFT from 'fft.js';

export class RealFft64 {
  readonly size: number;
  readonly bins: number;
  private readonly fft: FFT;
  private readonly timeIn: Float64Array;
  private readonly full: Float64Array;
  private readonly timeOut: Float64Array;

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 4 || (size & (size - 1)) !== 0) {
      throw new RangeError(`FFT size must be a power of two ≥ 4, got ${size}`);
    }
    this.size = size;
    this.bins = size / 2 + 1;
    this.fft = new FFT(size);
    this.timeIn = new Float64Array(size);
    this.full = new Float64Array(2 * size);
    this.timeOut = new Float64Array(2 * size);
  }

  /** Half spectrum of `input` zero-padded (or cut) to `size`, written into `out` (length size + 2). */
  forward(input: ArrayLike<number>, out: Float64Array, offset = 0, length = input.length - offset): void {
    const x = this.timeIn;
    const n = Math.min(length, this.size);
    for (let i = 0; i < n; i++) x[i] = input[offset + i]!;
    x.fill(0, n);
    this.fft.realTransform(this.full, x);
    out.set(this.full.subarray(0, this.size + 2));
  }

  /** Real signal of a Hermitian spectrum given by its half spectrum; writes `size` samples into `out`. */
  inverse(half: Float64Array, out: Float64Array): void {
    const n = this.size;
    const s = this.full;
    s.set(half.subarray(0, n + 2));
    s[1] = 0;
    s[n + 1] = 0;
    for (let k = 1; k < n / 2; k++) {
      s[2 * (n - k)] = half[2 * k]!;
      s[2 * (n - k) + 1] = -half[2 * k + 1]!;
    }
    this.fft.inverseTransform(this.timeOut, s);
    const t = this.timeOut;
    for (let i = 0; i < n; i++) out[i] = t[2 * i]!;
  }

  /** inverse() of two half spectra at once, packed as one complex spectrum A + i·B. */
  inversePair(halfA: Float64Array, halfB: Float64Array, outA: Float64Array, outB: Float64Array): void {
    const n = this.size;
    const s = this.full;
    for (let k = 0; k <= n / 2; k++) {
      // DC and Nyquist bins of a real signal are real
      const edge = k === 0 || k === n / 2;
      const ar = halfA[2 * k]!;
      const ai = edge ? 0 : halfA[2 * k + 1]!;
      const br = halfB[2 * k]!;
      const bi = edge ? 0 : halfB[2 * k + 1]!;
      s[2 * k] = ar - bi;
      s[2 * k + 1] = ai + br;
      if (!edge) {
        s[2 * (n - k)] = ar + bi;
        s[2 * (n - k) + 1] = br - ai;
      }
    }
    this.fft.inverseTransform(this.timeOut, s);
    const t = this.timeOut;
    for (let i = 0; i < n; i++) {
      outA[i] = t[2 * i]!;
      outB[i] = t[2 * i + 1]!;
    }
  }
}

export function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** acc += conj(a) · b over half spectra (cross-spectrum accumulation). */
export function accumulateCrossSpectrum(acc: Float64Array, a: Float64Array, b: Float64Array): void {
  for (let i = 0; i < acc.length; i += 2) {
    const ar = a[i]!;
    const ai = a[i + 1]!;
    const br = b[i]!;
    const bi = b[i + 1]!;
    acc[i]! += ar * br + ai * bi;
    acc[i + 1]! += ar * bi - ai * br;
  }
}

/** acc += a · b over half spectra (convolution in frequency). */
export function accumulateProduct(acc: Float64Array, a: Float64Array, b: Float64Array): void {
  for (let i = 0; i < acc.length; i += 2) {
    const ar = a[i]!;
    const ai = a[i + 1]!;
    const br = b[i]!;
    const bi = b[i + 1]!;
    acc[i]! += ar * br - ai * bi;
    acc[i + 1]! += ar * bi + ai * br;
  }
}
