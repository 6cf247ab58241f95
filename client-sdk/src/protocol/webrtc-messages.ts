/**
 * WebRTC signalling and DataChannel messages (docs/protocol.md §3 `webrtc-offer`, §9). Over WebRTC the session's
 * messages (server-messages.ts) travel on the `events` DataChannel, with `ready` and `stats` extended and a `closed`
 * notice added; audio travels as Opus on RTP instead of binary frames.
 */
import type { OutputKind } from './constants.ts';
import type { ReadyMessage, ResumedMessage, ServerMessage, StatsMessage } from './server-messages.ts';

/** Signalling over a `/v1/stream` WebSocket instead of `POST /v1/webrtc`: the socket's first and only message. */
export interface WebRtcOfferMessage {
  type: 'webrtc-offer';
  sdp: string;
  model?: string;
  outputs?: OutputKind[];
  vocalGain?: number;
}

export interface WebRtcAnswerMessage {
  type: 'webrtc-answer';
  sdp: string;
  /** DELETE this path (or close the control channel) to end the stream. A bearer secret: keep it private. */
  resource: string;
  /** mid of the transceiver that carries each output kind. */
  outputMids: Record<string, string>;
}

/** Transport counters added to every `stats` on the DataChannel. */
export interface RtcTransportStats {
  packetsReceived: number;
  packetsConcealed: number;
  packetsLate: number;
  packetsReordered: number;
  packetsSent: number;
  underrunFrames: number;
  droppedFrames: number;
  /** Output waiting in the server's pacer right now, ms. */
  pacerQueuedMs: number;
  /** Output slots (per slot, not per track) sent so far: the denominator for `lateFrames`. */
  outputSlots: number;
  /** Output slots whose frame was not complete at slot time: it left late (a few ms) or silence went instead. */
  lateFrames: number;
  /** Of `droppedFrames`: dropped at once because more than one frame stood queued (a burst after a stall), all tracks. */
  trimmedFrames: number;
  /** How long output frames waited in the pacer between becoming complete and leaving, ms (mean, max since start). */
  pacerWaitMs: { mean: number; max: number };
}

/** `ready` as sent on the DataChannel (input/output 48 kHz stereo f32le), plus which mid carries which output. */
export interface RtcReadyMessage extends ReadyMessage {
  outputMids: Record<string, string>;
}

export interface RtcStatsMessage extends StatsMessage {
  rtc: RtcTransportStats;
}

/** Sent before the server closes the peer for any reason but `done`/an error: deleted, stalled, ice-failed, no-media, shutdown. */
export interface RtcClosedMessage {
  type: 'closed';
  reason: string;
}

/** Everything the server sends on the `events` DataChannel (WebRTC has no resume, so never `resumed`). */
export type RtcChannelMessage =
  | Exclude<ServerMessage, ReadyMessage | ResumedMessage | StatsMessage>
  | RtcReadyMessage
  | RtcStatsMessage
  | RtcClosedMessage;
