/**
 * Streaming STFT analysis and overlap-add synthesis with an exact, declared latency.
 *
 * Framing (no centring, no future padding — a live stream has no future): frame k covers input samples
 * [(k+1)·hop − nFft, (k+1)·hop), samples before the stream start are zeros, and frame k is emitted as soon as
 * sample (k+1)·hop − 1 has arrived. Synthesis overlap-adds frame k and emits the hop samples that no later frame
 * touches, so analysis → synthesis reproduces the input delayed by exactly nFft − hop samples.
 */
import { RealFft } from './fft.ts';
import { makeWindow, type WindowKind } from './window.ts';

export interface StftConfig {
  nFft: number;
  hopSamples: number;
  window: WindowKind;
}

/** One frame, planar: `re[channel][bin]`, bins = nFft/2 + 1. */
export interface StftFrame {
  re: Float32Array[];
  im: Float32Array[];
}

export function stftLatencySamples(cfg: StftConfig): number {
  return cfg.nFft - cfg.hopSamples;
}

export function stftBins(cfg: StftConfig): number {
  return cfg.nFft / 2 + 1;
}

function validate(cfg: StftConfig): void {
  if (!Number.isInteger(cfg.hopSamples) || cfg.hopSamples < 1 || cfg.hopSamples > cfg.nFft) {
    throw new RangeError(`hopSamples must be an integer in [1, nFft], got ${cfg.hopSamples}`);
  }
}

export function emptyFrame(bins: number, channels: number): StftFrame {
  return {
    re: Array.from({ length: channels }, () => new Float32Array(bins)),
    im: Array.from({ length: channels }, () => new Float32Array(bins)),
  };
}

/** |X| per channel and bin; writes into `out` when given (reused buffers on the hot path). */
export function magnitude(frame: StftFrame, out?: Float32Array[]): Float32Array[] {
  const mags = out ?? frame.re.map((r) => new Float32Array(r.length));
  frame.re.forEach((re, c) => {
    const im = frame.im[c]!;
    const m = mags[c]!;
    for (let k = 0; k < re.length; k++) m[k] = Math.hypot(re[k]!, im[k]!);
  });
  return mags;
}

export class StftAnalyzer {
  readonly config: StftConfig;
  readonly channels: number;
  readonly bins: number;
  private readonly fft: RealFft;
  private readonly window: Float32Array;
  /** Last nFft − hop samples followed by the `pending` newest ones, per channel. */
  private readonly history: Float32Array[];
  /** Frames handed back through `recycle`, reused instead of allocating. */
  private readonly spare: StftFrame[] = [];
  private pending = 0;
  private frames = 0;

  constructor(config: StftConfig, channels: number) {
    validate(config);
    this.config = config;
    this.channels = channels;
    this.bins = stftBins(config);
    this.fft = new RealFft(config.nFft);
    this.window = makeWindow(config.window, config.nFft);
    this.history = Array.from({ length: channels }, () => new Float32Array(config.nFft));
  }

  get framesOut(): number {
    return this.frames;
  }

  /** Samples received since the last emitted frame (always < hop between calls). */
  get pendingSamples(): number {
    return this.pending;
  }

  push(chunk: Float32Array[]): StftFrame[] {
    if (chunk.length !== this.channels) {
      throw new RangeError(`expected ${this.channels} channels, got ${chunk.length}`);
    }
    const { nFft, hopSamples } = this.config;
    const length = chunk[0]?.length ?? 0;
    const out: StftFrame[] = [];
    const base = nFft - hopSamples;
    let offset = 0;
    while (offset < length) {
      const take = Math.min(hopSamples - this.pending, length - offset);
      for (let c = 0; c < this.channels; c++) {
        this.history[c]!.set(chunk[c]!.subarray(offset, offset + take), base + this.pending);
      }
      this.pending += take;
      offset += take;
      if (this.pending === hopSamples) {
        out.push(this.analyse());
        for (const h of this.history) h.copyWithin(0, hopSamples);
        this.pending = 0;
      }
    }
    return out;
  }

  /**
   * Hands back a frame this analyzer emitted, once the caller is done with it: a later frame reuses its buffers
   * (the streaming hot path allocates nothing per hop). Optional; a frame must not be used after it is recycled.
   */
  recycle(frame: StftFrame): void {
    if (this.spare.length < 8 && frame.re.length === this.channels && frame.re[0]?.length === this.bins) this.spare.push(frame);
  }

  reset(): void {
    for (const h of this.history) h.fill(0);
    this.pending = 0;
    this.frames = 0;
  }

  private analyse(): StftFrame {
    const frame = this.spare.pop() ?? emptyFrame(this.bins, this.channels);
    let c = 0;
    for (; c + 1 < this.channels; c += 2) {
      const { re, im } = frame;
      this.fft.forwardPair(this.history[c]!, this.history[c + 1]!, re[c]!, im[c]!, re[c + 1]!, im[c + 1]!, this.window);
    }
    if (c < this.channels) this.fft.forward(this.history[c]!, frame.re[c]!, frame.im[c]!, this.window);
    this.frames++;
    return frame;
  }
}

