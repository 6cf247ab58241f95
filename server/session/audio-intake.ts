/**
 * What happens to one audio message of a streaming session: decoded (wire bytes) or taken as is (a transport that
 * decoded it), clamped, bounded against the input buffer and handed to the engine — or refused with the catalog
 * error, or ignored after the shutdown flush. Every sample that is not processed as sent is counted here (the
 * ledger's `adjustments`, reported in stats/done, and the metric). The session decides what the outcome means for
 * its lifecycle and its transport.
 */
import type { ErrorCode } from '../errors.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { PcmDecodeError, bytesPerSample, decodePcm, pcmFrames } from '../../client-sdk/src/protocol/index.ts';
import { INPUT_SAMPLE_LIMIT, clampSamples } from './input-clamp.ts';
import type { SessionStream } from './session-stream.ts';

export interface IntakeContext {
  maxBufferedInputMs: number;
  /** False for transports that cannot slow the client down (RTP): overflow drops the oldest input instead. */
  inputBackpressure: boolean;
  /** The server already flushed this session for shutdown: audio is counted and ignored. */
  flushedForShutdown: boolean;
  nowMs: number;
  metrics: Metrics;
  /** Where decoded audio goes (the engine's reusable input buffers). */
  decodeInto(channels: number, frames: number): Float32Array[];
}

export type IntakeOutcome =
  | { kind: 'queued'; pauseInput: boolean }
  | { kind: 'ignored' }
  | { kind: 'refused'; code: ErrorCode; message: string };

/** Wire bytes in the negotiated format, or planar samples a transport decoded (WebRTC: Opus, always finite). */
export type AudioInput = { bytes: Uint8Array } | { samples: Float32Array[] };

function sampleFrames(input: AudioInput, s: SessionStream): number {
  if ('samples' in input) return input.samples[0]?.length ?? 0;
  return Math.floor(input.bytes.byteLength / (bytesPerSample(s.audio.inputFormat) * s.audio.inputChannels));
}

export function takeAudio(s: SessionStream, input: AudioInput, ctx: IntakeContext): IntakeOutcome {
  const { audio, ledger } = s;
  const { adjustments } = ledger;
  if (ctx.flushedForShutdown) {
    const samples = sampleFrames(input, s);
    adjustments.inputIgnoredSamples += samples;
    ctx.metrics.inputAdjustedSamples.inc({ reason: 'ignored-after-shutdown' }, samples);
    return { kind: 'ignored' };
  }
  let samples: Float32Array[];
  if ('samples' in input) {
    if (input.samples.length !== audio.inputChannels) {
      return { kind: 'refused', code: 'LIVESTEM_ERR_INTERNAL', message: `transport delivered ${input.samples.length} channels, expected ${audio.inputChannels}` };
    }
    samples = input.samples;
  } else {
    try {
      const frames = pcmFrames(input.bytes, audio.inputFormat, audio.inputChannels);
      samples = decodePcm(input.bytes, audio.inputFormat, audio.inputChannels, ctx.decodeInto(audio.inputChannels, frames));
    } catch (err) {
      const nonFinite = err instanceof PcmDecodeError && err.reason === 'non-finite';
      return { kind: 'refused', code: nonFinite ? 'LIVESTEM_ERR_NON_FINITE_SAMPLES' : 'LIVESTEM_ERR_MISALIGNED_FRAME', message: (err as Error).message };
    }
  }
  if (audio.inputFormat === 'f32le') {
    const clamped = clampSamples(samples, INPUT_SAMPLE_LIMIT);
    if (clamped > 0) {
      adjustments.inputClampedSamples += clamped;
      ctx.metrics.inputAdjustedSamples.inc({ reason: 'clamped' }, clamped);
    }
  }
  const length = samples[0]!.length;
  ctx.metrics.inputMessages.inc();
  ctx.metrics.inputSeconds.inc(length / audio.inputSampleRateHz);
  const maxMs = ctx.maxBufferedInputMs;
  // Only a message arriving while the buffer is already full is refused: a single message may hold any duration the
  // byte limit allows, and TCP backpressure (reading pauses at half) keeps a well-behaved client below the limit.
  if (ctx.inputBackpressure && ledger.bufferedInputMs >= maxMs) {
    return { kind: 'refused', code: 'LIVESTEM_ERR_INPUT_OVERRUN', message: `${ledger.bufferedInputMs.toFixed(0)} ms of audio already waiting, limit ${maxMs} ms: send at most real time` };
  }
  if (length === 0) return { kind: 'queued', pauseInput: false };
  ledger.sent(length);
  s.engine?.pushAudio(samples, ctx.nowMs);
  if (!ctx.inputBackpressure) {
    // A client that cannot be slowed down and an engine that fell behind: the engine drops the oldest input and
    // reports what it dropped (the session tells the client).
    if (ledger.bufferedInputMs > maxMs) {
      const keepSamples = Math.floor(((maxMs / 2) / 1000) * audio.inputSampleRateHz);
      ledger.trimming(keepSamples);
      s.engine?.trimInput(keepSamples);
    }
    return { kind: 'queued', pauseInput: false };
  }
  return { kind: 'queued', pauseInput: ledger.bufferedInputMs > maxMs / 2 };
}
