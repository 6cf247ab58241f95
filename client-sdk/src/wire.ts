/**
 * The livestem wire protocol as the SDK sees it (docs/protocol.md, version 1): server message types, the binary
 * output frame decoder and the PCM encoder for input. Declared here rather than imported so the SDK has no runtime
 * dependency on server code; `test/sdk-resume.test.ts` checks at compile time that they match the server's
 * definitions (server/protocol/messages.ts).
 */
import type { ServerErrorCode } from './errors.ts';

export const PROTOCOL_VERSION = 1;
export type OutputKind = 'vocals' | 'accompaniment' | 'karaoke';
export type SampleFormat = 's16le' | 'f32le';
export const OUTPUT_KINDS: readonly OutputKind[] = ['vocals', 'accompaniment', 'karaoke'];

/** This session's bounds (docs/protocol.md §7). A server may add fields within a protocol version. */
export interface SessionLimits {
  maxMessageBytes: number;
  /** Audio received but not yet processed; reading pauses at half of it (TCP backpressure). */
  maxBufferedInputMs: number;
  idleTimeoutMs: number;
  /** A new connection that sends no start/resume within this gets IDLE_TIMEOUT. */
  startTimeoutMs: number;
  /** How long a dropped session waits for `resume` (0: resume is off on this server). */
  resumeGraceMs: number;
  /** Output retained for replay on resume. */
  resumeBufferMs: number;
  /** Output queued for the client beyond this is SLOW_CONSUMER. */
  maxSendBufferBytes: number;
  /** Text messages per second (burst: one second's worth); more is RATE_LIMITED. */
  maxControlMessagesPerSecond: number;
  /** Binary (audio) messages per second (burst: one second's worth); more is RATE_LIMITED. */
  maxAudioMessagesPerSecond: number;
  /** f32le input is clamped to ±inputSampleLimit (counted in `inputClampedSamples`). */
  inputSampleLimit: number;
}

export interface ReadyMessage {
  type: 'ready';
  protocolVersion: number;
  sessionId: string;
  /** Secret for `resume` after a dropped connection (docs/protocol.md §5). */
  resumeToken: string;
  streamId?: string;
  model: { name: string; arch: string; sampleRateHz: number; nFft: number; hopSamples: number };
  input: { sampleRateHz: number; channels: number; format: SampleFormat };
  output: { sampleRateHz: number; channels: number; format: SampleFormat; outputs: OutputKind[]; vocalGain: number };
  /** Output sample t aligns with input time t; it is sent once input up to t + latency has arrived. */
  latency: { samples: number; ms: number };
  /** VAD hop in output-rate samples (fractional when the output rate differs from the model rate). */
  vadHopSamples: number;
  limits: SessionLimits;
}

/** Answer to `resume`: every `ready` field (current configuration) plus where input and output continue. */
export interface ResumedMessage extends Omit<ReadyMessage, 'type'> {
  type: 'resumed';
  /** Input samples (per channel, input rate) the server holds: audio is resent from this offset. */
  inputSamples: number;
  /** Output offset the replay starts from (the `lastSampleOffset` that was asked for). */
  outputSampleOffset: number;
}

export interface VadEvent {
  type: 'vad';
  /** Output-rate offset of probs[0]'s hop; probs[i] sits at sampleOffset + i·hopSamples. */
  sampleOffset: number;
  hopSamples: number;
  probs: number[];
  /** Debounced vocal activity after the last prob. */
  active: boolean;
  transitions: { active: boolean; sampleOffset: number }[];
}

/** Input (per channel, input rate) that was not processed exactly as sent, with why. */
export interface InputAdjustments {
  /** f32le sample frames with a value beyond ±limits.inputSampleLimit, clamped. */
  inputClampedSamples: number;
  /** Oldest input dropped because the engine fell behind a client that cannot be slowed down (WebRTC). */
  inputDroppedSamples: number;
  /** Audio that arrived after the server flushed the session for shutdown. */
  inputIgnoredSamples: number;
}

export interface StatsEvent extends InputAdjustments {
  type: 'stats';
  id?: string | number | null;
  sessionId: string;
  state: string;
  inputSamples: number;
  outputSamples: number;
  frames: number;
  lateFrames: number;
  bufferedInputMs: number;
  sendBufferedBytes: number;
  processingLatencyMs: { last: number; mean: number; max: number };
  uptimeMs: number;
}

