/**
 * What a session needs from a transport, and what a transport calls on the session side. Transports (WebSocket
 * today) implement `Connection` thinly; sessions never see a socket. A connection delivers its events to whichever
 * handler is bound — resume moves a live connection from a placeholder session to the resumed one.
 */
import type { LivestemError } from '../errors.ts';

/** `ip:port` → `ip`: a client reconnecting from new ports is still one client (log throttling is keyed by it). */
export function remoteHost(remoteAddress: string | undefined): string {
  return (remoteAddress ?? '?').replace(/:\d+$/, '');
}

export interface Connection {
  readonly id: string;
  readonly remoteAddress: string;
  /** Routes this connection's events to `handler` (undefined: drop them). */
  bind(handler: ConnectionHandler | undefined): void;
  sendText(text: string): void;
  sendBinary(bytes: Uint8Array): void;
  /** Idempotent. */
  close(code: number, reason: string): void;
  /** Bytes handed to send*() not yet written to the OS. */
  readonly bufferedBytes: number;
  /**
   * Whether pausing input slows the client down (TCP). False for real-time media (RTP): such a client cannot wait, so
   * a session that falls behind drops its oldest input (counted and reported) instead of failing with INPUT_OVERRUN.
   */
  readonly inputBackpressure: boolean;
  /** Stop/restart reading client messages (TCP backpressure). Idempotent. */
  pauseInput(): void;
  resumeInput(): void;
}

export interface ConnectionHandler {
  onText(text: string): void;
  onBinary(bytes: Uint8Array): void;
  /** A transport-level violation (e.g. message over the size limit), mapped to the catalog by the adapter. */
  onTransportError(error: LivestemError): void;
  /** The transport is gone (closed by either side or lost). */
  onClose(): void;
  /** Some queued output was written to the OS. */
  onSendDrained(): void;
}
