/** Options and events of a WebSocket session (`connect()`), kept apart from the session's machinery. */
import type { LivestemClientError } from './errors.ts';
import type { StartParams, TokenSource } from './handshake.ts';
import type { ReconnectOptions } from './resume.ts';
import type { SocketFactory } from './socket.ts';
import type { OutputChunk } from './output-chunk.ts';
import type { DoneMessage, InputDroppedMessage, ReadyMessage, ResumedMessage, StatsMessage, VadMessage } from './protocol/index.ts';

export interface ConnectOptions extends StartParams {
  /** Server base URL (`ws://host:8080`) or the full stream URL (`ws://host:8080/v1/stream`); http(s) is accepted. */
  url: string;
  /**
   * API key (Node) or token from `POST /v1/tokens` (browsers). A token admits one socket: give a function that mints
   * a fresh one when the session may have to reconnect.
   */
  token?: TokenSource;
  /** `write()` waits while more than this many bytes are queued (unsent input + the socket's queue). Default 256 KiB. */
  highWaterMarkBytes?: number;
  /**
   * After a dropped connection (closed without an `error` message): resume the same session losslessly while the
   * server's grace period lasts, and start a new session only when that is refused. Default off: a drop closes.
   */
  reconnect?: boolean | ReconnectOptions;
  /** Override how sockets are made (tests, custom agents). */
  socketFactory?: SocketFactory;
  /** Give up an attempt to connect after this long. Default 10 s. */
  connectTimeoutMs?: number;
}

export interface CloseEvent {
  code: number;
  reason: string;
  /** Set when the session ended because of an error (server `error` message or a dropped connection). */
  error?: LivestemClientError;
}

export interface DisconnectEvent {
  code: number;
  reason: string;
}

/** The same server session continues on a new socket: nothing was lost or repeated. */
export interface ResumedEvent {
  /** `ready` as of now (same session id). */
  ready: ReadyMessage;
  resumed: ResumedMessage;
  /** Input samples (per channel) sent again because the server had not received them. */
  resentSamples: number;
  attempts: number;
  downtimeMs: number;
}

/** Resume was refused or impossible: a new server session continues the caller's timeline. */
export interface ReconnectEvent {
  ready: ReadyMessage;
  /** Caller-timeline output offset of the new session's offset 0. */
  outputOffsetBase: number;
  /** Caller-timeline input offset the new session starts from (retained input is sent again from there). */
  inputSampleOffset: number;
  /** Why the session could not be resumed (UNKNOWN_SESSION, RESUME_GAP, grace period over, resume off). */
  reason: LivestemClientError;
  attempts: number;
  downtimeMs: number;
}

export interface SessionEvents {
  ready: ReadyMessage;
  vocals: OutputChunk;
  accompaniment: OutputChunk;
  karaoke: OutputChunk;
  /** Every output chunk, whatever its kind. */
  output: OutputChunk;
  vad: VadMessage;
  stats: StatsMessage;
  done: DoneMessage;
  inputDropped: InputDroppedMessage;
  error: LivestemClientError;
  close: CloseEvent;
  drain: undefined;
  /** The connection dropped and the session is reconnecting (only with `reconnect`). */
  disconnect: DisconnectEvent;
  resumed: ResumedEvent;
  reconnect: ReconnectEvent;
}
