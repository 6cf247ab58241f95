/**
 * Streaming rational-ratio resampler (polyphase Kaiser-windowed sinc).
 *
 * Written by hand rather than taken from a library (libsamplerate-js, wave-resampler) because the protocol
 * announces an exact algorithmic latency in samples and promises that output offsets line up with input
 * offsets: that needs (1) a delay known exactly and chosen by the caller, so the client-rate round trip
 * through the model rate can be made a whole number of samples, (2) bit-identical output whatever the chunking,
 * and (3) a synchronous, allocation-light stage that needs no async wasm start-up per session. The libraries we
 * looked at report no delay and process in their own internal blocks.
 *
 * Output sample j sits at input time (j·M + P)/L − D (L/M = outRate/inRate reduced, D = delayInputSamples, P =
 * offsetPhases, usually 0): it is a causal filter, so output j needs input up to floor((j·M + P)/L) only.
 */
const KAISER_BETA = 8.6; // ≈ 85 dB stop-band attenuation
const ZERO_CROSSINGS = 16; // half-width of the sinc, in periods of the lower rate
const ROLLOFF = 0.92; // passband edge as a fraction of the lower Nyquist frequency

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  for (let k = 1; k < 50; k++) {
    term *= (x / (2 * k)) ** 2;
    sum += term;
    if (term < 1e-12 * sum) break;
  }
  return sum;
}

export interface ResamplerOptions {
  /** Delay in input samples; must be ≥ Resampler.minDelayInputSamples(...). Default: that minimum. */
  delayInputSamples?: number;
  /**
   * Shifts the output grid later by this many 1/L fractions of an input sample (L = outRate/gcd). A stream that
   * starts mid-way through a longer timeline (a segment after a flush) needs its output instants on that timeline's
   * grid, which is generally not its own. Integer > −L: down to one input sample early, which reads only the zero
   * history before the first input. Default 0.
   */
  offsetPhases?: number;
}

export class Resampler {
  readonly inRateHz: number;
  readonly outRateHz: number;
  readonly channels: number;
  readonly up: number;
  readonly down: number;
  readonly delayInputSamples: number;
  readonly offsetPhases: number;
  private readonly taps: number;
  /** Only taps kFirst..kLast can be non-zero: a delay longer than the filter needs only shifts it. */
  private readonly kFirst: number;
  private readonly kLast: number;
  /**
   * table[phase * taps + k] weights input sample floor(t) − k for output phase `phase`. Float32 weights held
   * widened in a Float64Array (exactly), so the tap loop reads doubles with no per-tap conversion.
   */
  private readonly table: Float64Array;
  /**
   * Per channel: the last `taps` input samples (zero before the first input), then room for a chunk. Reused so a
   * steady stream allocates nothing here per push beyond its output. Float32 input held widened (exactly) in float64.
   */
  private readonly works: Float64Array[] = [];
  private inputCount = 0;
  private outputCount = 0;

  static minDelayInputSamples(inRateHz: number, outRateHz: number): number {
    if (inRateHz === outRateHz) return 0;
    return Math.ceil(ZERO_CROSSINGS * Math.max(1, inRateHz / outRateHz));
  }

  constructor(inRateHz: number, outRateHz: number, channels: number, options: ResamplerOptions = {}) {
    if (!Number.isInteger(inRateHz) || !Number.isInteger(outRateHz) || inRateHz <= 0 || outRateHz <= 0) {
      throw new RangeError(`sample rates must be positive integers, got ${inRateHz} → ${outRateHz}`);
    }
    const g = gcd(inRateHz, outRateHz);
    this.inRateHz = inRateHz;
    this.outRateHz = outRateHz;
    this.channels = channels;
    this.up = outRateHz / g;
    this.down = inRateHz / g;
    const minDelay = Resampler.minDelayInputSamples(inRateHz, outRateHz);
    this.delayInputSamples = options.delayInputSamples ?? minDelay;
    if (!Number.isInteger(this.delayInputSamples) || this.delayInputSamples < minDelay) {
      throw new RangeError(`delayInputSamples must be an integer ≥ ${minDelay}, got ${this.delayInputSamples}`);
    }
    this.offsetPhases = options.offsetPhases ?? 0;
    if (!Number.isInteger(this.offsetPhases) || this.offsetPhases <= -this.up) {
      throw new RangeError(`offsetPhases must be an integer > ${-this.up}, got ${this.offsetPhases}`);
    }
    this.taps = 2 * this.delayInputSamples + 1;
    this.kFirst = Math.max(0, this.delayInputSamples - minDelay - 1);
    this.kLast = Math.min(this.taps - 1, this.delayInputSamples + minDelay);
    this.table = Float64Array.from(this.buildTable(minDelay));
    this.workBuffers(this.taps);
  }

