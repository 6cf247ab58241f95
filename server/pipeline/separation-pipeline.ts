/**
 * One stream's separation pipeline, synchronous and I/O-free:
 *
 *   input (client rate, 1–2 ch) → dual-mono upmix → Resampler → StftAnalyzer → [model step] → mask →
 *   OlaSynthesizer (vocals) ┬→ Resampler (4 ch: vocals L/R, accompaniment L/R) → downmix → OutputAligner
 *   delay line (mixture) − vocals ┘  (= overlap-add of the complementary mask (1 − m)·X, see mask.ts)
 *
 * The model step is not called from here: frames wait in a queue, the owner reads `nextFeatures()`, runs the model
 * however it likes (batched with other streams, or an identity mask in tests) and hands the result to
 * `completeFrame()`. Output is latency-compensated: output offset t aligns with input time t, and after `end()` the
 * total output length is exactly ceil(inputSamples · outRate / inRate), inputSamples counted over the whole stream.
 *
 * A stream is a sequence of segments (a `flush` ends one); each segment starts with fresh DSP stages while output
 * offsets keep counting. Lengths are cumulative: a segment ends its output at ceil(totalInput · outRate / inRate), not
 * at its own rounded-up length, so flushes never add samples (per-segment rounding added up to one per flush).
 */
import { Resampler } from '../dsp/resampler.ts';
import { OlaSynthesizer, StftAnalyzer, stftLatencySamples, type StftConfig, type StftFrame } from '../dsp/stft.ts';
import { magnitudeFeatures } from './mask.ts';
import { OutputAligner } from './output-aligner.ts';
import { SampleFifo } from './sample-fifo.ts';
import { VocalGate, type VocalGateSettings } from './vocal-gate.ts';
import { outputLengthFor, planRates, segmentPhase, type RatePlan, type SegmentPhase } from './rate-plan.ts';

function ceilDiv(numerator: number, denominator: number): number {
  return Math.floor((numerator + denominator - 1) / denominator);
}

export interface PipelineModelSpec {
  sampleRateHz: number;
  stft: StftConfig;
  /** Model channels (2 for every model the manifest admits). */
  channels: number;
  bins: number;
  /** Gate the vocals by the model's VAD (absent: the mask as the model gives it). */
  vocalGate?: VocalGateSettings | undefined;
}

export interface PipelineOptions {
  model: PipelineModelSpec;
  inputRateHz: number;
  inputChannels: number;
  outputRateHz: number;
}

export interface SeparatedBlock {
  /** Output-rate offset of the first sample (may be a zero-length block during the initial latency). */
  sampleOffset: number;
  vocals: Float32Array[];
  accompaniment: Float32Array[];
  /** This frame's VAD probability and the output offset of its newest hop; undefined for flush-padding frames. */
  vad: { prob: number; sampleOffset: number } | undefined;
}

interface SegmentStages {
  inResampler: Resampler | undefined;
  analyzer: StftAnalyzer;
  vocalsOla: OlaSynthesizer;
  /** Model-rate mixture delayed by nFft − hop: the samples the next overlap-add hop lines up with. */
  mixtureDelay: SampleFifo;
  outResampler: Resampler | undefined;
  aligner: OutputAligner;
  gate: VocalGate | undefined;
  /** Where this segment's output grid sits relative to its first input sample (see `segmentPhase`). */
  phase: SegmentPhase;
}

export class SeparationPipeline {
  readonly plan: RatePlan;
  readonly inputChannels: number;
  /** Output-rate samples between an input sample and its output (an integer). */
  readonly latencySamples: number;
  /** One model hop in output-rate samples (fractional when rates differ). */
  readonly vadHopSamples: number;
  private readonly model: PipelineModelSpec;
  private stages: SegmentStages;
  private readonly pending: StftFrame[] = [];
  private readonly features: Float32Array;
  private readonly gatedMask: Float32Array;
  private segmentInput = 0;
  private segmentFramesDone = 0;
  private segmentEnded = false;
  private segmentOutputLength = Infinity;
  private segmentVadFrames = Infinity;
  private baseInput = 0;
  private baseOutput = 0;
  private totalFrames = 0;

  constructor(options: PipelineOptions) {
    const { model } = options;
    if (options.inputChannels !== 1 && options.inputChannels !== 2) {
      throw new RangeError(`inputChannels must be 1 or 2, got ${options.inputChannels}`);
    }
    if (model.channels !== 2) throw new RangeError(`model channels must be 2, got ${model.channels}`);
    this.model = model;
    this.inputChannels = options.inputChannels;
    this.plan = planRates(options.inputRateHz, model.sampleRateHz, options.outputRateHz, stftLatencySamples(model.stft));
    this.latencySamples = this.plan.latencyOutputSamples;
    this.vadHopSamples = (model.stft.hopSamples * options.outputRateHz) / model.sampleRateHz;
    this.features = new Float32Array(model.channels * model.bins);
    this.gatedMask = new Float32Array(model.channels * model.bins);
    this.stages = this.createStages(0);
  }

