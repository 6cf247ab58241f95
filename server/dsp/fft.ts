/**
 * FFTs for the STFT hot path, written for V8: split re/im Float64Arrays, precomputed twiddles and bit-reversal
 * table, radix-4 decimation in frequency (plus one radix-2 stage when log2 n is odd), no allocation per call.
 *
 * The complex kernel is decimation in frequency: natural-order input, bit-reversed output. No separate
 * bit-reversal pass is ever run: the passes that exist anyway (unpacking the two real spectra of a stereo pair,
 * the overlap-add) read through the bit-reversal table instead. The inverse runs the same kernel with re and im
 * swapped (swap ∘ DFT ∘ swap = n · IDFT), so there is one kernel to keep fast.
 *
 * Real transforms, two ways (the STFT uses both):
 *   - a pair of real signals as one complex FFT of size N (z = a + i·b, spectra separated by Hermitian symmetry):
 *     stereo frames, forward and inverse;
 *   - one real signal as a complex FFT of size N/2 (z[m] = x[2m] + i·x[2m+1], then untangled with twiddles):
 *     a single channel.
 * Forward is unnormalised; inverse includes 1/N, so inverse(forward(x)) = x.
 */

/** In-place complex DFT of a fixed power-of-two size; output in bit-reversed order (`rev[k]` holds bin k). */
export class ComplexFft {
  readonly n: number;
  /** rev[k] = bit reversal of k over log2(n) bits: the kernel leaves bin k at index rev[k]. */
  readonly rev: Int32Array;
  /** Per radix-4 stage with span L > 4: [w^j, w^2j, w^3j] for j < L/4, w = e^(−2πi/L), as (re, im) pairs. */
  private readonly twiddles: Float64Array;
  /** Spans of the radix-4 stages that need twiddles (L > 4), largest first. */
  private readonly spans: Int32Array;
  /** Offsets of each span's twiddles in `twiddles`. */
  private readonly offsets: Int32Array;
  /** 'radix4' when the last stage is a radix-4 of span 4, 'radix2' when it is a radix-2 of span 2. */
  private readonly lastRadix4: boolean;

  constructor(n: number) {
    if (!Number.isInteger(n) || n < 2 || (n & (n - 1)) !== 0) throw new RangeError(`FFT size must be a power of two ≥ 2, got ${n}`);
    this.n = n;
    const bits = Math.round(Math.log2(n));
    this.rev = new Int32Array(n);
    for (let k = 0; k < n; k++) {
      let r = 0;
      for (let b = 0; b < bits; b++) r |= ((k >>> b) & 1) << (bits - 1 - b);
      this.rev[k] = r;
    }
    // Radix-4 stages L = n, n/4, … while L ≥ 4; if log2 n is odd the last stage is a radix-2 of span 2.
    const spans: number[] = [];
    let L = n;
    while (L >= 4) {
      spans.push(L);
      L /= 4;
    }
    this.lastRadix4 = spans.length > 0 && spans[spans.length - 1] === 4;
    const twiddled = spans.filter((s) => s > 4);
    this.spans = Int32Array.from(twiddled);
    this.offsets = new Int32Array(twiddled.length);
    let size = 0;
    twiddled.forEach((s, i) => {
      this.offsets[i] = size;
      size += (s / 4) * 6;
    });
    this.twiddles = new Float64Array(size);
    twiddled.forEach((s, i) => {
      const off = this.offsets[i]!;
      for (let j = 0; j < s / 4; j++) {
        for (let p = 1; p <= 3; p++) {
          const angle = (-2 * Math.PI * p * j) / s;
          this.twiddles[off + 6 * j + 2 * (p - 1)] = Math.cos(angle);
          this.twiddles[off + 6 * j + 2 * (p - 1) + 1] = Math.sin(angle);
        }
      }
    });
  }