  /** Delay of the output relative to the input, in output samples (may be fractional). */
  get delayOutputSamples(): number {
    return (this.delayInputSamples * this.outRateHz) / this.inRateHz;
  }

  private buildTable(halfWidth: number): Float32Array {
    if (this.up === 1 && this.down === 1) {
      const delta = new Float32Array(this.taps);
      delta[this.delayInputSamples] = 1;
      return delta;
    }
    // Cutoff in cycles per input sample; the filter is as long as the quality needs (halfWidth), centred on D.
    const cutoff = 0.5 * ROLLOFF * Math.min(1, this.outRateHz / this.inRateHz);
    const norm = besselI0(KAISER_BETA);
    const table = new Float32Array(this.up * this.taps);
    for (let phase = 0; phase < this.up; phase++) {
      const frac = phase / this.up;
      let sum = 0;
      for (let k = 0; k < this.taps; k++) {
        const t = frac + k - this.delayInputSamples; // time from output instant to input sample, in input samples
        const r = t / halfWidth;
        let w = 0;
        if (Math.abs(r) < 1) {
          const sinc = t === 0 ? 1 : Math.sin(2 * Math.PI * cutoff * t) / (2 * Math.PI * cutoff * t);
          w = 2 * cutoff * sinc * (besselI0(KAISER_BETA * Math.sqrt(1 - r * r)) / norm);
        }
        table[phase * this.taps + k] = w;
        sum += w;
      }
      // Exact unity DC gain for every phase removes phase-dependent ripple.
      for (let k = 0; k < this.taps; k++) table[phase * this.taps + k]! /= sum;
    }
    return table;
  }

  push(chunk: Float32Array[]): Float32Array[] {
    const channels = this.channels;
    if (chunk.length !== channels) throw new RangeError(`expected ${channels} channels, got ${chunk.length}`);
    const length = chunk[0]?.length ?? 0;
    const up = this.up;
    const down = this.down;
    const taps = this.taps;
    const inputCount = this.inputCount;
    const offsetPhases = this.offsetPhases;
    const lastInput = inputCount + length - 1;
    // Output j needs input floor((j·down + P)/up) but is emitted once input ceil((j·down + P)/up) has arrived: at most
    // one sample late, and SeparationPipeline.end computes its padding from exactly this rule.
    const firstJ = this.outputCount;
    const endJ = Math.floor((lastInput * up - offsetPhases) / down) + 1;
    const count = Math.max(0, endJ - firstJ);
    // Per-channel work buffers: the previous `taps` input samples, then this chunk (contiguous, so the tap loop
    // needs no wrap-around).
    const works = this.workBuffers(taps + length);
    for (let c = 0; c < channels; c++) works[c]!.set(chunk[c]!, taps);
    const out: Float32Array[] = new Array<Float32Array>(channels);
    for (let c = 0; c < channels; c++) out[c] = new Float32Array(count);
    if (count > 0) {
      // Position of output firstJ: input sample `base` plus phase/up; stepped by down/up per output.
      // > −up, so base ≥ −1 and `at − k` stays inside the zero-initialised history.
      const pos = firstJ * down + offsetPhases;
      const base = Math.floor(pos / up);
      const phase = pos - base * up;
      const at = base - inputCount + taps; // index of input `base` in the work buffers
      if (channels === 2) this.filterStereo(works[0]!, works[1]!, out[0]!, out[1]!, count, at, phase);
      else for (let c = 0; c < channels; c++) this.filterMono(works[c]!, out[c]!, count, at, phase);
    }
    // Keep the last `taps` input samples as the next push's history.
    for (let c = 0; c < channels; c++) works[c]!.copyWithin(0, length, length + taps);
    this.inputCount = inputCount + length;
    this.outputCount = firstJ + count;
    return out;
  }

