/**
 * Client → server JSON messages (docs/protocol.md §3) as plain types. The server validates incoming text with zod
 * schemas (server/protocol/messages.ts) and checks at compile time that those schemas infer exactly these types, so
 * what a client is typed to send is what the server accepts.
 */
import type { OutputFraming, OutputKind, SampleFormat } from './constants.ts';

/** Echoed verbatim in the answer: any finite number (`performance.now()` is common), a short string, or null. */
export type RequestId = string | number | null;

export interface StartMessage {
  type: 'start';
  protocolVersion?: number;
  model?: string;
  sampleRateHz: number;
  channels: 1 | 2;
  format: SampleFormat;
  /** Default ['vocals', 'accompaniment']; each kind at most once. */
  outputs?: OutputKind[];
  /** Vocal level in the karaoke mix, 0..1 (default 0). */
  vocalGain?: number;
  /** Default: the input rate. */
  outputSampleRateHz?: number;
  /** Default: the input format. */
  outputFormat?: SampleFormat;
  /** Default true. */
  vad?: boolean;
  /** Default 'frames' (docs/protocol.md §4 "Output bundles"). */
  outputFraming?: OutputFraming;
  /** Opaque client label, echoed in `ready`. */
  streamId?: string;
}

/** Instead of `start`, on a new connection: continue a dropped session (docs/protocol.md §5). */
export interface ResumeMessage {
  type: 'resume';
  protocolVersion?: number;
  sessionId: string;
  resumeToken: string;
  /** Output sample offset the client has received everything before (end of its last complete frame). */
  lastSampleOffset: number;
}

export interface ConfigureMessage {
  type: 'configure';
  outputs?: OutputKind[];
  vocalGain?: number;
}

export interface FlushMessage {
  type: 'flush';
}

export interface EndMessage {
  type: 'end';
}

export interface PingMessage {
  type: 'ping';
  id?: RequestId;
}

export interface StatsRequestMessage {
  type: 'stats';
  id?: RequestId;
}

/** Every message a session accepts on its socket (binary input frames aside). */
export type ClientMessage =
  | StartMessage
  | ResumeMessage
  | ConfigureMessage
  | FlushMessage
  | EndMessage
  | PingMessage
  | StatsRequestMessage;
