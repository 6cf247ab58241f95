/**
 * One WebRTC client as a session `Connection`: the session is the very one WebSocket clients get, driven through its
 * typed entry points — its `start`, the stats timer and DataChannel requests as typed messages, the decoded Opus
 * input as planar samples — and answering with typed messages and planar output, which this adapter turns into RTP
 * (output → paced Opus) and DataChannel events (ready, vad, stats, done, error). No WebSocket wire format is involved.
 *
 * Lifetime: ends when the session closes it (done/error), on DELETE, when the peer's ICE fails, when no input RTP
 * arrives for `stallTimeoutMs`, or when media never starts within `mediaStartTimeoutMs`. Every end path frees the
 * decoder, encoders, timers and the peer, and counts the reason.
 */
import { randomUUID } from 'node:crypto';
import type { RTCDataChannel, RtpPacket } from 'werift';
import { LivestemError, toLivestemError } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import type { OutputKind, ReadyMessage, RtcTransportStats, ServerMessage } from '../../../client-sdk/src/protocol/index.ts';
import { validateClientMessage, type ParsedClientMessage } from '../../protocol/messages.ts';
import type { Connection, ConnectionHandler, DeliveredOutput } from '../../session/connection.ts';
import { OPUS_RATE_HZ, type IngestStats, type OpusIngest } from './opus-ingest.ts';
import type { AnsweredPeer } from './rtc-peer.ts';
import { RtpPacer } from './rtp-pacer.ts';
import type { PeerEndReason, WebRtcMetrics } from './webrtc-metrics.ts';

export interface RtcStreamOptions {
  remoteAddress: string;
  metrics: WebRtcMetrics;
  log: Logger;
  stallTimeoutMs: number;
  mediaStartTimeoutMs: number;
  statsIntervalMs: number;
  onEnded(stream: RtcStream, reason: PeerEndReason): void;
}

const WATCHDOG_MS = 250;
const CLOSE_NOTICE_GRACE_MS = 200;
type RtcState = 'starting' | 'live' | 'ended';

export class RtcStream implements Connection {
  readonly id = randomUUID();
  readonly remoteAddress: string;
  readonly bufferedBytes = 0;
  readonly inputBackpressure = false;
  #opts: RtcStreamOptions;
  #handler: ConnectionHandler | undefined;
  #state: RtcState = 'starting';
  #ready: ReadyMessage | undefined;
  #readyWaiter: { resolve: (m: ReadyMessage) => void; reject: (e: LivestemError) => void } | undefined;
  #peer: AnsweredPeer<OutputKind> | undefined;
  #ingest: OpusIngest | undefined;
  #pacer: RtpPacer<OutputKind> | undefined;
  #channel: RTCDataChannel | undefined;
  #lastRtpAtMs: number | undefined;
  #liveSinceMs = 0;
  #watchdog: NodeJS.Timeout | undefined;
  #statsTimer: NodeJS.Timeout | undefined;
  #countedIngest: IngestStats | undefined;
  #countedPacer = { sentPackets: 0, underrunFrames: 0, droppedFrames: 0, lateSlots: 0, trimmedFrames: 0 };
  #ended: Promise<PeerEndReason>;
  #resolveEnded!: (reason: PeerEndReason) => void;