  /** In place: (re, im) ← DFT(re + i·im), bin k at index rev[k]. */
  transform(re: Float64Array, im: Float64Array): void {
    const n = this.n;
    const tw = this.twiddles;
    const spans = this.spans;
    for (let s = 0; s < spans.length; s++) {
      const L = spans[s]!;
      const q = L >> 2;
      const off = this.offsets[s]!;
      for (let j = 0; j < q; j++) {
        const t = off + 6 * j;
        const w1r = tw[t]!;
        const w1i = tw[t + 1]!;
        const w2r = tw[t + 2]!;
        const w2i = tw[t + 3]!;
        const w3r = tw[t + 4]!;
        const w3i = tw[t + 5]!;
        for (let i0 = j; i0 < n; i0 += L) {
          const i1 = i0 + q;
          const i2 = i1 + q;
          const i3 = i2 + q;
          const x0r = re[i0]!;
          const x0i = im[i0]!;
          const x1r = re[i1]!;
          const x1i = im[i1]!;
          const x2r = re[i2]!;
          const x2i = im[i2]!;
          const x3r = re[i3]!;
          const x3i = im[i3]!;
          const s02r = x0r + x2r;
          const s02i = x0i + x2i;
          const d02r = x0r - x2r;
          const d02i = x0i - x2i;
          const s13r = x1r + x3r;
          const s13i = x1i + x3i;
          const d13r = x1r - x3r;
          const d13i = x1i - x3i;
          re[i0] = s02r + s13r;
          im[i0] = s02i + s13i;
          const ar = s02r - s13r;
          const ai = s02i - s13i;
          re[i1] = ar * w2r - ai * w2i;
          im[i1] = ar * w2i + ai * w2r;
          const br = d02r + d13i;
          const bi = d02i - d13r;
          re[i2] = br * w1r - bi * w1i;
          im[i2] = br * w1i + bi * w1r;
          const cr = d02r - d13i;
          const ci = d02i + d13r;
          re[i3] = cr * w3r - ci * w3i;
          im[i3] = cr * w3i + ci * w3r;
        }
      }
    }
    if (this.lastRadix4) {
      for (let i0 = 0; i0 < n; i0 += 4) {
        const x0r = re[i0]!;
        const x0i = im[i0]!;
        const x1r = re[i0 + 1]!;
        const x1i = im[i0 + 1]!;
        const x2r = re[i0 + 2]!;
        const x2i = im[i0 + 2]!;
        const x3r = re[i0 + 3]!;
        const x3i = im[i0 + 3]!;
        const s02r = x0r + x2r;
        const s02i = x0i + x2i;
        const d02r = x0r - x2r;
        const d02i = x0i - x2i;
        const s13r = x1r + x3r;
        const s13i = x1i + x3i;
        const d13r = x1r - x3r;
        const d13i = x1i - x3i;
        re[i0] = s02r + s13r;
        im[i0] = s02i + s13i;
        re[i0 + 1] = s02r - s13r;
        im[i0 + 1] = s02i - s13i;
        re[i0 + 2] = d02r + d13i;
        im[i0 + 2] = d02i - d13r;
        re[i0 + 3] = d02r - d13i;
        im[i0 + 3] = d02i + d13r;
      }
    } else {
      for (let i0 = 0; i0 < n; i0 += 2) {
        const x0r = re[i0]!;
        const x0i = im[i0]!;
        const x1r = re[i0 + 1]!;
        const x1i = im[i0 + 1]!;
        re[i0] = x0r + x1r;
        im[i0] = x0i + x1i;
        re[i0 + 1] = x0r - x1r;
        im[i0 + 1] = x0i - x1i;
      }
    }
  }
}

export type Samples = Float32Array | Float64Array;

/**
 * Real FFT of a fixed power-of-two size N (≥ 4): spectra as bins 0..N/2 in separate re/im Float32Arrays.
 * Optional windows multiply the input (forward) or the output (inverse, overlap-add variants) in the same pass.
 */
export class RealFft {
  readonly nFft: number;
  readonly bins: number;
  /** Size N: stereo pairs. */
  private readonly full: ComplexFft;
  /** Size N/2: single channels. */
  private readonly half: ComplexFft;
  private readonly re: Float64Array;
  private readonly im: Float64Array;
  /** cos and −sin of 2πk/N for k ≤ N/2 (the untangling twiddles of the half-size transform). */
  private readonly cos: Float64Array;
  private readonly sin: Float64Array;

  constructor(nFft: number) {
    if (!Number.isInteger(nFft) || nFft < 4 || (nFft & (nFft - 1)) !== 0) {
      throw new RangeError(`nFft must be a power of two ≥ 4, got ${nFft}`);
    }
    this.nFft = nFft;
    this.bins = nFft / 2 + 1;
    this.full = new ComplexFft(nFft);
    this.half = new ComplexFft(nFft / 2);
    this.re = new Float64Array(nFft);
    this.im = new Float64Array(nFft);
    this.cos = new Float64Array(this.bins);
    this.sin = new Float64Array(this.bins);
    for (let k = 0; k < this.bins; k++) {
      this.cos[k] = Math.cos((2 * Math.PI * k) / nFft);
      this.sin[k] = Math.sin((2 * Math.PI * k) / nFft);
    }
  }

