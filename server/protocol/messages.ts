/**
 * livestem streaming protocol, JSON side (see docs/protocol.md for the prose and examples).
 * Client → server messages are validated with zod; server → client messages are typed unions the SDK shares.
 * Fields the server must answer with a *specific* error code (rate, channels, format) are accepted loosely by the
 * schema and checked by `checkStartAudio`, so a bad rate yields UNSUPPORTED_SAMPLE_RATE rather than BAD_MESSAGE.
 */
import { z } from 'zod';
import { LivestemError, type ErrorCode } from '../errors.ts';

export const PROTOCOL_VERSION = 1;

/** Sample rates a stream may use (in and out). A fixed list keeps every resampling ratio small and exact. */
export const SUPPORTED_SAMPLE_RATES_HZ = [8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000] as const;
export const SAMPLE_FORMATS = ['s16le', 'f32le'] as const;
export const OUTPUT_KINDS = ['vocals', 'accompaniment', 'karaoke'] as const;

export type SampleFormat = (typeof SAMPLE_FORMATS)[number];
export type OutputKind = (typeof OUTPUT_KINDS)[number];

const outputKind = z.enum(OUTPUT_KINDS);
const outputs = z
  .array(outputKind)
  .min(1)
  .max(3)
  .refine((list) => new Set(list).size === list.length, { message: 'outputs must not repeat a kind' });
const vocalGain = z.number().min(0).max(1);
/** Echoed verbatim in the answer: any finite number (`performance.now()` is common), a short string, or null. */
export const MAX_REQUEST_ID_CHARS = 256;
const requestId = z.union([z.string().max(MAX_REQUEST_ID_CHARS), z.number().finite(), z.null()]);

export const startMessageSchema = z.strictObject({
  type: z.literal('start'),
  protocolVersion: z.number().int().optional(),
  model: z.string().min(1).max(64).optional(),
  sampleRateHz: z.number(),
  channels: z.number(),
  format: z.string(),
  outputs: outputs.optional(),
  vocalGain: vocalGain.optional(),
  outputSampleRateHz: z.number().optional(),
  outputFormat: z.string().optional(),
  vad: z.boolean().optional(),
  streamId: z.string().min(1).max(128).optional(),
});

export const resumeMessageSchema = z.strictObject({
  type: z.literal('resume'),
  protocolVersion: z.number().int().optional(),
  sessionId: z.string().min(1).max(64),
  resumeToken: z.string().min(1).max(128),
  /** Output sample offset the client has received everything before (end of its last complete frame). */
  lastSampleOffset: z.number().int().nonnegative(),
});

export const configureMessageSchema = z.strictObject({
  type: z.literal('configure'),
  outputs: outputs.optional(),
  vocalGain: vocalGain.optional(),
});

export const clientMessageSchema = z.discriminatedUnion('type', [
  startMessageSchema,
  resumeMessageSchema,
  configureMessageSchema,
  z.strictObject({ type: z.literal('flush') }),
  z.strictObject({ type: z.literal('end') }),
  z.strictObject({ type: z.literal('ping'), id: requestId.optional() }),
  z.strictObject({ type: z.literal('stats'), id: requestId.optional() }),
]);

export type StartMessage = z.infer<typeof startMessageSchema>;
export type ResumeMessage = z.infer<typeof resumeMessageSchema>;
export type ConfigureMessage = z.infer<typeof configureMessageSchema>;
export type ClientMessage = z.infer<typeof clientMessageSchema>;

/** Audio parameters of a validated `start`. */
export interface StreamAudioConfig {
  inputSampleRateHz: number;
  inputChannels: 1 | 2;
  inputFormat: SampleFormat;
  outputSampleRateHz: number;
  outputFormat: SampleFormat;
  outputs: OutputKind[];
  vocalGain: number;
  vad: boolean;
}

function isSupportedRate(rate: number): boolean {
  return (SUPPORTED_SAMPLE_RATES_HZ as readonly number[]).includes(rate);
}

function isFormat(value: string): value is SampleFormat {
  return (SAMPLE_FORMATS as readonly string[]).includes(value);
}

/** Checks the audio fields of a schema-valid `start`; throws the specific catalog error. */
export function checkStartAudio(start: StartMessage): StreamAudioConfig {
  if (start.protocolVersion !== undefined && start.protocolVersion !== PROTOCOL_VERSION) {
    throw new LivestemError(
      'LIVESTEM_ERR_PROTOCOL_VERSION',
      `protocolVersion ${start.protocolVersion} is not supported (this server speaks ${PROTOCOL_VERSION})`,
    );
  }
  const rates = SUPPORTED_SAMPLE_RATES_HZ.join(', ');
  if (!isSupportedRate(start.sampleRateHz)) {
    throw new LivestemError('LIVESTEM_ERR_UNSUPPORTED_SAMPLE_RATE', `sampleRateHz ${start.sampleRateHz} is not one of ${rates}`);
  }
  const outRate = start.outputSampleRateHz ?? start.sampleRateHz;
  if (!isSupportedRate(outRate)) {
    throw new LivestemError('LIVESTEM_ERR_UNSUPPORTED_SAMPLE_RATE', `outputSampleRateHz ${outRate} is not one of ${rates}`);
  }
  if (start.channels !== 1 && start.channels !== 2) {
    throw new LivestemError('LIVESTEM_ERR_UNSUPPORTED_CHANNELS', `channels ${start.channels} is not 1 or 2`);
  }
  if (!isFormat(start.format)) {
    throw new LivestemError('LIVESTEM_ERR_UNSUPPORTED_FORMAT', `format "${start.format.slice(0, 32)}" is not s16le or f32le`);
  }
  const outFormat = start.outputFormat ?? start.format;
  if (!isFormat(outFormat)) {
    throw new LivestemError('LIVESTEM_ERR_UNSUPPORTED_FORMAT', `outputFormat "${outFormat.slice(0, 32)}" is not s16le or f32le`);
  }
  return {
    inputSampleRateHz: start.sampleRateHz,
    inputChannels: start.channels,
    inputFormat: start.format,
    outputSampleRateHz: outRate,
    outputFormat: outFormat,
    outputs: start.outputs ?? ['vocals', 'accompaniment'],
    vocalGain: start.vocalGain ?? 0,
    vad: start.vad ?? true,
  };
}

