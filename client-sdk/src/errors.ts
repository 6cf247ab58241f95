/**
 * Typed errors. `ServerErrorCode` mirrors the server's error catalog (`server/errors.ts`); a test checks the two lists
 * are identical, so a code added on the server fails the build of the SDK until it is declared here too.
 */

export const SERVER_ERROR_CODES = [
  'LIVESTEM_ERR_BAD_MESSAGE',
  'LIVESTEM_ERR_PROTOCOL_VERSION',
  'LIVESTEM_ERR_MISALIGNED_FRAME',
  'LIVESTEM_ERR_UNAUTHORIZED',
  'LIVESTEM_ERR_ORIGIN_NOT_ALLOWED',
  'LIVESTEM_ERR_UNKNOWN_MODEL',
  'LIVESTEM_ERR_NOT_FOUND',
  'LIVESTEM_ERR_IDLE_TIMEOUT',
  'LIVESTEM_ERR_SLOW_CONSUMER',
  'LIVESTEM_ERR_UNKNOWN_SESSION',
  'LIVESTEM_ERR_UNSUPPORTED_SAMPLE_RATE',
  'LIVESTEM_ERR_UNSUPPORTED_CHANNELS',
  'LIVESTEM_ERR_UNSUPPORTED_FORMAT',
  'LIVESTEM_ERR_RESUME_GAP',
  'LIVESTEM_ERR_NON_FINITE_SAMPLES',
  'LIVESTEM_ERR_INPUT_OVERRUN',
  'LIVESTEM_ERR_RATE_LIMITED',
  'LIVESTEM_ERR_PAYLOAD_TOO_LARGE',
  'LIVESTEM_ERR_OVERLOADED',
  'LIVESTEM_ERR_DRAINING',
  'LIVESTEM_ERR_INFERENCE_FAILED',
  'LIVESTEM_ERR_INTERNAL',
] as const;

export type ServerErrorCode = (typeof SERVER_ERROR_CODES)[number];

/** Failures the SDK detects itself, before or without a server answer. */
export const CLIENT_ERROR_CODES = [
  /** The WebSocket / HTTP connection could not be opened or dropped without an error message. */
  'LIVESTEM_CLIENT_CONNECTION_FAILED',
  /** A call was made on a session that is already closed. */
  'LIVESTEM_CLIENT_CLOSED',
  /** The server sent something this SDK cannot parse (version mismatch or bug). */
  'LIVESTEM_CLIENT_PROTOCOL',
  /** An async iterator's consumer fell behind its bounded queue. */
  'LIVESTEM_CLIENT_ITERATOR_OVERFLOW',
  /** Invalid argument to an SDK call (wrong channel count, non-finite gain…). */
  'LIVESTEM_CLIENT_BAD_ARGUMENT',
] as const;

export type ClientErrorCode = (typeof CLIENT_ERROR_CODES)[number];
export type LivestemErrorCode = ServerErrorCode | ClientErrorCode;

const RETRYABLE: ReadonlySet<LivestemErrorCode> = new Set<LivestemErrorCode>([
  'LIVESTEM_ERR_IDLE_TIMEOUT',
  'LIVESTEM_ERR_SLOW_CONSUMER',
  'LIVESTEM_ERR_INPUT_OVERRUN',
  'LIVESTEM_ERR_RATE_LIMITED',
  'LIVESTEM_ERR_OVERLOADED',
  'LIVESTEM_ERR_DRAINING',
  'LIVESTEM_ERR_INFERENCE_FAILED',
  'LIVESTEM_ERR_INTERNAL',
  'LIVESTEM_CLIENT_CONNECTION_FAILED',
]);

export function isServerErrorCode(value: unknown): value is ServerErrorCode {
  return typeof value === 'string' && (SERVER_ERROR_CODES as readonly string[]).includes(value);
}

export class LivestemClientError extends Error {
  override readonly name = 'LivestemClientError';
  readonly code: LivestemErrorCode;
  readonly retryable: boolean;
  /** WebSocket close code or HTTP status that carried the error, when there was one. */
  readonly status: number | undefined;

  constructor(code: LivestemErrorCode, message: string, options: { retryable?: boolean; status?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? RETRYABLE.has(code);
    this.status = options.status;
  }
}