/**
 * Synthesis window scaled so that Σ_k analysis·synthesis over hop-shifted copies is exactly 1 at every sample
 * (per-position normalisation: works for any window pair that overlaps without gaps, not only COLA pairs).
 */
export function synthesisWindow(config: StftConfig): Float32Array {
  const { nFft, hopSamples } = config;
  const analysis = makeWindow(config.window, nFft);
  const norm = new Float64Array(hopSamples);
  for (let n = 0; n < nFft; n++) norm[n % hopSamples]! += analysis[n]! * analysis[n]!;
  const out = new Float32Array(nFft);
  for (let n = 0; n < nFft; n++) {
    const s = norm[n % hopSamples]!;
    if (s < 1e-8) throw new RangeError(`window ${config.window} with hop ${hopSamples} leaves gaps (no reconstruction)`);
    out[n] = analysis[n]! / s;
  }
  return out;
}

export class OlaSynthesizer {
  readonly config: StftConfig;
  readonly channels: number;
  readonly bins: number;
  private readonly fft: RealFft;
  private readonly window: Float32Array;
  /** Pending overlap-add sums for the next nFft samples per channel; zero from nFft − hop on between frames. */
  private readonly accumulator: Float64Array[];

  constructor(config: StftConfig, channels: number) {
    validate(config);
    this.config = config;
    this.channels = channels;
    this.bins = stftBins(config);
    this.fft = new RealFft(config.nFft);
    this.window = synthesisWindow(config);
    this.accumulator = Array.from({ length: channels }, () => new Float64Array(config.nFft));
  }

  get latencySamples(): number {
    return stftLatencySamples(this.config);
  }

  /** Adds one frame; returns the hop samples per channel that are now final. */
  push(frame: StftFrame): Float32Array[] {
    const out = Array.from({ length: this.channels }, () => new Float32Array(this.config.hopSamples));
    this.add(frame, undefined, out);
    return out;
  }

  /**
   * Adds the frame times a real per-bin mask (`mask` is [channels, bins] flattened: the model's layout) without
   * materialising the masked frame: same result as `push` of the masked frame (see pipeline/mask.ts `applyMask`).
   * Writes the final hop samples into `out` (channels × hop, e.g. views of one buffer) when given.
   */
  pushMasked(frame: StftFrame, mask: Float32Array, out?: Float32Array[]): Float32Array[] {
    if (mask.length !== this.channels * this.bins) throw new RangeError(`mask has ${mask.length} values, need ${this.channels * this.bins}`);
    const hop = this.config.hopSamples;
    if (out) {
      let ok = out.length === this.channels;
      for (let c = 0; ok && c < out.length; c++) ok = out[c]!.length === hop;
      if (!ok) throw new RangeError(`output must be ${this.channels} × ${hop} samples`);
    }
    const target = out ?? Array.from({ length: this.channels }, () => new Float32Array(hop));
    this.add(frame, mask, target);
    return target;
  }

  private add(frame: StftFrame, mask: Float32Array | undefined, out: Float32Array[]): void {
    const { re, im } = frame;
    for (let c = 0; c < this.channels; c++) {
      this.fft.overlapAdd(re[c]!, im[c]!, mask, c * this.bins, this.window, this.accumulator[c]!, out[c]!);
    }
  }

  reset(): void {
    for (const a of this.accumulator) a.fill(0);
  }
}

/**
 * STFT of a whole signal with the streaming framing (complete frames only: floor(length / hop)).
 * Written directly from the framing definition rather than through StftAnalyzer, so that tests comparing the two
 * check the streaming bookkeeping against an independent computation.
 */
export function offlineStft(signal: Float32Array[], config: StftConfig): StftFrame[] {
  validate(config);
  const { nFft, hopSamples } = config;
  const fft = new RealFft(nFft);
  const window = makeWindow(config.window, nFft);
  const length = signal[0]?.length ?? 0;
  const frameCount = Math.floor(length / hopSamples);
  // Only the first frames reach before the signal's start; they read a zero-padded copy. Every product x·w is
  // rounded to float32 once, whichever path, so both give the values the streaming analyzer gives.
  const padded = new Float32Array(nFft);
  const frames: StftFrame[] = [];
  const view = (x: Float32Array, start: number): Float32Array => {
    if (start >= 0) return x.subarray(start, start + nFft);
    padded.fill(0, 0, -start);
    padded.set(x.subarray(0, nFft + start), -start);
    return padded;
  };
  for (let k = 0; k < frameCount; k++) {
    const start = (k + 1) * hopSamples - nFft;
    const frame = emptyFrame(stftBins(config), signal.length);
    let c = 0;
    if (start >= 0) {
      for (; c + 1 < signal.length; c += 2) {
        fft.forwardPair(view(signal[c]!, start), view(signal[c + 1]!, start), frame.re[c]!, frame.im[c]!, frame.re[c + 1]!, frame.im[c + 1]!, window);
      }
    }
    for (; c < signal.length; c++) fft.forward(view(signal[c]!, start), frame.re[c]!, frame.im[c]!, window);
    frames.push(frame);
  }
  return frames;
}
