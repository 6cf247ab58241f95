/**
 * Real FFT of a fixed power-of-two size on top of fft.js (radix-4, the fastest pure-JS FFT we measured).
 * Forward is unnormalised; inverse includes 1/nFft, so inverse(forward(x)) = x.
 */
import FFT from 'fft.js';

export class RealFft {
  readonly nFft: number;
  readonly bins: number;
  private readonly fft: FFT;
  private readonly timeIn: Float64Array;
  private readonly spectrum: Float64Array;
  private readonly timeOut: Float64Array;

  constructor(nFft: number) {
    if (!Number.isInteger(nFft) || nFft < 4 || (nFft & (nFft - 1)) !== 0) {
      throw new RangeError(`nFft must be a power of two ≥ 4, got ${nFft}`);
    }
    this.nFft = nFft;
    this.bins = nFft / 2 + 1;
    this.fft = new FFT(nFft);
    this.timeIn = new Float64Array(nFft);
    this.spectrum = new Float64Array(2 * nFft);
    this.timeOut = new Float64Array(2 * nFft);
  }

  /** `input` has nFft samples; writes bins 0..nFft/2 into `re`/`im`. */
  forward(input: ArrayLike<number>, re: Float32Array, im: Float32Array): void {
    const x = this.timeIn;
    for (let n = 0; n < this.nFft; n++) x[n] = input[n] ?? 0;
    this.fft.realTransform(this.spectrum, x);
    const s = this.spectrum;
    for (let k = 0; k < this.bins; k++) {
      re[k] = s[2 * k]!;
      im[k] = s[2 * k + 1]!;
    }
  }

  /** Inverse of `forward` for a Hermitian spectrum given by its bins 0..nFft/2; writes nFft real samples. */
  inverse(re: Float32Array, im: Float32Array, out: Float32Array | Float64Array): void {
    const n = this.nFft;
    const s = this.spectrum;
    for (let k = 0; k < this.bins; k++) {
      s[2 * k] = re[k]!;
      s[2 * k + 1] = im[k]!;
    }
    // DC and Nyquist of a real signal have no imaginary part; drop any a mask may have left there.
    s[1] = 0;
    s[n + 1] = 0;
    for (let k = 1; k < n / 2; k++) {
      s[2 * (n - k)] = re[k]!;
      s[2 * (n - k) + 1] = -im[k]!;
    }
    this.fft.inverseTransform(this.timeOut, s);
    const t = this.timeOut;
    for (let i = 0; i < n; i++) out[i] = t[2 * i]!;
  }
}
