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
export { decodeOutputFrame, decodeOutputMessage, type OutputChunk } from './output-chunk.ts';
// The wire protocol, shared with the server (./protocol). The SDK's historical names for the server's messages
// (`VadEvent`, `StatsEvent`…) are kept as aliases of the protocol's `…Message` types.
export {
  PROTOCOL_VERSION,
  OUTPUT_KINDS,
  OUTPUT_FRAMINGS,
  SUPPORTED_SAMPLE_RATES_HZ,
  SAMPLE_FORMATS,
  ERROR_CATALOG,
  encodePcm,
  type OutputKind,
  type OutputFraming,
  type SampleFormat,
  type ReadyMessage,
  type ResumedMessage,
  type SessionLimits,
  type InputAdjustments,
  type InputDroppedMessage as InputDroppedEvent,
  type VadMessage as VadEvent,
  type StatsMessage as StatsEvent,
  type DoneMessage as DoneEvent,
  type RtcStatsMessage as RtcStatsEvent,
  type ServerMessage,
  type ClientMessage,
} from './protocol/index.ts';
export { TypedEvents } from './events.ts';
export type { SocketLike, SocketFactory } from './socket.ts';
export {
  separateMediaStream,
  type SeparateMediaStreamOptions,
  type SeparatedMediaStreams,
  type RtcEvents,
} from './webrtc.ts';
export { streamAudioNode, type WorkletStreamOptions, type WorkletStream } from './worklet.ts';
