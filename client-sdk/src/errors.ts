/**
 * Typed errors. Server codes and their retryability come from the protocol's error catalog (protocol/error-catalog.ts),
 * the same table the server raises them from, so the SDK cannot disagree with the server about either.
 */
import { ERROR_CATALOG, ERROR_CODES, isErrorCode, type ErrorCode } from './protocol/index.ts';

/** Every code the server can send (`error` messages, HTTP error bodies), in catalog order. */
export const SERVER_ERROR_CODES: readonly ServerErrorCode[] = ERROR_CODES;

export type ServerErrorCode = ErrorCode;

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

/** A dropped or refused connection may work on the next try; every other client-side failure will not. */
const RETRYABLE_CLIENT_CODES: ReadonlySet<ClientErrorCode> = new Set<ClientErrorCode>(['LIVESTEM_CLIENT_CONNECTION_FAILED']);

/** Retryability when the error did not say: the catalog's for server codes. */
export function isRetryableCode(code: LivestemErrorCode): boolean {
  return isServerErrorCode(code) ? ERROR_CATALOG[code].retryable : RETRYABLE_CLIENT_CODES.has(code);
}

export function isServerErrorCode(value: unknown): value is ServerErrorCode {
  return isErrorCode(value);
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
    this.retryable = options.retryable ?? isRetryableCode(code);
    this.status = options.status;
  }
}
