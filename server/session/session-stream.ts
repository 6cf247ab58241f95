/**
 * A session's stream as the I/O thread holds it: the engine stream it feeds, the input ledger, which kinds the client
 * receives, the output retained for resume, the per-hop latency measured at send, and the wire encoding state
 * (format, framing, sequence numbers). Everything a `ready`, `stats` or `done` reports is read from here.
 */
import type { Engine, EngineListener, EngineStream } from '../engine/engine.ts';
import type { EngineOutput } from '../engine/engine-protocol.ts';
import type { ModelManifest } from '../inference/model-manifest.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { streamTiming, type StreamTiming } from '../pipeline/stream-timing.ts';
import { LivestemError } from '../errors.ts';
import { checkStartAudio, type StreamAudioConfig, type UncheckedStartMessage } from '../protocol/messages.ts';
import type { Connection, DeliveredOutput, OutputWire } from './connection.ts';
import { HopLatency } from './hop-latency.ts';
import { InputLedger } from './input-ledger.ts';
import { OutputSelection, type OutputConfig } from './output-selection.ts';
import { ReplayBuffer } from './replay-buffer.ts';
import type { SessionHost } from './session-host.ts';

export interface SessionStreamOptions {
  audio: StreamAudioConfig;
  manifest: ModelManifest;
  retainOutputMs: number;
  lateFrameMs: number;
  metrics: Metrics;
}

export class SessionStream {
  readonly audio: StreamAudioConfig;
  readonly manifest: ModelManifest;
  readonly timing: StreamTiming;
  readonly ledger: InputLedger;
  readonly replay: ReplayBuffer;
  readonly latency: HopLatency;
  readonly wire: OutputWire;
  private readonly selection: OutputSelection;
  private sequence = 0;
  private deliveredEnd = 0;
  private engineStream: EngineStream | undefined;
  private stopped: Promise<void> | undefined;

  /** The stream a schema-valid `start` asks for; throws the catalog error for bad audio fields or an unknown model. */
  static forStart(message: UncheckedStartMessage, host: Pick<SessionHost, 'model' | 'settings' | 'metrics'>): SessionStream {
    const audio = checkStartAudio(message);
    const manifest = host.model(message.model);
    if (!manifest) throw new LivestemError('LIVESTEM_ERR_UNKNOWN_MODEL', `model "${message.model}" is not loaded`);
    const { limits, lateFrameMs } = host.settings;
    return new SessionStream({
      audio,
      manifest,
      retainOutputMs: limits.resumeGraceMs > 0 ? limits.resumeBufferMs : 0,
      lateFrameMs,
      metrics: host.metrics,
    });
  }

  constructor(options: SessionStreamOptions) {
    const { audio, manifest } = options;
    this.audio = audio;
    this.manifest = manifest;
    this.timing = streamTiming(manifest, audio.inputSampleRateHz, audio.outputSampleRateHz);
    this.ledger = new InputLedger(audio.inputSampleRateHz);
    this.replay = new ReplayBuffer(Math.ceil((options.retainOutputMs / 1000) * audio.outputSampleRateHz));
    this.latency = new HopLatency(options.lateFrameMs, options.metrics);
    this.selection = new OutputSelection({ outputs: audio.outputs, vocalGain: audio.vocalGain });
    this.wire = {
      format: audio.outputFormat,
      sampleRateHz: audio.outputSampleRateHz,
      channels: audio.inputChannels,
      framing: audio.outputFraming,
      nextSequence: () => this.sequence++,
    };
  }

  /** Opens the stream on the engine; its events go to `listener` (possibly before this returns, in-thread). */
  openEngine(engine: Engine, settings: { maxFrameSamples: number; lowWaterInputMs: number }, listener: EngineListener): void {
    const { audio } = this;
    this.engineStream = engine.open(
      {
        model: this.manifest.name,
        inputSampleRateHz: audio.inputSampleRateHz,
        inputChannels: audio.inputChannels,
        outputSampleRateHz: audio.outputSampleRateHz,
        vad: audio.vad,
        maxFrameSamples: settings.maxFrameSamples,
        lowWaterInputSamples: Math.floor((settings.lowWaterInputMs / 1000) * audio.inputSampleRateHz),
      },
      listener,
    );
  }

  get engine(): EngineStream | undefined {
    return this.stopped ? undefined : this.engineStream;
  }

  get outputConfig(): OutputConfig {
    return this.selection.config;
  }

  /** Output samples handed to the client side (sent or, while detached, retained). */
  get outputSamplesEmitted(): number {
    return this.deliveredEnd;
  }

  /** Applies from the first output sample not yet delivered; returns that offset. */
  configure(change: { outputs?: OutputConfig['outputs'] | undefined; vocalGain?: number | undefined }): number {
    this.selection.configure(change);
    return this.deliveredEnd;
  }

  /**
   * The kinds the client asked for: retained for resume, written to `connection` when there is one (detached: only
   * retained), and the span's hops timed at that moment.
   */
  deliver(output: EngineOutput, connection: Connection | undefined, now: () => number): DeliveredOutput {
    const delivered = this.selection.select(output);
    this.deliveredEnd = output.sampleOffset + output.sampleCount;
    this.replay.add(delivered);
    connection?.sendOutput(delivered, this.wire);
    this.latency.account(output, now());
    return delivered;
  }

  /** Stops the engine stream (idempotent); resolves when its processing has stopped. */
  stop(): Promise<void> {
    return (this.stopped ??= this.engineStream?.close() ?? Promise.resolve());
  }
}