  /** Fresh stages for a segment whose first input sample is stream input `inputOffsetSamples`. */
  private createStages(inputOffsetSamples: number): SegmentStages {
    const { plan, model } = this;
    const phase = segmentPhase(plan, inputOffsetSamples);
    return {
      inResampler:
        plan.inputRateHz === plan.modelRateHz
          ? undefined
          : new Resampler(plan.inputRateHz, plan.modelRateHz, model.channels, {
              delayInputSamples: plan.inputDelaySamples,
              offsetPhases: phase.inputOffsetPhases,
            }),
      analyzer: new StftAnalyzer(model.stft, model.channels),
      vocalsOla: new OlaSynthesizer(model.stft, model.channels),
      mixtureDelay: new SampleFifo(model.channels, stftLatencySamples(model.stft)),
      outResampler:
        plan.outputRateHz === plan.modelRateHz
          ? undefined
          : new Resampler(plan.modelRateHz, plan.outputRateHz, 2 * model.channels, {
              delayInputSamples: plan.outputDelaySamples,
              offsetPhases: phase.outputOffsetPhases,
            }),
      aligner: new OutputAligner(plan.latencyOutputSamples),
      gate: model.vocalGate ? new VocalGate(model.vocalGate, (1000 * model.stft.hopSamples) / model.sampleRateHz) : undefined,
      phase,
    };
  }

  /** Input samples (per channel, input rate) received over all segments. */
  get inputSamples(): number {
    return this.baseInput + this.segmentInput;
  }

  /** Output samples (per channel, output rate) produced over all segments = offset of the next output sample. */
  get outputSamples(): number {
    return this.baseOutput + this.stages.aligner.emittedSamples;
  }

  get framesPending(): number {
    return this.pending.length;
  }

  get framesProcessed(): number {
    return this.totalFrames;
  }

  get ended(): boolean {
    return this.segmentEnded;
  }

  /** The current segment has ended and every one of its output samples has been produced. */
  get segmentComplete(): boolean {
    return this.segmentEnded && this.pending.length === 0 && this.stages.aligner.complete;
  }

  /** Model samples the analyzer still needs before it emits its next frame. */
  get samplesToNextFrame(): number {
    return this.model.stft.hopSamples - this.stages.analyzer.pendingSamples;
  }

  /** Planar input at the client rate; queues any frames it completes. */
  push(input: Float32Array[]): void {
    if (this.segmentEnded) throw new Error('push after end of segment');
    if (input.length !== this.inputChannels) throw new RangeError(`expected ${this.inputChannels} channels, got ${input.length}`);
    const length = input[0]?.length ?? 0;
    if (length === 0) return;
    this.segmentInput += length;
    this.analyse(this.inputChannels === 1 ? [input[0]!, input[0]!] : input);
  }

  private analyse(modelChannels: Float32Array[]): void {
    const atModelRate = this.stages.inResampler ? this.stages.inResampler.push(modelChannels) : modelChannels;
    this.stages.mixtureDelay.push(atModelRate);
    for (const frame of this.stages.analyzer.push(atModelRate)) this.pending.push(frame);
  }

  /** Magnitude features of the oldest queued frame, [channels, bins] flattened (a buffer reused per call). */
  nextFeatures(): Float32Array {
    const frame = this.pending[0];
    if (!frame) throw new Error('no frame pending');
    return magnitudeFeatures(frame, this.features);
  }

  /** Applies the model's output to the oldest queued frame and returns the aligned output it releases. */
  completeFrame(mask: Float32Array, vadProb: number): SeparatedBlock {
    const frame = this.pending.shift();
    if (!frame) throw new Error('no frame pending');
    const st = this.stages;
    const hop = this.model.stft.hopSamples;
    // vocals = mask · X (mask.ts applyMask), applied inside the overlap-add pass; both channels in one allocation
    const vocalsBuffer = new Float32Array(this.model.channels * hop);
    const v = Array.from({ length: this.model.channels }, (_, c) => vocalsBuffer.subarray(c * hop, (c + 1) * hop));
    st.vocalsOla.pushMasked(frame, this.gate(mask, vadProb), v);
    st.analyzer.recycle(frame);
    const a = st.mixtureDelay.shift(hop);
    for (let c = 0; c < a.length; c++) {
      const ac = a[c]!;
      const vc = v[c]!;
      for (let i = 0; i < ac.length; i++) ac[i] = ac[i]! - vc[i]!;
    }
    const four = st.outResampler ? st.outResampler.push([...v, ...a]) : [...v, ...a];
    const sampleOffset = this.outputSamples;
    const aligned = st.aligner.align(four);
    const k = this.segmentFramesDone++;
    this.totalFrames++;
    const vocals = this.downmix(aligned.slice(0, 2));
    const accompaniment = this.downmix(aligned.slice(2, 4));
    const vad = k < this.segmentVadFrames ? { prob: vadProb, sampleOffset: this.vadOffset(k) } : undefined;
    return { sampleOffset, vocals, accompaniment, vad };
  }

