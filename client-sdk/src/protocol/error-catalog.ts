/**
 * The one error catalog. Every failure a client can observe has a stable code here, with the WebSocket close code
 * that follows its `error` message, the HTTP status used when it surfaces on an HTTP route, whether retrying the same
 * request later can succeed, and the default message. The server raises these (server/errors.ts `LivestemError`);
 * the SDK types and classifies what it receives with the same table.
 */

export interface ErrorSpec {
  readonly message: string;
  readonly closeCode: number;
  readonly httpStatus: number;
  readonly retryable: boolean;
}

export const ERROR_CATALOG = {
  LIVESTEM_ERR_BAD_MESSAGE: {
    message: 'message is not valid for this protocol or for the session state',
    closeCode: 4400,
    httpStatus: 400,
    retryable: false,
  },
  LIVESTEM_ERR_PROTOCOL_VERSION: {
    message: 'unsupported protocol version',
    closeCode: 4400,
    httpStatus: 400,
    retryable: false,
  },
  LIVESTEM_ERR_MISALIGNED_FRAME: {
    message: 'binary frame length is not a whole number of sample frames (bytes per sample × channels)',
    closeCode: 4400,
    httpStatus: 400,
    retryable: false,
  },
  LIVESTEM_ERR_UNAUTHORIZED: {
    message: 'missing, invalid, expired or already used credentials',
    closeCode: 4401,
    httpStatus: 401,
    retryable: false,
  },
  LIVESTEM_ERR_ORIGIN_NOT_ALLOWED: {
    message: 'request Origin is not in the allow-list',
    closeCode: 4403,
    httpStatus: 403,
    retryable: false,
  },
  LIVESTEM_ERR_UNKNOWN_MODEL: {
    message: 'no model with this name is loaded',
    closeCode: 4404,
    httpStatus: 404,
    retryable: false,
  },
  LIVESTEM_ERR_NOT_FOUND: {
    message: 'no such route',
    closeCode: 4404,
    httpStatus: 404,
    retryable: false,
  },
  LIVESTEM_ERR_IDLE_TIMEOUT: {
    message: 'no message received within the idle timeout',
    closeCode: 4408,
    httpStatus: 408,
    retryable: true,
  },
  LIVESTEM_ERR_SLOW_CONSUMER: {
    message: 'client does not read output fast enough (send buffer over its limit)',
    closeCode: 4409,
    httpStatus: 409,
    retryable: true,
  },
  LIVESTEM_ERR_UNKNOWN_SESSION: {
    message: 'no resumable session with this id and token (never existed, ended, or grace period over)',
    closeCode: 4410,
    httpStatus: 410,
    retryable: false,
  },
  LIVESTEM_ERR_UNSUPPORTED_SAMPLE_RATE: {
    message: 'unsupported sample rate',
    closeCode: 4415,
    httpStatus: 415,
    retryable: false,
  },
  LIVESTEM_ERR_UNSUPPORTED_CHANNELS: {
    message: 'unsupported channel count (1 or 2)',
    closeCode: 4415,
    httpStatus: 415,
    retryable: false,
  },
  LIVESTEM_ERR_UNSUPPORTED_FORMAT: {
    message: 'unsupported sample format (s16le or f32le)',
    closeCode: 4415,
    httpStatus: 415,
    retryable: false,
  },
  LIVESTEM_ERR_RESUME_GAP: {
    message: 'requested resume offset is no longer retained by the server',
    closeCode: 4416,
    httpStatus: 416,
    retryable: false,
  },
  LIVESTEM_ERR_NON_FINITE_SAMPLES: {
    message: 'binary frame contains NaN or infinite samples (rejected, nothing of it was processed)',
    closeCode: 4422,
    httpStatus: 422,
    retryable: false,
  },
  LIVESTEM_ERR_INPUT_OVERRUN: {
    message: 'client sent audio faster than real time beyond the session input buffer',
    closeCode: 4429,
    httpStatus: 429,
    retryable: true,
  },
  LIVESTEM_ERR_RATE_LIMITED: {
    message: 'too many messages on this connection (over the per-connection message rate limit)',
    closeCode: 4429,
    httpStatus: 429,
    retryable: true,
  },
  LIVESTEM_ERR_PAYLOAD_TOO_LARGE: {
    message: 'message larger than the per-message limit',
    closeCode: 1009,
    httpStatus: 413,
    retryable: false,
  },
  LIVESTEM_ERR_OVERLOADED: {
    message: 'server at capacity, session refused (existing sessions are not degraded); retry later or elsewhere',
    closeCode: 1013,
    httpStatus: 503,
    retryable: true,
  },
  LIVESTEM_ERR_DRAINING: {
    message: 'server is shutting down and admits no new sessions',
    closeCode: 1012,
    httpStatus: 503,
    retryable: true,
  },
  LIVESTEM_ERR_INFERENCE_FAILED: {
    message: 'model inference failed',
    closeCode: 1011,
    httpStatus: 500,
    retryable: true,
  },
  LIVESTEM_ERR_ENGINE_CRASHED: {
    message: 'the engine thread serving this session crashed (other sessions are unaffected); start a new session',
    closeCode: 1011,
    httpStatus: 500,
    retryable: true,
  },
  LIVESTEM_ERR_INTERNAL: {
    message: 'internal server error',
    closeCode: 1011,
    httpStatus: 500,
    retryable: true,
  },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CATALOG;

export const ERROR_CODES: readonly ErrorCode[] = Object.freeze(Object.keys(ERROR_CATALOG) as ErrorCode[]);

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CATALOG, value);
}

