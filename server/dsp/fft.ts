/**
 * Real FFT of a fixed power-of-two size for the STFT hot path, on PFFFT (Julien Pommier's "pretty fast FFT", the C
 * library WebRTC and many audio tools use) compiled to WebAssembly with SIMD by @echogarden/pffft-wasm.
 * Forward is unnormalised; inverse includes 1/nFft, so inverse(forward(x)) = x.
 *
 * Why not fft.js (which this replaced): measured on the shipped STFT (1024/256, stereo, 44.1 kHz), a 1024-point
 * real transform is ~1 µs in PFFFT against ~7–10 µs for the best JavaScript we had (fft.js's radix-4 complex
 * transform, or our own radix-4 split-array kernel, neither can use SIMD), which made the FFTs most of the DSP
 * cost per session-hop. PFFFT computes in float32; spectra were already stored as Float32Array, and the round
 * trip stays within ~3e-7 of the input (see test/dsp-fft.test.ts), far inside every tolerance the pipeline has.
 *
 * The wasm module is instantiated once per process when this module loads (top-level await), so constructors stay
 * synchronous. All transforms of one size share one PFFFT setup and one scratch area in wasm memory: every call
 * runs to completion synchronously, so streams on one thread can never interleave inside it. No allocation per
 * call. Sizes PFFFT cannot do (real transforms need nFft ≥ 32) use a direct O(n²) DFT in float64.
 *
 * The fused variants (window on the way in, `forwardPair` for a stereo frame, mask + overlap-add + output on the way
 * out in `overlapAdd`) exist so the STFT makes one pass over the data in JavaScript per step instead of several.
 */
/// <reference path="./pffft-wasm.d.ts" />
import PFFFT from '@echogarden/pffft-wasm/simd';
import type { PffftModule } from '@echogarden/pffft-wasm/simd';

const pffft: PffftModule = await PFFFT();
const PFFFT_REAL = 0;
const PFFFT_FORWARD = 0;
const PFFFT_BACKWARD = 1;

export type Samples = Float32Array | Float64Array;

/** One PFFFT setup and its scratch buffers (float32 indices into HEAPF32) for a size. */
interface Plan {
  setup: number;
  inA: number;
  inB: number;
  out: number;
  work: number;
}

const plans = new Map<number, Plan>();

function planFor(n: number): Plan | undefined {
  if (n < 32) return undefined;
  let plan = plans.get(n);
  if (!plan) {
    const setup = pffft._pffft_new_setup(n, PFFFT_REAL);
    if (setup === 0) return undefined;
    const buffer = (): number => pffft._pffft_aligned_malloc(4 * n) >> 2;
    plan = { setup, inA: buffer(), inB: buffer(), out: buffer(), work: buffer() };
    plans.set(n, plan);
  }
  return plan;
}

/** Which implementation a RealFft uses: PFFFT in wasm, or the direct DFT for sizes it does not support. */
export type RealFftBackend = 'pffft-wasm' | 'dft';

export class RealFft {
  readonly nFft: number;
  readonly bins: number;
  readonly backend: RealFftBackend;
  private readonly plan: Plan | undefined;
  /** Direct-DFT fallback only: cos/sin of 2πj/nFft, and a float64 time buffer. */
  private readonly cos: Float64Array;
  private readonly sin: Float64Array;
  private readonly time: Float64Array;

  constructor(nFft: number) {
    if (!Number.isInteger(nFft) || nFft < 4 || (nFft & (nFft - 1)) !== 0) {
      throw new RangeError(`nFft must be a power of two ≥ 4, got ${nFft}`);
    }
    this.nFft = nFft;
    this.bins = nFft / 2 + 1;
    this.plan = planFor(nFft);
    this.backend = this.plan ? 'pffft-wasm' : 'dft';
    const tableSize = this.plan ? 0 : nFft;
    this.cos = new Float64Array(tableSize);
    this.sin = new Float64Array(tableSize);
    this.time = new Float64Array(tableSize);
    for (let j = 0; j < tableSize; j++) {
      this.cos[j] = Math.cos((2 * Math.PI * j) / nFft);
      this.sin[j] = Math.sin((2 * Math.PI * j) / nFft);
    }
  }