  constructor(opts: RtcStreamOptions) {
    this.#opts = opts;
    this.remoteAddress = opts.remoteAddress;
    this.#ended = new Promise((resolve) => {
      this.#resolveEnded = resolve;
    });
  }

  get sessionReady(): ReadyMessage | undefined {
    return this.#ready;
  }

  get state(): RtcState {
    return this.#state;
  }

  /** Resolves with the reason once everything is freed. */
  get ended(): Promise<PeerEndReason> {
    return this.#ended;
  }

  bind(handler: ConnectionHandler | undefined): void {
    this.#handler = handler;
  }

  /**
   * Sends the bound session its `start` (the offer's choices, validated like a WebSocket client's, at Opus's 48 kHz
   * stereo) and resolves with `ready` (or rejects with the session's error).
   */
  start(start: Record<string, unknown>): Promise<ReadyMessage> {
    const handler = this.#handler;
    if (handler === undefined) return Promise.reject(new LivestemError('LIVESTEM_ERR_INTERNAL', 'no session bound to this WebRTC stream'));
    const ready = new Promise<ReadyMessage>((resolve, reject) => {
      this.#readyWaiter = { resolve, reject };
    });
    try {
      handler.onMessage(validateClientMessage({ ...start, type: 'start', sampleRateHz: OPUS_RATE_HZ, channels: 2, format: 'f32le', outputFormat: 'f32le' }));
    } catch (err) {
      handler.onTransportError(toLivestemError(err));
    }
    return ready;
  }

  /** Wires the answered peer: input RTP → decoder → session; session output → pacer; events → DataChannel. */
  attach(peer: AnsweredPeer<OutputKind>, ingest: OpusIngest): void {
    if (this.#state !== 'starting') {
      ingest.free();
      void peer.pc.close();
      return;
    }
    this.#state = 'live';
    this.#peer = peer;
    this.#ingest = ingest;
    this.#pacer = new RtpPacer(peer.outputTracks);
    this.#liveSinceMs = performance.now();
    this.#opts.metrics.peersStarted.inc();
    this.#opts.metrics.peersActive.inc();
    peer.onInputRtp((rtp) => this.#onRtp(rtp));
    peer.onDataChannel((dc) => this.#onDataChannel(dc));
    peer.pc.connectionStateChange.subscribe((state) => {
      if (state === 'failed' || state === 'closed') this.end('ice-failed');
    });
    this.#watchdog = setInterval(() => this.#checkMedia(), WATCHDOG_MS);
    this.#statsTimer = setInterval(() => this.#handler?.onMessage({ type: 'stats' }), this.#opts.statsIntervalMs);
  }

  /** Ends from our side (DELETE, stall, ICE failure, shutdown): the session drops its tail and is released. */
  end(reason: PeerEndReason): void {
    if (this.#state === 'ended') return;
    const handler = this.#handler;
    this.#handler = undefined;
    if (handler !== undefined) {
      // `end` then loss of transport = client finished: the session is released now, not kept for a resume.
      if (this.#ready !== undefined) handler.onMessage({ type: 'end' });
      handler.onClose();
    }
    this.#teardown(reason);
  }

  // ---- Connection (session → client) ----

  sendMessage(msg: ServerMessage): void {
    if (msg.type === 'ready') {
      this.#ready = msg;
      this.#readyWaiter?.resolve(msg);
      this.#readyWaiter = undefined;
      return;
    }
    if (msg.type === 'error' && this.#readyWaiter !== undefined) {
      this.#readyWaiter.reject(new LivestemError(msg.code, msg.message));
      this.#readyWaiter = undefined;
      return;
    }
    if (msg.type === 'stats') {
      this.#sendEvent({ ...msg, rtc: this.#rtcStats() });
      return;
    }
    this.#sendEvent(msg);
  }

  /** Each kind to its own paced Opus track; the VAD as a DataChannel event (WebRTC has one framing only). */
  sendOutput(output: DeliveredOutput): void {
    for (const s of output.streams) this.#pacer?.push(s.kind, s.samples);
    if (output.vad) this.#sendEvent(output.vad);
  }

  close(code: number, reason: string): void {
    if (this.#state === 'ended') return;
    this.#opts.log.debug('webrtc session closed by session', { code, reason });
    this.#handler = undefined;
    this.#readyWaiter?.reject(new LivestemError('LIVESTEM_ERR_INTERNAL', `session closed before ready (${code} ${reason})`));
    this.#readyWaiter = undefined;
    this.#teardown(code === 1000 || code === 1001 ? 'done' : 'session-error');
  }

  /**
   * RTP arrives at the peer's real-time pace and cannot be paused (`inputBackpressure` is false): a session that falls
   * behind drops its oldest input instead, reports `input-dropped` on the DataChannel and catches up.
   */
  pauseInput(): void {}
  resumeInput(): void {}

  // ---- media ----

  #onRtp(rtp: RtpPacket): void {
    const ingest = this.#ingest;
    const handler = this.#handler;
    if (ingest === undefined || handler === undefined) return;
    this.#lastRtpAtMs = performance.now();
    for (const chunk of ingest.push(rtp.header.sequenceNumber, rtp.payload)) {
      handler.onAudio(chunk);
      if (this.#handler === undefined) break; // the session failed on this chunk
    }
    this.#syncCounters();
  }

  #checkMedia(): void {
    const now = performance.now();
    if (this.#lastRtpAtMs === undefined) {
      if (now - this.#liveSinceMs > this.#opts.mediaStartTimeoutMs) this.end('no-media');
    } else if (now - this.#lastRtpAtMs > this.#opts.stallTimeoutMs) {
      this.end('stalled');
    }
  }

  #onDataChannel(dc: RTCDataChannel): void {
    if (dc.label !== 'events') return;
    this.#channel = dc;
    const greet = (): void => {
      if (this.#ready !== undefined) this.#sendEvent({ ...this.#ready, outputMids: Object.fromEntries(this.#peer?.outputMids ?? []) });
    };
    if (dc.readyState === 'open') greet();
    else dc.stateChange.subscribe((state) => state === 'open' && greet());
    dc.onMessage.subscribe((data) => this.#onChannelMessage(String(data)));
  }

  /** Client → server over the DataChannel: vocal level, stats and ping only (tracks are fixed by the SDP). */
  #onChannelMessage(text: string): void {
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      this.#sendEvent({ type: 'error', code: 'LIVESTEM_ERR_BAD_MESSAGE', message: 'DataChannel message is not JSON', retryable: false });
      return;
    }
    const type = (msg as { type?: unknown } | null)?.type;
    const allowed = type === 'stats' || type === 'ping' || (type === 'configure' && !('outputs' in (msg as object)));
    if (!allowed) {
      this.#sendEvent({
        type: 'error',
        code: 'LIVESTEM_ERR_BAD_MESSAGE',
        message: 'over WebRTC the DataChannel accepts configure {vocalGain}, stats and ping (outputs are fixed by the SDP)',
        retryable: false,
      });
      return;
    }
    const handler = this.#handler;
    if (handler === undefined) return;
    // Validated here, once, with the session's own schema: an invalid request fails the session as it would on a socket.
    let message: ParsedClientMessage;
    try {
      message = validateClientMessage(msg);
    } catch (err) {
      handler.onTransportError(toLivestemError(err));
      return;
    }
    handler.onMessage(message);
  }

  #sendEvent(event: object): void {
    const dc = this.#channel;
    if (dc === undefined || dc.readyState !== 'open') return;
    dc.send(JSON.stringify(event));
  }

  #rtcStats(): RtcTransportStats {
    const ingest = this.#ingest?.stats;
    const pacer = this.#pacer?.stats;
    return {
      packetsReceived: ingest?.received ?? 0,
      packetsConcealed: ingest?.concealedPackets ?? 0,
      packetsLate: ingest?.late ?? 0,
      packetsReordered: ingest?.reordered ?? 0,
      packetsSent: pacer?.sentPackets ?? 0,
      underrunFrames: pacer?.underrunFrames ?? 0,
      droppedFrames: pacer?.droppedFrames ?? 0,
      pacerQueuedMs: pacer?.queuedMs ?? 0,
      outputSlots: pacer?.slots ?? 0,
      lateFrames: pacer?.lateSlots ?? 0,
      trimmedFrames: pacer?.trimmedFrames ?? 0,
      pacerWaitMs: { mean: round1(pacer?.waitMs.mean ?? 0), max: round1(pacer?.waitMs.max ?? 0) },
    };
  }

  #syncCounters(): void {
    const m = this.#opts.metrics;
    const ingest = this.#ingest?.stats;
    if (ingest !== undefined) {
      const prev = this.#countedIngest;
      m.rtpPacketsReceived.inc(ingest.received - (prev?.received ?? 0));
      m.rtpPacketsLate.inc(ingest.late - (prev?.late ?? 0));
      m.rtpPacketsReordered.inc(ingest.reordered - (prev?.reordered ?? 0));
      m.rtpPacketsConcealed.inc({ cause: 'lost' }, ingest.missing - (prev?.missing ?? 0));
      m.rtpPacketsConcealed.inc({ cause: 'undecodable' }, ingest.decodeErrors - (prev?.decodeErrors ?? 0));
      this.#countedIngest = ingest;
    }
    const pacer = this.#pacer?.stats;
    if (pacer !== undefined) {
      m.rtpPacketsSent.inc(pacer.sentPackets - this.#countedPacer.sentPackets);
      m.egressUnderrunFrames.inc(pacer.underrunFrames - this.#countedPacer.underrunFrames);
      m.egressDroppedFrames.inc(pacer.droppedFrames - this.#countedPacer.droppedFrames);
      m.egressLateFrames.inc(pacer.lateSlots - this.#countedPacer.lateSlots);
      m.egressTrimmedFrames.inc(pacer.trimmedFrames - this.#countedPacer.trimmedFrames);
      const { sentPackets, underrunFrames, droppedFrames, lateSlots, trimmedFrames } = pacer;
      this.#countedPacer = { sentPackets, underrunFrames, droppedFrames, lateSlots, trimmedFrames };
    }
  }

  #teardown(reason: PeerEndReason): void {
    const wasLive = this.#state === 'live';
    this.#state = 'ended';
    clearInterval(this.#watchdog);
    clearInterval(this.#statsTimer);
    this.#syncCounters();
    const notified = reason !== 'done' && reason !== 'session-error' && this.#channel?.readyState === 'open';
    if (notified) this.#sendEvent({ type: 'closed', reason });
    this.#pacer?.stop();
    this.#ingest?.free();
    const pc = this.#peer?.pc;
    this.#pacer = undefined;
    this.#ingest = undefined;
    this.#peer = undefined;
    this.#channel = undefined;
    if (wasLive) {
      this.#opts.metrics.peersActive.dec();
      this.#opts.metrics.peersEnded.inc({ reason });
    }
    this.#opts.log.info('webrtc peer ended', { reason, streamId: this.id });
    this.#opts.onEnded(this, reason);
    // SCTP sends asynchronously: give the `closed` notice a moment to leave before the association goes away.
    const grace = notified ? new Promise<void>((resolve) => setTimeout(resolve, CLOSE_NOTICE_GRACE_MS)) : Promise.resolve();
    const closing = grace.then(() => pc?.close());
    closing.then(
      () => this.#resolveEnded(reason),
      (err: unknown) => {
        this.#opts.log.warn('peer close failed', { err });
        this.#resolveEnded(reason);
      },
    );
  }
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}