export interface DoneEvent extends InputAdjustments {
  type: 'done';
  reason: 'end' | 'shutdown';
  inputSamples: number;
  outputSamples: number;
  frames: number;
  lateFrames: number;
  durationMs: number;
}

/** The session dropped its oldest input to catch up (only on transports without backpressure, i.e. WebRTC). */
export interface InputDroppedEvent {
  type: 'input-dropped';
  reason: 'engine-behind';
  /** Samples (per channel, input rate) dropped now. */
  samples: number;
  /** Input offset of the first dropped sample. */
  inputSampleOffset: number;
  totalSamples: number;
}

export interface ServerErrorMessage {
  type: 'error';
  code: ServerErrorCode;
  message: string;
  retryable: boolean;
}

export type ServerMessage =
  | ReadyMessage
  | ResumedMessage
  | VadEvent
  | StatsEvent
  | DoneEvent
  | ServerErrorMessage
  | InputDroppedEvent
  | { type: 'pong'; id?: string | number | null; serverTimeMs: number }
  | { type: 'configured'; sampleOffset: number; outputs: OutputKind[]; vocalGain: number }
  | { type: 'flushed'; sampleOffset: number }
  | { type: 'draining'; deadlineMs: number };

/** One decoded output frame: planar samples of one kind, `sampleOffset` aligned with input time (output rate). */
export interface OutputChunk {
  kind: OutputKind;
  sequence: number;
  sampleOffset: number;
  sampleRateHz: number;
  samples: Float32Array[];
}

const FRAME_HEADER_BYTES = 24;
const KINDS: readonly (OutputKind | undefined)[] = [undefined, 'vocals', 'accompaniment', 'karaoke'];

export class FrameError extends Error {
  override readonly name = 'FrameError';
}

/** Decodes a binary output frame (24-byte little-endian header + interleaved PCM) into planar float samples. */
export function decodeOutputFrame(bytes: Uint8Array): OutputChunk {
  if (bytes.byteLength < FRAME_HEADER_BYTES) throw new FrameError(`frame of ${bytes.byteLength} bytes has no header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint8(0) !== 1) throw new FrameError(`unknown frame version ${view.getUint8(0)}`);
  const kind = KINDS[view.getUint8(1)];
  if (kind === undefined) throw new FrameError(`unknown output kind ${view.getUint8(1)}`);
  const formatCode = view.getUint8(2);
  if (formatCode !== 1 && formatCode !== 2) throw new FrameError(`unknown sample format ${formatCode}`);
  const channels = view.getUint8(3);
  const sampleCount = view.getUint32(16, true);
  const bytesPerSample = formatCode === 1 ? 2 : 4;
  if (bytes.byteLength !== FRAME_HEADER_BYTES + sampleCount * channels * bytesPerSample) {
    throw new FrameError(`frame is ${bytes.byteLength} bytes, header announces ${sampleCount} × ${channels} samples`);
  }
  const samples = Array.from({ length: channels }, () => new Float32Array(sampleCount));
  let p = FRAME_HEADER_BYTES;
  for (let i = 0; i < sampleCount; i++) {
    for (let c = 0; c < channels; c++) {
      if (formatCode === 1) {
        samples[c]![i] = view.getInt16(p, true) / 32768;
        p += 2;
      } else {
        samples[c]![i] = view.getFloat32(p, true);
        p += 4;
      }
    }
  }
  return {
    kind,
    sequence: view.getUint32(4, true),
    sampleOffset: Number(view.getBigUint64(8, true)),
    sampleRateHz: view.getUint32(20, true),
    samples,
  };
}

/** Planar float → interleaved little-endian PCM in `format` (s16le: round(x·32768) clipped, like the server). */
export function encodePcm(planar: readonly Float32Array[], format: SampleFormat): Uint8Array {
  const channels = planar.length;
  const frames = planar[0]?.length ?? 0;
  const bytesPerSample = format === 's16le' ? 2 : 4;
  const out = new Uint8Array(frames * channels * bytesPerSample);
  const view = new DataView(out.buffer);
  let p = 0;
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < channels; c++) {
      const x = planar[c]![i]!;
      if (format === 's16le') {
        const v = Math.round(x * 32768);
        view.setInt16(p, v > 32767 ? 32767 : v < -32768 ? -32768 : v, true);
        p += 2;
      } else {
        view.setFloat32(p, x, true);
        p += 4;
      }
    }
  }
  return out;
}