  /** `input` has nFft samples (times `window` when given); writes bins 0..nFft/2 into `re`/`im`. */
  forward(input: Samples, re: Float32Array, im: Float32Array, window?: Float32Array): void {
    const m = this.nFft >> 1;
    const zr = this.re;
    const zi = this.im;
    if (window) {
      for (let i = 0; i < m; i++) {
        zr[i] = input[2 * i]! * window[2 * i]!;
        zi[i] = input[2 * i + 1]! * window[2 * i + 1]!;
      }
    } else {
      for (let i = 0; i < m; i++) {
        zr[i] = input[2 * i]!;
        zi[i] = input[2 * i + 1]!;
      }
    }
    this.half.transform(zr, zi);
    // Z = DFT(even + i·odd): E = (Z[k] + conj Z[m−k]) / 2, O = (Z[k] − conj Z[m−k]) / 2i, X[k] = E + e^(−2πik/N)·O.
    const rev = this.half.rev;
    const c = this.cos;
    const s = this.sin;
    const mask = m - 1;
    for (let k = 0; k <= m; k++) {
      const p = rev[k & mask]!;
      const q = rev[(m - k) & mask]!;
      const pr = zr[p]!;
      const pi = zi[p]!;
      const qr = zr[q]!;
      const qi = zi[q]!;
      const er = pr + qr;
      const ei = pi - qi;
      const or = pi + qi;
      const oi = qr - pr;
      const ck = c[k]!;
      const sk = s[k]!;
      re[k] = 0.5 * (er + or * ck + oi * sk);
      im[k] = 0.5 * (ei + oi * ck - or * sk);
    }
  }

  /**
   * Two real transforms for the price of one complex FFT (z = a + i·b), e.g. the two channels of a stereo frame,
   * each input times `window` when given. Same result as two `forward` calls.
   */
  forwardPair(
    a: Samples,
    b: Samples,
    reA: Float32Array,
    imA: Float32Array,
    reB: Float32Array,
    imB: Float32Array,
    window?: Float32Array,
  ): void {
    const n = this.nFft;
    const zr = this.re;
    const zi = this.im;
    if (window) {
      for (let i = 0; i < n; i++) {
        const w = window[i]!;
        zr[i] = a[i]! * w;
        zi[i] = b[i]! * w;
      }
    } else {
      for (let i = 0; i < n; i++) {
        zr[i] = a[i]!;
        zi[i] = b[i]!;
      }
    }
    this.full.transform(zr, zi);
    const rev = this.full.rev;
    const mask = n - 1;
    const half = n >> 1;
    for (let k = 0; k <= half; k++) {
      const p = rev[k]!;
      const q = rev[(n - k) & mask]!;
      const pr = zr[p]!;
      const pi = zi[p]!;
      const qr = zr[q]!;
      const qi = zi[q]!;
      reA[k] = 0.5 * (pr + qr);
      imA[k] = 0.5 * (pi - qi);
      reB[k] = 0.5 * (pi + qi);
      imB[k] = 0.5 * (qr - pr);
    }
  }

  /**
   * Loads gA·A + i·gB·B (A, B Hermitian, given by bins 0..N/2; g optional real per-bin gains read at
   * gains[offset + k]) as a full complex spectrum and runs the inverse kernel: afterwards N·a[t] is at
   * re[rev[t]] and N·b[t] at im[rev[t]].
   */
  private inversePairCore(
    reA: Float32Array,
    imA: Float32Array,
    reB: Float32Array,
    imB: Float32Array,
    gains: Float32Array | undefined,
    offsetA: number,
    offsetB: number,
  ): void {
    const n = this.nFft;
    const half = n >> 1;
    const zr = this.re;
    const zi = this.im;
        if (gains) {
      // DC and Nyquist of a real signal have no imaginary part; drop any a mask may have left there.
      const a0 = gains[offsetA]! * reA[0]!;
      const b0 = gains[offsetB]! * reB[0]!;
      zr[0] = a0;
      zi[0] = b0;
      const ah = gains[offsetA + half]! * reA[half]!;
      const bh = gains[offsetB + half]! * reB[half]!;
      zr[half] = ah;
      zi[half] = bh;
      for (let k = 1; k < half; k++) {
        const ga = gains[offsetA + k]!;
        const gb = gains[offsetB + k]!;
        const ar = ga * reA[k]!;
        const ai = ga * imA[k]!;
        const br = gb * reB[k]!;
        const bi = gb * imB[k]!;
        zr[k] = ar - bi;
        zi[k] = ai + br;
        zr[n - k] = ar + bi;
        zi[n - k] = br - ai;
      }
    } else {
      zr[0] = reA[0]!;
      zi[0] = reB[0]!;
      zr[half] = reA[half]!;
      zi[half] = reB[half]!;
      for (let k = 1; k < half; k++) {
        const ar = reA[k]!;
        const ai = imA[k]!;
        const br = reB[k]!;
        const bi = imB[k]!;
        zr[k] = ar - bi;
        zi[k] = ai + br;
        zr[n - k] = ar + bi;
        zi[n - k] = br - ai;
      }
    }
    // swap ∘ DFT ∘ swap = n·IDFT: transform the swapped arrays, read the result unswapped.
    this.full.transform(zi, zr);
  }

