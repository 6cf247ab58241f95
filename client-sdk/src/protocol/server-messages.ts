/**
 * Server → client JSON messages on a stream socket (docs/protocol.md §4). The server builds these types and the SDK
 * and load tester read them, so both sides compile against one declaration. A server only ever adds optional fields
 * within a protocol version; readers must ignore fields they do not know.
 */
import type { OutputFraming, OutputKind, SampleFormat } from './constants.ts';
import type { RequestId } from './client-messages.ts';
import type { ErrorCode } from './error-catalog.ts';

export interface ModelInfo {
  name: string;
  arch: string;
  sampleRateHz: number;
  nFft: number;
  hopSamples: number;
}

/** This session's bounds (docs/protocol.md §7). */
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
  /** Output queued for the client (every message kind) beyond this is SLOW_CONSUMER; reading pauses at a quarter. */
  maxSendBufferBytes: number;
  /** Text messages per second (burst: one second's worth); more is RATE_LIMITED. */
  maxControlMessagesPerSecond: number;
  /** Binary (audio) messages per second (burst: one second's worth); more is RATE_LIMITED. */
  maxAudioMessagesPerSecond: number;
  /** f32le input is clamped to [−inputSampleLimit, inputSampleLimit] (counted in `inputClampedSamples`). */
  inputSampleLimit: number;
}

export interface ReadyMessage {
  type: 'ready';
  protocolVersion: number;
  sessionId: string;
  /** Secret for `resume` after a dropped connection (docs/protocol.md §5). */
  resumeToken: string;
  streamId?: string;
  model: ModelInfo;
  input: { sampleRateHz: number; channels: number; format: SampleFormat };
  output: { sampleRateHz: number; channels: number; format: SampleFormat; outputs: OutputKind[]; vocalGain: number; framing: OutputFraming };
  /** Output sample t aligns with input time t; it is sent once input up to t + latency has arrived. */
  latency: { samples: number; ms: number };
  /** VAD hop in output-rate samples (fractional when the output rate differs from the model rate). */
  vadHopSamples: number;
  limits: SessionLimits;
}

/** Answer to `resume`: every `ready` field (current configuration) plus where input and output continue. */
export interface ResumedMessage extends Omit<ReadyMessage, 'type'> {
  type: 'resumed';
  /** Input samples (per channel, input rate) the server holds: resend audio from this offset. */
  inputSamples: number;
  /** Output offset the replay starts from (= the client's lastSampleOffset). */
  outputSampleOffset: number;
}

export interface VadTransition {
  active: boolean;
  sampleOffset: number;
}

export interface VadMessage {
  type: 'vad';
  /** Output-rate offset of probs[0]'s hop; probs[i] sits at sampleOffset + i·hopSamples. */
  sampleOffset: number;
  hopSamples: number;
  probs: number[];
  /** Debounced vocal activity after the last prob. */
  active: boolean;
  transitions: VadTransition[];
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

export interface StatsMessage extends InputAdjustments {
  type: 'stats';
  id?: RequestId;
  sessionId: string;
  state: string;
  inputSamples: number;
  outputSamples: number;
  frames: number;
  lateFrames: number;
  bufferedInputMs: number;
  sendBufferedBytes: number;
  processingLatencyMs: { last: number; mean: number; max: number };
  /** Per hop, from the arrival of the input message that completed it to the write of its output (0 before the first). */
  serverAddedLatencyMs: { p50: number; p99: number; max: number };
  uptimeMs: number;
}

export interface DoneMessage extends InputAdjustments {
  type: 'done';
  reason: 'end' | 'shutdown';
  inputSamples: number;
  outputSamples: number;
  frames: number;
  lateFrames: number;
  durationMs: number;
}

/** Followed by a close with the code's close code (error-catalog.ts) unless the session can continue. */
export interface ErrorMessage {
  type: 'error';
  code: ErrorCode;
  message: string;
  retryable: boolean;
}

/** The session dropped its oldest input to catch up (only on transports without backpressure, i.e. WebRTC). */
export interface InputDroppedMessage {
  type: 'input-dropped';
  reason: 'engine-behind';
  /** Samples (per channel, input rate) dropped now. */
  samples: number;
  /** Input offset (input rate) of the first dropped sample. */
  inputSampleOffset: number;
  totalSamples: number;
}

export interface PongMessage {
  type: 'pong';
  id?: RequestId;
  serverTimeMs: number;
}

/** A `configure` took effect from this output offset on. */
export interface ConfiguredMessage {
  type: 'configured';
  sampleOffset: number;
  outputs: OutputKind[];
  vocalGain: number;
}

/** Answer to `flush`: all output up to `sampleOffset` (the input length at the flush) has been sent. */
export interface FlushedMessage {
  type: 'flushed';
  sampleOffset: number;
}

/** Graceful shutdown: finish within `deadlineMs` (from now); after it the server flushes and ends the session. */
export interface DrainingMessage {
  type: 'draining';
  deadlineMs: number;
}

export type ServerMessage =
  | ReadyMessage
  | ResumedMessage
  | VadMessage
  | StatsMessage
  | DoneMessage
  | ErrorMessage
  | PongMessage
  | InputDroppedMessage
  | ConfiguredMessage
  | FlushedMessage
  | DrainingMessage;
