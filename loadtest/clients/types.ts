/**
 * What the load generator needs from a streaming client, independent of transport. Implementations: the client SDK
 * (`sdk-client.ts`, the default), a header-only WebSocket client (`ws-client.ts`: speaks docs/protocol.md directly
 * and never decodes PCM, for when the generator shares the server's cores), and WebRTC (`webrtc-client.ts`).
 */
import type { OutputFraming, OutputKind, SampleFormat } from '../../client-sdk/src/protocol/index.ts';
import type { OutputFrameInfo } from '../session-tracker.ts';

export type TransportKind = 'websocket' | 'webrtc';

export interface StartOptions {
  sampleRateHz: number;
  channels: 1 | 2;
  format: SampleFormat;
  outputs?: OutputKind[];
  model?: string;
  vad?: boolean;
  /** `frames` or `bundles` (docs/protocol.md §4); default: the client's (the SDK asks for bundles, ws-client for frames). */
  outputFraming?: OutputFraming;
  streamId?: string;
}

export interface SessionReady {
  sessionId: string;
  modelName: string;
  /** Algorithmic latency announced by the server (ms). */
  algorithmicLatencyMs: number;
  outputSampleRateHz: number;
  /** The model hop in output-rate samples (fractional when rates differ); null: time each frame once (WebRTC). */
  outputHopSamples: number | null;
  outputs: OutputKind[];
}

export interface SessionDone {
  reason: string;
  inputSamples: number;
  outputSamples: number;
  frames: number;
  lateFrames: number;
  durationMs: number;
}

export interface SessionHandlers {
  onOutputFrame(frame: OutputFrameInfo, recvTimeMs: number): void;
  onPong(rttMs: number): void;
}

export interface LoadSession {
  readonly transport: TransportKind;
  readonly ready: SessionReady;
  /**
   * Sends planar audio (encoded to the start format); returns the clock time just before it was handed to the
   * transport, or null when the transport is no longer open (nothing was sent).
   */
  sendAudio(planar: Float32Array[]): number | null;
  ping(): void;
  /** Sends `end` and resolves with the server's `done`; rejects with a LoadClientError if the session fails. */
  end(timeoutMs: number): Promise<SessionDone>;
  /** Resolves when the transport closed for any reason (used to notice sessions that die mid-run). */
  readonly closed: Promise<LoadClientError | null>;
  close(): void;
}

export type Clock = () => number;

/**
 * Credentials for a server that runs with `LIVESTEM_API_KEY` (docs/protocol.md §1, §7). Kept apart from
 * `StartOptions`, which the raw client copies into the `start` message: the key must never go on the wire as data.
 */
export interface ClientAuth {
  /** The server's API key, sent as `Authorization: Bearer <key>`; undefined: no credentials (an open server). */
  apiKey?: string;
}

/**
 * Request headers carrying `auth`. Always a header, never `?token=`: the server refuses the raw key in a query (a URL
 * ends up in logs), and a Node client can set headers on the upgrade request.
 */
export function authHeaders(auth: ClientAuth): Record<string, string> {
  return auth.apiKey === undefined ? {} : { authorization: `Bearer ${auth.apiKey}` };
}

export type Connector = (url: string, start: StartOptions, handlers: SessionHandlers, clock: Clock, auth: ClientAuth) => Promise<LoadSession>;

/** A session failure as the report counts it: a protocol error code, or a local condition. */
export class LoadClientError extends Error {
  override readonly name = 'LoadClientError';
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