  /** Two inverse transforms with one complex IFFT: a = Re, b = Im of IFFT(A + i·B). Same result as two `inverse`. */
  inversePair(reA: Float32Array, imA: Float32Array, reB: Float32Array, imB: Float32Array, outA: Samples, outB: Samples): void {
    this.inversePairCore(reA, imA, reB, imB, undefined, 0, 0);
    const n = this.nFft;
    const scale = 1 / n;
    const rev = this.full.rev;
    const zr = this.re;
    const zi = this.im;
    for (let t = 0; t < n; t++) {
      const p = rev[t]!;
      outA[t] = zr[p]! * scale;
      outB[t] = zi[p]! * scale;
    }
  }

  /**
   * Overlap-add of two inverse transforms: accA[t] += window[t]·a[t], accB[t] += window[t]·b[t] for t < N, where
   * a, b = IFFT of gains·A, gains·B (gains optional, [offsetA + k] and [offsetB + k]; a soft mask).
   */
  inversePairAdd(
    reA: Float32Array,
    imA: Float32Array,
    reB: Float32Array,
    imB: Float32Array,
    gains: Float32Array | undefined,
    offsetA: number,
    offsetB: number,
    window: Float32Array,
    accA: Float64Array,
    accB: Float64Array,
  ): void {
    this.inversePairCore(reA, imA, reB, imB, gains, offsetA, offsetB);
    const n = this.nFft;
    const scale = 1 / n;
    const rev = this.full.rev;
    const zr = this.re;
    const zi = this.im;
    for (let t = 0; t < n; t++) {
      const p = rev[t]!;
      const w = window[t]! * scale;
      accA[t]! += zr[p]! * w;
      accB[t]! += zi[p]! * w;
    }
  }

  /** Runs the half-size inverse: afterwards (N/2)·x[2m] is at re[rev[m]] and (N/2)·x[2m+1] at im[rev[m]]. */
  private inverseCore(re: Float32Array, im: Float32Array, gains: Float32Array | undefined, offset: number): void {
    const m = this.nFft >> 1;
    const zr = this.re;
    const zi = this.im;
    const c = this.cos;
    const s = this.sin;
    // E = (X[k] + conj X[m−k]) / 2, O = (X[k] − conj X[m−k]) / 2 · e^(2πik/N); Z = E + i·O = DFT(even + i·odd).
    // DC and Nyquist of a real signal have no imaginary part; drop any a mask may have left there.
    for (let k = 0; k < m; k++) {
      const j = m - k;
      const gk = gains ? gains[offset + k]! : 1;
      const gj = gains ? gains[offset + j]! : 1;
      const xr = gk * re[k]!;
      const xi = k === 0 ? 0 : gk * im[k]!;
      const yr = gj * re[j]!;
      const yi = j === m ? 0 : gj * im[j]!;
      const er = 0.5 * (xr + yr);
      const ei = 0.5 * (xi - yi);
      const dr = 0.5 * (xr - yr);
      const di = 0.5 * (xi + yi);
      const ck = c[k]!;
      const sk = s[k]!;
      const or = dr * ck - di * sk;
      const oi = dr * sk + di * ck;
      zr[k] = er - oi;
      zi[k] = ei + or;
    }
    this.half.transform(zi, zr);
  }

  /** Inverse of `forward` for a Hermitian spectrum given by its bins 0..nFft/2; writes nFft real samples. */
  inverse(re: Float32Array, im: Float32Array, out: Samples): void {
    this.inverseCore(re, im, undefined, 0);
    const m = this.nFft >> 1;
    const scale = 1 / m;
    const rev = this.half.rev;
    const zr = this.re;
    const zi = this.im;
    for (let i = 0; i < m; i++) {
      const p = rev[i]!;
      out[2 * i] = zr[p]! * scale;
      out[2 * i + 1] = zi[p]! * scale;
    }
  }

  /** Overlap-add of one inverse transform: acc[t] += window[t]·x[t], x = IFFT of gains·X (gains optional). */
  inverseAdd(re: Float32Array, im: Float32Array, gains: Float32Array | undefined, offset: number, window: Float32Array, acc: Float64Array): void {
    this.inverseCore(re, im, gains, offset);
    const m = this.nFft >> 1;
    const scale = 1 / m;
    const rev = this.half.rev;
    const zr = this.re;
    const zi = this.im;
    for (let i = 0; i < m; i++) {
      const p = rev[i]!;
      acc[2 * i]! += zr[p]! * window[2 * i]! * scale;
      acc[2 * i + 1]! += zi[p]! * window[2 * i + 1]! * scale;
    }
  }
}