  /**
   * o[i] = Σ_{k = kFirst..kLast} table[row + k] · work[at − k], accumulated in float64 in ascending k, for the
   * outputs from (at, phase) onwards. Unrolled by four; the additions happen in the same order as a plain loop.
   */
  private filterMono(work: Float64Array, o: Float32Array, count: number, at: number, phase: number): void {
    const table = this.table;
    const taps = this.taps;
    const up = this.up;
    const kFirst = this.kFirst;
    const n = this.kLast - kFirst + 1;
    const n4 = n - (n % 4);
    const stepWhole = Math.floor(this.down / up);
    const stepPhase = this.down - stepWhole * up;
    const kEnd4 = kFirst + n4;
    const kLast = this.kLast;
    for (let i = 0; i < count; i++) {
      const row = phase * taps;
      let acc = 0;
      let k = kFirst;
      for (; k < kEnd4; k += 4) {
        acc += table[row + k]! * work[at - k]!;
        acc += table[row + k + 1]! * work[at - k - 1]!;
        acc += table[row + k + 2]! * work[at - k - 2]!;
        acc += table[row + k + 3]! * work[at - k - 3]!;
      }
      for (; k <= kLast; k++) acc += table[row + k]! * work[at - k]!;
      o[i] = acc;
      at += stepWhole;
      phase += stepPhase;
      if (phase >= up) {
        phase -= up;
        at++;
      }
    }
  }

  /** filterMono for two channels in one pass over the taps (planar stereo shares the phase and tap index). */
  private filterStereo(
    w0: Float64Array,
    w1: Float64Array,
    o0: Float32Array,
    o1: Float32Array,
    count: number,
    at: number,
    phase: number,
  ): void {
    const table = this.table;
    const taps = this.taps;
    const up = this.up;
    const kFirst = this.kFirst;
    const n = this.kLast - kFirst + 1;
    const n4 = n - (n % 4);
    const stepWhole = Math.floor(this.down / up);
    const stepPhase = this.down - stepWhole * up;
    const kEnd4 = kFirst + n4;
    const kLast = this.kLast;
    for (let i = 0; i < count; i++) {
      const row = phase * taps;
      let acc0 = 0;
      let acc1 = 0;
      let k = kFirst;
      for (; k < kEnd4; k += 4) {
        const h0 = table[row + k]!;
        const h1 = table[row + k + 1]!;
        const h2 = table[row + k + 2]!;
        const h3 = table[row + k + 3]!;
        acc0 += h0 * w0[at - k]!;
        acc1 += h0 * w1[at - k]!;
        acc0 += h1 * w0[at - k - 1]!;
        acc1 += h1 * w1[at - k - 1]!;
        acc0 += h2 * w0[at - k - 2]!;
        acc1 += h2 * w1[at - k - 2]!;
        acc0 += h3 * w0[at - k - 3]!;
        acc1 += h3 * w1[at - k - 3]!;
      }
      for (; k <= kLast; k++) {
        const h = table[row + k]!;
        acc0 += h * w0[at - k]!;
        acc1 += h * w1[at - k]!;
      }
      o0[i] = acc0;
      o1[i] = acc1;
      at += stepWhole;
      phase += stepPhase;
      if (phase >= up) {
        phase -= up;
        at++;
      }
    }
  }

  /** Per-channel work buffers of at least `length` samples; growing one keeps its first `taps` (the history). */
  private workBuffers(length: number): Float64Array[] {
    const works = this.works;
    if (works[0] !== undefined && works[0].length >= length) return works;
    const size = Math.max(length, 2 * (works[0]?.length ?? 0));
    for (let c = 0; c < this.channels; c++) {
      const grown = new Float64Array(size);
      const old = works[c];
      if (old !== undefined) grown.set(old.subarray(0, this.taps));
      works[c] = grown;
    }
    return works;
  }

  /** Pushes the zeros that bring every input sample's delayed image out. */
  flush(): Float32Array[] {
    const zeros = Array.from({ length: this.channels }, () => new Float32Array(this.delayInputSamples + 1));
    return this.push(zeros);
  }
}
