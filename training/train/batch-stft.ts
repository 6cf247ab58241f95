/**
 * The training batch's STFT: the same transform as offlineStft (server/dsp/stft.ts) — same framing, same float32
 * rounding of x·window, same PFFFT forward transform, same float64 magnitude — bit for bit, but writing |X| (and
 * optionally re/im) straight into the batch's [T, channels, bins] layout.
 *
 * Why not offlineStft: per frame it allocates a StftFrame (four typed arrays) and two subarray views and copies the
 * spectrum out of wasm memory before a JavaScript magnitude pass reads it again; over the ~66 k transforms of a
 * 64 × 1 s batch that cost several times the FFTs, on the core the gradient replicas need. Here a signal is copied
 * into wasm memory once (behind nFft − hop zeros, so early frames need no special case), and windowing, FFT and
 * magnitude all run in wasm (stft-kernel.ts); nothing is allocated per frame. test/train-batch.test.ts checks the
 * output against offlineStft. Sizes PFFFT cannot do (nFft < 32) fall back to offlineStft.
 */
import { offlineStft, stftBins, type StftConfig } from '../../server/dsp/stft.ts';
import { makeWindow } from '../../server/dsp/window.ts';
import { stftKernels } from './stft-kernel.ts';

const PFFFT_REAL = 0;
const PFFFT_FORWARD = 0;
const PFFFT_MIN_SIZE = 32;

/** Optional complex output (same layout as the magnitudes). */
export interface ComplexOut {
  re: Float32Array;
  im: Float32Array;
}

export class BatchStft {
  readonly config: StftConfig;
  readonly bins: number;
  /** PFFFT setup; 0: size PFFFT cannot do. */
  private readonly setup: number;
  /** Float32 indices into PFFFT's HEAPF32: window, transform input / output / work. */
  private readonly winIdx: number;
  private readonly inIdx: number;
  private readonly outIdx: number;
  private readonly workIdx: number;
  /** Staging area for one padded signal (all channels) followed by its magnitudes; grown on demand. */
  private stageIdx = 0;
  private stageFloats = 0;

  constructor(config: StftConfig) {
    this.config = config;
    this.bins = stftBins(config);
    const n = config.nFft;
    const { pffft } = stftKernels;
    this.setup = n >= PFFFT_MIN_SIZE && (n & (n - 1)) === 0 ? pffft._pffft_new_setup(n, PFFFT_REAL) : 0;
    const area = (): number => (this.setup === 0 ? 0 : pffft._pffft_aligned_malloc(4 * n) >> 2);
    this.winIdx = area();
    this.inIdx = area();
    this.outIdx = area();
    this.workIdx = area();
    if (this.setup !== 0) pffft.HEAPF32.set(makeWindow(config.window, n), this.winIdx);
  }

  /**
   * |STFT| of the first `frames` frames of a multichannel signal into `out` at `base`, layout [T, channels, bins];
   * the complex spectrum too when `complex` is given (same offsets).
   */
  magnitudes(signal: Float32Array[], out: Float32Array, base: number, frames: number, complex?: ComplexOut): void {
    if (this.setup === 0) {
      this.viaOfflineStft(signal, out, base, frames, complex);
      return;
    }
    const { nFft, hopSamples } = this.config;
    const { pffft, window, magnitude, unpack } = stftKernels;
    const channels = signal.length;
    const bins = this.bins;
    const pad = nFft - hopSamples;
    const padded = pad + frames * hopSamples;
    const magFloats = frames * channels * bins;
    if (signal.some((x) => x.length < frames * hopSamples)) throw new RangeError(`signal is shorter than ${frames} frames`);
    this.reserve(channels * padded + (complex === undefined ? 1 : 3) * magFloats);
    const h = pffft.HEAPF32;
    const stage = this.stageIdx;
    for (let c = 0; c < channels; c++) {
      const x = signal[c]!;
      const at = stage + c * padded;
      h.fill(0, at, at + pad);
      h.set(x.length > padded - pad ? x.subarray(0, padded - pad) : x, at + pad);
    }
    const mags = stage + channels * padded;
    const res = mags + magFloats;
    const ims = res + magFloats;
    const half = nFft >> 1;
    for (let t = 0; t < frames; t++) {
      for (let c = 0; c < channels; c++) {
        const row = (t * channels + c) * bins;
        window((stage + c * padded + t * hopSamples) << 2, this.winIdx << 2, this.inIdx << 2, nFft);
        pffft._pffft_transform_ordered(this.setup, this.inIdx << 2, this.outIdx << 2, this.workIdx << 2, PFFFT_FORWARD);
        magnitude(this.outIdx << 2, (mags + row) << 2, half);
        if (complex !== undefined) unpack(this.outIdx << 2, (res + row) << 2, (ims + row) << 2, half);
      }
    }
    out.set(h.subarray(mags, mags + magFloats), base);
    if (complex !== undefined) {
      complex.re.set(h.subarray(res, res + magFloats), base);
      complex.im.set(h.subarray(ims, ims + magFloats), base);
    }
  }

  /** Grows the staging area to `floats` (allocation may grow wasm memory, which replaces HEAPF32: read it after). */
  private reserve(floats: number): void {
    if (floats <= this.stageFloats) return;
    const { pffft } = stftKernels;
    // The old area is not freed (pffft-wasm.d.ts declares no free): growth is geometric and happens only when a
    // longer excerpt than any before arrives, so at most about as much again as the largest area stays allocated.
    this.stageFloats = Math.max(floats, 2 * this.stageFloats);
    this.stageIdx = pffft._pffft_aligned_malloc(4 * this.stageFloats) >> 2;
    if (this.stageIdx === 0) throw new RangeError(`cannot allocate ${this.stageFloats} floats of wasm memory for the batch STFT`);
  }

  private viaOfflineStft(signal: Float32Array[], out: Float32Array, base: number, frames: number, complex?: ComplexOut): void {
    const stft = offlineStft(signal, this.config);
    const bins = this.bins;
    for (let t = 0; t < frames; t++) {
      const frame = stft[t]!;
      for (let c = 0; c < signal.length; c++) {
        const o = base + (t * signal.length + c) * bins;
        const fr = frame.re[c]!;
        const fi = frame.im[c]!;
        for (let k = 0; k < bins; k++) out[o + k] = Math.sqrt(fr[k]! * fr[k]! + fi[k]! * fi[k]!);
        if (complex !== undefined) {
          complex.re.set(fr, o);
          complex.im.set(fi, o);
        }
      }
    }
  }
}
