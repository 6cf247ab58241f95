/**
 * The engine side of one stream: input queue → pipeline → batched model steps → output spans, with the per-hop due
 * times latency is measured against. It knows nothing about sessions, lifecycles or wire formats: it takes planar
 * audio and markers and reports typed events (engine-protocol.ts); the I/O thread decides what they mean.
 */
import { toLivestemError } from '../errors.ts';
import type { FrameModelStream } from '../inference/frame-model.ts';
import type { ModelManifest } from '../inference/model-manifest.ts';
import { OutputFramer } from '../pipeline/output-framer.ts';
import { SeparationPipeline } from '../pipeline/separation-pipeline.ts';
import { flagSettingsOf, VadSmoother } from '../pipeline/vad-smoother.ts';
import type { EngineEvent, EngineProgress, EngineStreamConfig } from './engine-protocol.ts';
import { InputQueue } from './input-queue.ts';

export interface StreamEngineHooks {
  emit(event: EngineEvent): void;
  /** Telemetry: frames stepped, and output samples that were not finite (sent as 0). */
  countFrames(frames: number): void;
  countNonFinite(samples: number): void;
  /** Input arrays the stream is done with (their samples are in the pipeline, or were dropped): reusable. */
  recycle?(arrays: Float32Array[]): void;
  /** The I/O thread's clock as this thread reads it (ms), to stamp when input was taken in and output emitted. */
  now(): number;
}

export class StreamEngine {
  readonly pipeline: SeparationPipeline;
  private readonly queue = new InputQueue();
  private readonly framer: OutputFramer;
  private readonly vad: VadSmoother | undefined;
  private readonly frameDue: number[] = [];
  /** Arrival of the input message that completed each pending frame (server-added latency starts there). */
  private readonly frameArrival: number[] = [];
  /** When the engine took in that input message (the per-stage breakdown of server-added latency). */
  private readonly frameHandled: number[] = [];
  private pushedInput = 0;
  private droppedInput = 0;
  private firstAudioMs: number | undefined;
  private lastDueMs = 0;
  private lastArrivalMs = 0;
  private lastHandledMs = 0;
  private aboveLowWater = false;
  private pumping = false;
  private stopped = false;
  private pumpPromise: Promise<void> = Promise.resolve();

  constructor(
    readonly streamId: number,
    private readonly config: EngineStreamConfig,
    private readonly manifest: ModelManifest,
    private readonly model: FrameModelStream,
    private readonly hooks: StreamEngineHooks,
  ) {
    this.pipeline = new SeparationPipeline({
      model: manifest,
      inputRateHz: config.inputSampleRateHz,
      inputChannels: config.inputChannels,
      outputRateHz: config.outputSampleRateHz,
    });
    const hopMs = (manifest.stft.hopSamples / manifest.sampleRateHz) * 1000;
    this.vad = config.vad ? new VadSmoother({ ...flagSettingsOf(manifest), hopMs }) : undefined;
    this.framer = new OutputFramer(config.inputChannels, this.vad, this.pipeline.vadHopSamples);
  }

  get progress(): EngineProgress {
    const p = this.pipeline;
    return { inputSamples: p.inputSamples, droppedSamples: this.droppedInput, outputSamples: p.outputSamples, framesProcessed: p.framesProcessed };
  }

  pushAudio(samples: Float32Array[], arrivalMs: number): void {
    this.firstAudioMs ??= arrivalMs;
    this.queue.pushAudio(samples, arrivalMs, this.hooks.now());
    if (this.queue.bufferedSamples >= this.config.lowWaterInputSamples) this.aboveLowWater = true;
    this.kick();
  }

  pushMarker(marker: 'flush' | 'end', arrivalMs: number): void {
    this.queue.pushMarker(marker, arrivalMs, this.hooks.now());
    this.kick();
  }

  /** Drops the oldest queued input down to `keepSamples`; output keeps counting contiguously. */
  trimInput(keepSamples: number): void {
    const inputSampleOffset = this.pipeline.inputSamples + this.droppedInput;
    const samples = this.queue.dropOldestAudio(Math.max(0, this.queue.bufferedSamples - keepSamples));
    this.recycleSpent();
    this.droppedInput += samples;
    if (samples > 0) this.hooks.emit({ type: 'input-dropped', streamId: this.streamId, samples, inputSampleOffset, progress: this.progress });
  }

  /** Resolves when the current processing loop has run out of work (benchmarks, tests). */
  idle(): Promise<void> {
    return this.pumpPromise;
  }

