/**
 * Validation of client → server JSON messages (docs/protocol.md §3). The message types themselves are the protocol's
 * (client-sdk/src/protocol), shared with the SDK; this module holds what only the server needs: the zod schemas,
 * `parseClientMessage`, `checkStartAudio`, and building `error` messages. A compile-time check below pins each
 * schema's inferred type to the shared type, so the schemas cannot accept something the types do not describe.
 *
 * Fields the server must answer with a *specific* error code (rate, channels, format) are accepted loosely by the
 * schema and checked by `checkStartAudio`, so a bad rate yields UNSUPPORTED_SAMPLE_RATE rather than BAD_MESSAGE.
 */
import { z } from 'zod';
import {
  OUTPUT_FRAMINGS,
  OUTPUT_KINDS,
  PROTOCOL_VERSION,
  SUPPORTED_SAMPLE_RATES_HZ,
  isSampleFormat,
  isSupportedSampleRate,
  type ClientMessage,
  type ConfigureMessage,
  type EndMessage,
  type ErrorMessage,
  type FlushMessage,
  type OutputFraming,
  type OutputKind,
  type PingMessage,
  type ResumeMessage,
  type SampleFormat,
  type StartMessage,
  type StatsRequestMessage,
} from '../../client-sdk/src/protocol/index.ts';
import { LivestemError } from '../errors.ts';
import type { Same, Shape } from './same-type.ts';

const outputKind = z.enum(OUTPUT_KINDS);
const outputs = z
  .array(outputKind)
  .min(1)
  .max(3)
  .refine((list) => new Set(list).size === list.length, { message: 'outputs must not repeat a kind' });
const vocalGain = z.number().min(0).max(1);
/** Bounds the echoed `id` of ping/stats: any finite number (`performance.now()` is common), a short string, or null. */
export const MAX_REQUEST_ID_CHARS = 256;
const requestId = z.union([z.string().max(MAX_REQUEST_ID_CHARS), z.number().finite(), z.null()]);

// Optional fields are `exactOptional`: JSON has no `undefined`, and the shared types say "absent", not "undefined".
export const startMessageSchema = z.strictObject({
  type: z.literal('start'),
  protocolVersion: z.number().int().exactOptional(),
  model: z.string().min(1).max(64).exactOptional(),
  sampleRateHz: z.number(),
  channels: z.number(),
  format: z.string(),
  outputs: outputs.exactOptional(),
  vocalGain: vocalGain.exactOptional(),
  outputSampleRateHz: z.number().exactOptional(),
  outputFormat: z.string().exactOptional(),
  vad: z.boolean().exactOptional(),
  outputFraming: z.enum(OUTPUT_FRAMINGS).exactOptional(),
  streamId: z.string().min(1).max(128).exactOptional(),
});

export const resumeMessageSchema = z.strictObject({
  type: z.literal('resume'),
  protocolVersion: z.number().int().exactOptional(),
  sessionId: z.string().min(1).max(64),
  resumeToken: z.string().min(1).max(128),
  lastSampleOffset: z.number().int().nonnegative(),
});

export const configureMessageSchema = z.strictObject({
  type: z.literal('configure'),
  outputs: outputs.exactOptional(),
  vocalGain: vocalGain.exactOptional(),
});

const flushMessageSchema = z.strictObject({ type: z.literal('flush') });
const endMessageSchema = z.strictObject({ type: z.literal('end') });
const pingMessageSchema = z.strictObject({ type: z.literal('ping'), id: requestId.exactOptional() });
const statsRequestMessageSchema = z.strictObject({ type: z.literal('stats'), id: requestId.exactOptional() });

export const clientMessageSchema = z.discriminatedUnion('type', [
  startMessageSchema,
  resumeMessageSchema,
  configureMessageSchema,
  flushMessageSchema,
  endMessageSchema,
  pingMessageSchema,
  statsRequestMessageSchema,
]);

