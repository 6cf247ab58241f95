/**
 * @livestem/client — typed client for livestem, the real-time vocals/accompaniment separation server.
 * Node ≥ 20 (uses `ws`) and browsers (native WebSocket, WebRTC, AudioWorklet).
 */
export {
  connect,
  LivestemSession,
  streamUrl,
  type ConnectOptions,
  type SessionEvents,
  type CloseEvent,
  type DisconnectEvent,
  type ResumedEvent,
  type ReconnectEvent,
} from './session.ts';
export type { ReconnectOptions } from './resume.ts';
export type { TokenSource } from './handshake.ts';
export {
  LivestemClientError,
  SERVER_ERROR_CODES,
  CLIENT_ERROR_CODES,
  isServerErrorCode,
  type ServerErrorCode,
  type ClientErrorCode,
  type LivestemErrorCode,
} from './errors.ts';
export {
  PROTOCOL_VERSION,
  OUTPUT_KINDS,
  decodeOutputFrame,
  encodePcm,
  type OutputKind,
  type SampleFormat,
  type OutputChunk,
  type ReadyMessage,
  type ResumedMessage,
  type SessionLimits,
  type InputAdjustments,
  type InputDroppedEvent,
  type VadEvent,
  type StatsEvent,
  type DoneEvent,
  type ServerMessage,
} from './wire.ts';
export { TypedEvents } from './events.ts';
export type { SocketLike, SocketFactory } from './socket.ts';
export {
  separateMediaStream,
  type SeparateMediaStreamOptions,
  type SeparatedMediaStreams,
  type RtcEvents,
  type RtcStatsEvent,
} from './webrtc.ts';
export { streamAudioNode, type WorkletStreamOptions, type WorkletStream } from './worklet.ts';
