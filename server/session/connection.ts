/**
 * What a session needs from a transport, and what a transport calls on the session side. Sessions never see a
 * socket or a wire format: they hand a transport typed messages and planar output, and each transport encodes them
 * its own way (WebSocket: JSON text + binary frames or bundles; WebRTC: DataChannel events + Opus over RTP).
 * A connection delivers its events to whichever handler is bound — resume moves a live connection from a placeholder
 * session to the resumed one.
 */
import type { LivestemError } from '../errors.ts';
import type { OutputFraming, OutputKind, SampleFormat, ServerMessage, VadMessage } from '../../client-sdk/src/protocol/index.ts';
import type { ParsedClientMessage } from '../protocol/messages.ts';

/** `ip:port` → `ip`: a client reconnecting from new ports is still one client (log throttling is keyed by it). */
export function remoteHost(remoteAddress: string | undefined): string {
  return (remoteAddress ?? '?').replace(/:\d+$/, '');
}

/** One output interval as the client asked for it: the requested kinds, planar, over the same offsets. */
export interface DeliveredOutput {
  sampleOffset: number;
  sampleCount: number;
  streams: Array<{ kind: OutputKind; samples: Float32Array[] }>;
  vad: VadMessage | undefined;
}

/** The session's negotiated output encoding, for transports that encode binary output. */
export interface OutputWire {
  format: SampleFormat;
  sampleRateHz: number;
  channels: number;
  framing: OutputFraming;
  /** Sequence numbers are the session's (they continue across a resume onto a new connection). */
  nextSequence(): number;
}

export interface Connection {
  readonly id: string;
  readonly remoteAddress: string;
  /** Routes this connection's events to `handler` (undefined: drop them). */
  bind(handler: ConnectionHandler | undefined): void;
  sendMessage(message: ServerMessage): void;
  /** Output audio and the VAD of its hops, in the session's wire encoding where the transport has one. */
  sendOutput(output: DeliveredOutput, wire: OutputWire): void;
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
  /** A text message as received (the session rate-limits before parsing it). */
  onText(text: string): void;
  /** Binary audio as received, in the session's negotiated input format. */
  onBinary(bytes: Uint8Array): void;
  /** A message a transport already has in typed form (WebRTC: its own start, DataChannel requests, stats timer). */
  onMessage(message: ParsedClientMessage): void;
  /** Planar input audio a transport decoded itself (WebRTC: Opus), at the negotiated input rate and channels. */
  onAudio(samples: Float32Array[]): void;
  /** A transport-level violation (e.g. message over the size limit), mapped to the catalog by the adapter. */
  onTransportError(error: LivestemError): void;
  /** The transport is gone (closed by either side or lost). */
  onClose(): void;
  /** Some queued output was written to the OS. */
  onSendDrained(): void;
}