  /** The model's mask scaled by the vocal gate's gain for this hop (a copy: the model's output is left as it is). */
  private gate(mask: Float32Array, vadProb: number): Float32Array {
    const gain = this.stages.gate?.next(vadProb) ?? 1;
    if (gain === 1) return mask;
    const out = this.gatedMask;
    for (let i = 0; i < mask.length; i++) out[i] = gain * mask[i]!;
    return out;
  }

  /**
   * Output offset of frame k's newest hop (model samples [k·hop, (k+1)·hop) of the segment). Slightly negative for
   * the first hop when an input resampler's delay puts that hop partly before the stream start.
   */
  private vadOffset(k: number): number {
    const { inputRateHz: ri, modelRateHz: rm, outputRateHz: ro, inputDelaySamples: da } = this.plan;
    const hop = this.model.stft.hopSamples;
    const { leadOutputSamples, inputOffsetPhases } = this.stages.phase;
    // The segment's first input sample sits `lead` before baseOutput; its model grid is q input phases later still.
    const inResampler = this.stages.inResampler;
    const gridShiftInput = inResampler ? inputOffsetPhases / inResampler.up : 0;
    const segmentStart = this.baseOutput - leadOutputSamples;
    return Math.round(segmentStart + ((k * hop * ri - da * rm) * ro) / (rm * ri) + (gridShiftInput * ro) / ri);
  }

  private downmix(stereo: Float32Array[]): Float32Array[] {
    if (this.inputChannels === 2) return stereo;
    const [l, r] = stereo as [Float32Array, Float32Array];
    const mono = new Float32Array(l.length);
    for (let i = 0; i < l.length; i++) mono[i] = 0.5 * (l[i]! + r[i]!);
    return [mono];
  }

  /**
   * Ends the current segment: pushes exactly the zeros needed for every input sample to reach the output (the
   * frames they complete are queued like any other) and caps the output at the segment's length. That length is
   * cumulative — the stream's total so far, ceil(inputSamples · outRate / inRate), minus what earlier segments
   * produced — so it may be one sample shorter than the segment alone would round to, or zero.
   */
  end(): void {
    if (this.segmentEnded) return;
    this.segmentEnded = true;
    const plan = this.plan;
    const outLength = outputLengthFor(plan, this.inputSamples) - this.baseOutput;
    this.segmentOutputLength = outLength;
    const hop = this.model.stft.hopSamples;
    // Frames whose newest hop lies wholly inside the input (model-rate length) carry VAD the client can use.
    const modelLength = Math.ceil((this.segmentInput * plan.modelRateHz) / plan.inputRateHz - 1e-9);
    this.segmentVadFrames = Math.floor(modelLength / hop);
    this.stages.aligner.end(outLength);
    if (outLength === 0) return;
    // A resampler emits output j once input (j·down + offsetPhases)/up (rounded up) has arrived: walk back from the
    // last output sample needed to the last input sample needed.
    const { inResampler, outResampler } = this.stages;
    const lastIndex = outLength - 1 + plan.latencyOutputSamples;
    const olaCount = outResampler
      ? Math.max(0, ceilDiv(lastIndex * outResampler.down + outResampler.offsetPhases, outResampler.up) + 1)
      : lastIndex + 1;
    const frames = Math.ceil(olaCount / hop);
    const modelSamples = frames * hop;
    const inputNeeded =
      inResampler && modelSamples > 0
        ? ceilDiv((modelSamples - 1) * inResampler.down + inResampler.offsetPhases, inResampler.up) + 1
        : modelSamples;
    const padding = Math.max(0, inputNeeded - this.segmentInput);
    if (padding > 0) this.analyse(Array.from({ length: this.model.channels }, () => new Float32Array(padding)));
  }

  /** Output length of the ended segment (Infinity while it is open). */
  get segmentOutputSamples(): number {
    return this.segmentOutputLength;
  }

  /** Starts a new segment with fresh stages; offsets continue. Only after `segmentComplete`. */
  startNextSegment(): void {
    if (!this.segmentComplete) throw new Error('segment not complete');
    this.baseInput += this.segmentInput;
    this.baseOutput += this.stages.aligner.emittedSamples;
    this.segmentInput = 0;
    this.segmentFramesDone = 0;
    this.segmentEnded = false;
    this.segmentOutputLength = Infinity;
    this.segmentVadFrames = Infinity;
    this.stages = this.createStages(this.baseInput);
  }
}