  /** `input` has nFft samples (multiplied by `window` when given); writes bins 0..nFft/2 into `re`/`im`. */
  forward(input: Samples, re: Float32Array, im: Float32Array, window?: Float32Array): void {
    const n = this.nFft;
    const plan = this.plan;
    if (!plan) {
      const x = this.time;
      for (let i = 0; i < n; i++) x[i] = window ? input[i]! * window[i]! : input[i]!;
      this.dftForward(x, re, im);
      return;
    }
    const h = pffft.HEAPF32;
    const a = plan.inA;
    if (window) for (let i = 0; i < n; i++) h[a + i] = input[i]! * window[i]!;
    else for (let i = 0; i < n; i++) h[a + i] = input[i]!;
    this.forwardFromHeap(plan, a, re, im);
  }

  /** Two real transforms (e.g. the two channels of a stereo frame), one pass over the inputs. Same as two `forward`. */
  forwardPair(
    a: Samples,
    b: Samples,
    reA: Float32Array,
    imA: Float32Array,
    reB: Float32Array,
    imB: Float32Array,
    window?: Float32Array,
  ): void {
    const plan = this.plan;
    if (!plan) {
      this.forward(a, reA, imA, window);
      this.forward(b, reB, imB, window);
      return;
    }
    const n = this.nFft;
    const h = pffft.HEAPF32;
    const pa = plan.inA;
    const pb = plan.inB;
    if (window) {
      for (let i = 0; i < n; i++) {
        const w = window[i]!;
        h[pa + i] = a[i]! * w;
        h[pb + i] = b[i]! * w;
      }
    } else {
      for (let i = 0; i < n; i++) {
        h[pa + i] = a[i]!;
        h[pb + i] = b[i]!;
      }
    }
    this.forwardFromHeap(plan, pa, reA, imA);
    this.forwardFromHeap(plan, pb, reB, imB);
  }

  /** Inverse of `forward` for a Hermitian spectrum given by its bins 0..nFft/2; writes nFft real samples. */
  inverse(re: Float32Array, im: Float32Array, out: Samples): void {
    const n = this.nFft;
    const scale = 1 / n;
    const plan = this.plan;
    if (!plan) {
      this.dftInverse(re, im, undefined, 0);
      for (let t = 0; t < n; t++) out[t] = this.time[t]! * scale;
      return;
    }
    this.inverseToHeap(plan, re, im, undefined, 0);
    const h = pffft.HEAPF32;
    const o = plan.out;
    for (let t = 0; t < n; t++) out[t] = h[o + t]! * scale;
  }

  /** Two inverse transforms. Same result as two `inverse` calls. */
  inversePair(reA: Float32Array, imA: Float32Array, reB: Float32Array, imB: Float32Array, outA: Samples, outB: Samples): void {
    this.inverse(reA, imA, outA);
    this.inverse(reB, imB, outB);
  }

  /**
   * One overlap-add step of the inverse transform y = window · IFFT(gains · X) (optional real per-bin gains, a soft
   * mask, read at gains[offset + k]). `acc` (nFft values) holds the pending sums for the next nFft output samples and
   * must be zero from nFft − hop on, hop = out.length (a fresh zeroed array is a valid start). Writes the hop samples
   * that are now final, acc[t] + y[t] for t < hop, to `out`, and leaves acc shifted by hop (zero from nFft − hop on
   * again) in the same pass.
   */
  overlapAdd(
    re: Float32Array,
    im: Float32Array,
    gains: Float32Array | undefined,
    offset: number,
    window: Float32Array,
    acc: Float64Array,
    out: Float32Array,
  ): void {
    const n = this.nFft;
    const hop = out.length;
    const scale = 1 / n;
    const plan = this.plan;
    let y: Float32Array | Float64Array;
    let o: number;
    if (plan) {
      this.inverseToHeap(plan, re, im, gains, offset);
      y = pffft.HEAPF32;
      o = plan.out;
    } else {
      this.dftInverse(re, im, gains, offset);
      y = this.time;
      o = 0;
    }
    for (let t = 0; t < hop; t++) out[t] = acc[t]! + y[o + t]! * window[t]! * scale;
    // acc[t] is zero for t ≥ nFft − hop, so nothing is left behind past it.
    for (let t = hop; t < n; t++) acc[t - hop] = acc[t]! + y[o + t]! * window[t]! * scale;
  }