  /** Stops processing; an in-flight model step still settles. Resolves when the loop has exited. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.model.close();
    await this.pumpPromise;
  }

  private kick(): void {
    if (this.pumping || this.stopped) return;
    this.pumping = true;
    this.pumpPromise = this.pump().catch((err: unknown) => {
      this.pumping = false;
      this.stopped = true;
      const error = toLivestemError(err);
      this.hooks.emit({ type: 'failed', streamId: this.streamId, code: error.code, message: error.message });
    });
  }

  /** Runs until no frame can be made; the flag is cleared synchronously with that decision so no input strands. */
  private async pump(): Promise<void> {
    const { pipeline, queue, framer } = this;
    for (;;) {
      if (this.stopped) break;
      if (pipeline.framesPending === 0) this.feed();
      if (pipeline.framesPending > 0) {
        const out = await this.model.step(pipeline.nextFeatures());
        if (this.stopped) break;
        const block = pipeline.completeFrame(out.mask, out.vadProb);
        const dueMs = this.frameDue.shift() ?? this.lastDueMs;
        this.lastDueMs = dueMs;
        const arrivalMs = this.frameArrival.shift() ?? this.lastArrivalMs;
        this.lastArrivalMs = arrivalMs;
        const handledMs = this.frameHandled.shift() ?? this.lastHandledMs;
        this.lastHandledMs = handledMs;
        framer.add(block, dueMs, arrivalMs, handledMs);
        this.hooks.countFrames(1);
        const moreReady = pipeline.framesPending > 0 || queue.peek()?.kind === 'audio';
        if (!moreReady || framer.pendingSamples >= this.config.maxFrameSamples) this.emit();
        continue;
      }
      this.emit();
      const head = queue.peek();
      if (head?.kind !== 'marker') break;
      if (!pipeline.ended) {
        const before = pipeline.framesPending;
        pipeline.end();
        // Padding frames are due when the marker that released them arrived (or when the input before it was).
        const dueMs = Math.max(head.arrivalMs, this.lastDueMs);
        for (let i = before; i < pipeline.framesPending; i++) {
          this.frameDue.push(dueMs);
          this.frameArrival.push(head.arrivalMs);
          this.frameHandled.push(head.handledMs);
        }
        continue;
      }
      if (!pipeline.segmentComplete) throw new Error('segment ended without producing all of its output');
      queue.shift();
      if (head.marker === 'end') {
        this.pumping = false;
        this.hooks.emit({ type: 'drained', streamId: this.streamId, progress: this.progress });
        return;
      }
      this.hooks.emit({ type: 'flushed', streamId: this.streamId, sampleOffset: pipeline.outputSamples, progress: this.progress });
      pipeline.startNextSegment();
      this.model.resetState();
      this.vad?.reset();
    }
    this.pumping = false;
  }

  /** Moves queued audio into the pipeline until it has a frame ready (or the queue has none / reaches a marker). */
  private feed(): void {
    const { pipeline, queue, config } = this;
    const ratio = config.inputSampleRateHz / this.manifest.sampleRateHz;
    while (pipeline.framesPending === 0) {
      const piece = queue.takeAudio(Math.ceil(pipeline.samplesToNextFrame * ratio) + 1);
      if (!piece) break;
      const before = pipeline.framesPending;
      pipeline.push(piece.samples);
      this.recycleSpent();
      this.pushedInput += piece.samples[0]!.length;
      // A hop is due when its input arrived and, for a client ahead of real time, when real time reaches it.
      const realTimeMs = this.firstAudioMs! + (this.pushedInput / config.inputSampleRateHz) * 1000;
      for (let i = before; i < pipeline.framesPending; i++) {
        this.frameDue.push(Math.max(piece.arrivalMs, realTimeMs));
        this.frameArrival.push(piece.arrivalMs);
        this.frameHandled.push(piece.handledMs);
      }
    }
    if (this.aboveLowWater && queue.bufferedSamples < config.lowWaterInputSamples) {
      this.aboveLowWater = false;
      this.hooks.emit({ type: 'input-low-water', streamId: this.streamId, progress: this.progress });
    }
  }

  /** Every pipeline stage copies its input, so an item's arrays are free once its last piece was pushed. */
  private recycleSpent(): void {
    const spent = this.queue.takeSpent();
    if (spent.length > 0 && this.hooks.recycle) this.hooks.recycle(spent.flat());
  }

  private emit(): void {
    const out = this.framer.take();
    if (!out) return;
    let bad = 0;
    for (const channels of [out.vocals, out.accompaniment]) bad += zeroNonFinite(channels);
    if (bad > 0) this.hooks.countNonFinite(bad);
    // Received = emitted until the I/O side of a worker boundary restamps it (in-thread there is no hop between).
    const emittedMs = this.hooks.now();
    this.hooks.emit({ type: 'output', streamId: this.streamId, output: { ...out, emittedMs, receivedMs: emittedMs }, progress: this.progress });
  }
}

/** Output is always finite: input is clamped, so a non-finite sample here is a model bug — counted, sent as 0. */
function zeroNonFinite(channels: Float32Array[]): number {
  let bad = 0;
  for (const ch of channels) {
    for (let i = 0; i < ch.length; i++) {
      if (!Number.isFinite(ch[i]!)) {
        ch[i] = 0;
        bad++;
      }
    }
  }
  return bad;
}