/** Parses one text frame; any JSON or schema problem is BAD_MESSAGE naming the offending field. */
export function parseClientMessage(text: string): ClientMessage {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new LivestemError('LIVESTEM_ERR_BAD_MESSAGE', 'text frame is not valid JSON', { cause: err });
  }
  const result = clientMessageSchema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue && issue.path.length > 0 ? ` at "${issue.path.join('.')}"` : '';
    throw new LivestemError('LIVESTEM_ERR_BAD_MESSAGE', `invalid message${where}: ${issue?.message ?? 'unknown'}`, {
      cause: result.error,
    });
  }
  return result.data;
}

// ---- server → client ----

export interface ModelInfo {
  name: string;
  arch: string;
  sampleRateHz: number;
  nFft: number;
  hopSamples: number;
}

export interface SessionLimits {
  maxMessageBytes: number;
  maxBufferedInputMs: number;
  idleTimeoutMs: number;
  /** A new connection that sends no start/resume within this gets IDLE_TIMEOUT. */
  startTimeoutMs: number;
  resumeGraceMs: number;
  resumeBufferMs: number;
  /** Output queued for the client (every message kind) beyond this is SLOW_CONSUMER; reading pauses at a quarter. */
  maxSendBufferBytes: number;
  /** Text messages per second (burst: one second's worth); more is RATE_LIMITED. */
  maxControlMessagesPerSecond: number;
  /** Binary (audio) messages per second (burst: one second's worth); more is RATE_LIMITED. */
  maxAudioMessagesPerSecond: number;
  /** f32le input is clamped to [−inputSampleLimit, inputSampleLimit] (counted in stats.inputClampedSamples). */
  inputSampleLimit: number;
}

export interface ReadyMessage {
  type: 'ready';
  protocolVersion: number;
  sessionId: string;
  resumeToken: string;
  streamId?: string;
  model: ModelInfo;
  input: { sampleRateHz: number; channels: number; format: SampleFormat };
  output: { sampleRateHz: number; channels: number; format: SampleFormat; outputs: OutputKind[]; vocalGain: number };
  /** Output sample t aligns with input time t; it is sent once input up to t + latency has arrived. */
  latency: { samples: number; ms: number };
  /** VAD hop in output-rate samples (fractional when the output rate differs from the model rate). */
  vadHopSamples: number;
  limits: SessionLimits;
}

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
  /** Debounced state after the last prob. */
  active: boolean;
  transitions: VadTransition[];
}

/** Input (per channel, client rate) that was not processed exactly as sent, with why. */
export interface InputAdjustments {
  /** f32le samples beyond ±limits.inputSampleLimit, clamped. */
  inputClampedSamples: number;
  /** Oldest input dropped because the engine fell behind a client that cannot be slowed down (WebRTC). */
  inputDroppedSamples: number;
  /** Audio that arrived after the server flushed the session for shutdown. */
  inputIgnoredSamples: number;
}

export interface StatsMessage extends InputAdjustments {
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

export interface DoneMessage extends InputAdjustments {
  type: 'done';
  reason: 'end' | 'shutdown';
  inputSamples: number;
  outputSamples: number;
  frames: number;
  lateFrames: number;
  durationMs: number;
}

export interface ErrorMessage {
  type: 'error';
  code: ErrorCode;
  message: string;
  retryable: boolean;
}

/** Sent when the session dropped its oldest input to catch up (transports without backpressure only). */
export interface InputDroppedMessage {
  type: 'input-dropped';
  reason: 'engine-behind';
  /** Samples (per channel, client rate) dropped now. */
  samples: number;
  /** Input offset (client rate) of the first dropped sample. */
  inputSampleOffset: number;
  totalSamples: number;
}

export type ServerMessage =
  | ReadyMessage
  | ResumedMessage
  | VadMessage
  | StatsMessage
  | DoneMessage
  | ErrorMessage
  | { type: 'pong'; id?: string | number | null; serverTimeMs: number }
  | InputDroppedMessage
  | { type: 'configured'; sampleOffset: number; outputs: OutputKind[]; vocalGain: number }
  | { type: 'flushed'; sampleOffset: number }
  | { type: 'draining'; deadlineMs: number };

/** Error texts can quote client input (an unknown key, a bad value): bounded so nothing large is echoed back. */
export const MAX_ERROR_MESSAGE_CHARS = 300;

export function errorMessage(err: LivestemError): ErrorMessage {
  const message = err.message.length > MAX_ERROR_MESSAGE_CHARS ? `${err.message.slice(0, MAX_ERROR_MESSAGE_CHARS)}…` : err.message;
  return { type: 'error', code: err.code, message, retryable: err.retryable };
}