  /** Transforms nFft samples at HEAPF32[input…] and unpacks PFFFT's ordered real spectrum [r0, r(n/2), r1, i1, …]. */
  private forwardFromHeap(plan: Plan, input: number, re: Float32Array, im: Float32Array): void {
    pffft._pffft_transform_ordered(plan.setup, input << 2, plan.out << 2, plan.work << 2, PFFFT_FORWARD);
    const h = pffft.HEAPF32;
    const o = plan.out;
    const half = this.nFft >> 1;
    re[0] = h[o]!;
    im[0] = 0;
    re[half] = h[o + 1]!;
    im[half] = 0;
    for (let k = 1; k < half; k++) {
      re[k] = h[o + 2 * k]!;
      im[k] = h[o + 2 * k + 1]!;
    }
  }

  /** Packs gains·X in PFFFT's ordered layout and inverse-transforms it (unscaled: nFft·x) into HEAPF32[plan.out…]. */
  private inverseToHeap(plan: Plan, re: Float32Array, im: Float32Array, gains: Float32Array | undefined, offset: number): void {
    const h = pffft.HEAPF32;
    const a = plan.inA;
    const half = this.nFft >> 1;
    // The layout has no slot for the imaginary parts of DC and Nyquist: whatever a mask left there is dropped.
    if (gains) {
      h[a] = gains[offset]! * re[0]!;
      h[a + 1] = gains[offset + half]! * re[half]!;
      for (let k = 1; k < half; k++) {
        const g = gains[offset + k]!;
        h[a + 2 * k] = g * re[k]!;
        h[a + 2 * k + 1] = g * im[k]!;
      }
    } else {
      h[a] = re[0]!;
      h[a + 1] = re[half]!;
      for (let k = 1; k < half; k++) {
        h[a + 2 * k] = re[k]!;
        h[a + 2 * k + 1] = im[k]!;
      }
    }
    pffft._pffft_transform_ordered(plan.setup, a << 2, plan.out << 2, plan.work << 2, PFFFT_BACKWARD);
  }

  /** Direct DFT (small sizes only): X[k] = Σ x[t]·e^(−2πikt/n). */
  private dftForward(x: Float64Array, re: Float32Array, im: Float32Array): void {
    const n = this.nFft;
    for (let k = 0; k < this.bins; k++) {
      let sr = 0;
      let si = 0;
      for (let t = 0; t < n; t++) {
        const j = (k * t) & (n - 1);
        sr += x[t]! * this.cos[j]!;
        si -= x[t]! * this.sin[j]!;
      }
      re[k] = sr;
      im[k] = si;
    }
    im[0] = 0;
    im[n >> 1] = 0;
  }

  /** Direct inverse DFT (small sizes only) of the Hermitian spectrum gains·X, unscaled (n·x), into `time`. */
  private dftInverse(re: Float32Array, im: Float32Array, gains: Float32Array | undefined, offset: number): void {
    const n = this.nFft;
    const half = n >> 1;
    for (let t = 0; t < n; t++) {
      let s = 0;
      for (let k = 0; k <= half; k++) {
        const g = gains ? gains[offset + k]! : 1;
        const j = (k * t) & (n - 1);
        // DC and Nyquist of a real signal have no imaginary part; the others count twice (k and n − k).
        const term = k === 0 || k === half ? re[k]! * this.cos[j]! : 2 * (re[k]! * this.cos[j]! - im[k]! * this.sin[j]!);
        s += g * term;
      }
      this.time[t] = s;
    }
  }
}