/** A schema-valid `start` whose audio fields `checkStartAudio` has yet to check (they are the shared type's, widened). */
export type UncheckedStartMessage = Omit<StartMessage, 'channels' | 'format' | 'outputFormat'> & {
  channels: number;
  format: string;
  outputFormat?: string;
};
/** What `parseClientMessage` returns: a shared `ClientMessage`, with `start` not yet audio-checked. */
export type ParsedClientMessage = Exclude<ClientMessage, StartMessage> | UncheckedStartMessage;

// ---- compile-time: every schema infers exactly its shared type ----
const schemasMatchSharedTypes: [
  Same<z.infer<typeof startMessageSchema>, Shape<UncheckedStartMessage>>,
  Same<z.infer<typeof resumeMessageSchema>, ResumeMessage>,
  Same<z.infer<typeof configureMessageSchema>, ConfigureMessage>,
  Same<z.infer<typeof flushMessageSchema>, FlushMessage>,
  Same<z.infer<typeof endMessageSchema>, EndMessage>,
  Same<z.infer<typeof pingMessageSchema>, PingMessage>,
  Same<z.infer<typeof statsRequestMessageSchema>, StatsRequestMessage>,
] = [true, true, true, true, true, true, true];
void schemasMatchSharedTypes;

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
  outputFraming: OutputFraming;
}

/** Checks the audio fields of a schema-valid `start`; throws the specific catalog error. */
export function checkStartAudio(start: UncheckedStartMessage): StreamAudioConfig {
  if (start.protocolVersion !== undefined && start.protocolVersion !== PROTOCOL_VERSION) {
    throw new LivestemError(
      'LIVESTEM_ERR_PROTOCOL_VERSION',
      `protocolVersion ${start.protocolVersion} is not supported (this server speaks ${PROTOCOL_VERSION})`,
    );
  }
  const rates = SUPPORTED_SAMPLE_RATES_HZ.join(', ');
  if (!isSupportedSampleRate(start.sampleRateHz)) {
    throw new LivestemError('LIVESTEM_ERR_UNSUPPORTED_SAMPLE_RATE', `sampleRateHz ${start.sampleRateHz} is not one of ${rates}`);
  }
  const outRate = start.outputSampleRateHz ?? start.sampleRateHz;
  if (!isSupportedSampleRate(outRate)) {
    throw new LivestemError('LIVESTEM_ERR_UNSUPPORTED_SAMPLE_RATE', `outputSampleRateHz ${outRate} is not one of ${rates}`);
  }
  if (start.channels !== 1 && start.channels !== 2) {
    throw new LivestemError('LIVESTEM_ERR_UNSUPPORTED_CHANNELS', `channels ${start.channels} is not 1 or 2`);
  }
  if (!isSampleFormat(start.format)) {
    throw new LivestemError('LIVESTEM_ERR_UNSUPPORTED_FORMAT', `format "${start.format.slice(0, 32)}" is not s16le or f32le`);
  }
  const outFormat = start.outputFormat ?? start.format;
  if (!isSampleFormat(outFormat)) {
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
    outputFraming: start.outputFraming ?? 'frames',
  };
}

/** Parses one text frame; any JSON or schema problem is BAD_MESSAGE naming the offending field. */
export function parseClientMessage(text: string): ParsedClientMessage {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new LivestemError('LIVESTEM_ERR_BAD_MESSAGE', 'text frame is not valid JSON', { cause: err });
  }
  return validateClientMessage(raw);
}

/** Validates a message already parsed from JSON (or built by a transport); same errors as `parseClientMessage`. */
export function validateClientMessage(raw: unknown): ParsedClientMessage {
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

/** Error texts can quote client input (an unknown key, a bad value): bounded so nothing large is echoed back. */
export const MAX_ERROR_MESSAGE_CHARS = 300;

export function errorMessage(err: LivestemError): ErrorMessage {
  const message = err.message.length > MAX_ERROR_MESSAGE_CHARS ? `${err.message.slice(0, MAX_ERROR_MESSAGE_CHARS)}…` : err.message;
  return { type: 'error', code: err.code, message, retryable: err.retryable };
}
