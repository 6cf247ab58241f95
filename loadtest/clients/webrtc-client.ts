/**
 * `LoadSession` over WebRTC from Node (werift): WHIP-style `POST /v1/webrtc` with an offer carrying one sendonly Opus
 * track (the song, 48 kHz stereo, 20 ms packets), one recvonly track per output and the `events` DataChannel (ready,
 * stats, pong). Output packets are decoded and located in the sent input by content (ContentAligner), which gives
 * each 20 ms output packet its input offset: latency and continuity are then measured exactly as over WebSocket.
 */
import { OpusDecoder } from 'opus-decoder';
import { MediaStreamTrack, RTCPeerConnection, RtpHeader, RtpPacket, type RTCDataChannel, type RTCRtpTransceiver } from 'werift';
import type { ServerMessage } from '../../client-sdk/src/protocol/index.ts';
import { OpusFrameEncoder } from '../../server/transport/webrtc/opus-egress.ts';
import { ContentAligner, type AlignMatch } from './content-aligner.ts';
import { authHeaders, LoadClientError, type Clock, type Connector, type LoadSession, type SessionDone, type SessionHandlers, type SessionReady } from './types.ts';

export const WEBRTC_RATE_HZ = 48000;
export const WEBRTC_PACKET_SAMPLES = 960;
const READY_TIMEOUT_MS = 15_000;
/** After the last input packet, how long to keep receiving before hanging up (the tail is still in flight). */
const TAIL_MS = 600;

function sumOf(x: Float32Array, y: Float32Array): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = x[i]! + y[i]!;
  return out;
}

export function webrtcUrlFor(streamUrl: string): string {
  const u = new URL(streamUrl);
  u.protocol = u.protocol === 'wss:' ? 'https:' : 'http:';
  u.pathname = '/v1/webrtc';
  u.search = '';
  return u.toString();
}

interface Lane {
  kind: string;
  decoder: OpusDecoder<48000>;
  firstTimestamp: number | null;
  lastSequence: number | null;
  /** Decoded packets (mono) waiting for their partner on the other lane, by slot. */
  pending: Map<number, { mono: Float32Array; recvMs: number }>;
  maxSlot: number;
}

/** Most packets a lane holds while waiting for the other lane (beyond this the oldest is given up). */
const MAX_PENDING = 50;

class WebRtcLoadSession implements LoadSession {
  readonly transport = 'webrtc' as const;
  readonly closed: Promise<LoadClientError | null>;
  private resolveClosed: (e: LoadClientError | null) => void = () => undefined;
  private readonly encoder = new OpusFrameEncoder();
  private sequence = Math.floor(Math.random() * 0x8000);
  private timestamp = 0;
  private pingId = 0;
  private readonly pingSentMs = new Map<number, number>();
  private lastStats: Extract<ServerMessage, { type: 'stats' }> | null = null;
  private ended = false;
  private failure: LoadClientError | null = null;
  /** Lane-1 slot minus lane-0 slot of the packets that belong together (see pair()). */
  private laneSkew = 0;
  /** Send time of every input packet, in order: how much input existed at a given time. */
  private readonly inputSendMs: number[] = [];
  lostPackets = 0;
  /** Lane-0 packets given up: silence (underrun fillers) or no partner that sums to sent input. */
  unpairedPackets = 0;

  constructor(
    private readonly pc: RTCPeerConnection,
    private readonly dc: RTCDataChannel,
    private readonly mic: MediaStreamTrack,
    readonly ready: SessionReady,
    private readonly location: string,
    private readonly lanes: Lane[],
    private readonly aligner: ContentAligner,
    private readonly handlers: SessionHandlers,
    private readonly clock: Clock,
  ) {
    this.closed = new Promise((r) => (this.resolveClosed = r));
    pc.connectionStateChange.subscribe((state) => {
      if (state === 'failed') this.resolveClosed(new LoadClientError('LOADTEST_WEBRTC_FAILED', 'ICE/DTLS connection failed'));
      if (state === 'closed') this.resolveClosed(this.ended ? null : new LoadClientError('LOADTEST_CONNECTION_CLOSED', 'peer closed'));
    });
  }

  onEvent(msg: ServerMessage): void {
    if (msg.type === 'pong' && typeof msg.id === 'number') {
      const sent = this.pingSentMs.get(msg.id);
      if (sent !== undefined) {
        this.pingSentMs.delete(msg.id);
        this.handlers.onPong(this.clock() - sent);
      }
    } else if (msg.type === 'stats') {
      this.lastStats = msg;
    } else if (msg.type === 'error') {
      this.failure ??= new LoadClientError(msg.code, msg.message);
      this.resolveClosed(this.failure);
    }
  }

  onRtp(lane: Lane, rtp: RtpPacket, recvMs: number): void {
    if (lane.lastSequence !== null) {
      const gap = (rtp.header.sequenceNumber - lane.lastSequence - 1) & 0xffff;
      if (gap > 0 && gap < 1000) this.lostPackets += gap;
    }
    lane.lastSequence = rtp.header.sequenceNumber;
    lane.firstTimestamp ??= rtp.header.timestamp;
    const slot = ((rtp.header.timestamp - lane.firstTimestamp) >>> 0) / WEBRTC_PACKET_SAMPLES;
    const decoded = lane.decoder.decodeFrame(rtp.payload).channelData;
    const left = decoded[0];
    if (left === undefined || left.length !== WEBRTC_PACKET_SAMPLES) return;
    const right = decoded[1] ?? left;
    const mono = new Float32Array(WEBRTC_PACKET_SAMPLES);
    for (let i = 0; i < WEBRTC_PACKET_SAMPLES; i++) mono[i] = 0.5 * (left[i]! + right[i]!);
    lane.pending.set(slot, { mono, recvMs });
    lane.maxSlot = Math.max(lane.maxSlot, slot);
    this.pair();
  }

  /** Input samples sent at or before `timeMs`. */
  private samplesSentBy(timeMs: number): number {
    const times = this.inputSendMs;
    let lo = 0;
    let hi = times.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (times[mid]! <= timeMs) lo = mid + 1;
      else hi = mid;
    }
    return lo * WEBRTC_PACKET_SAMPLES;
  }

  /**
   * Pairs each vocals packet with the accompaniment packet of the same content. The server paces each track from its
   * own queue, so an underrun on one track (silence sent) shifts it against the other by whole packets: the partner
   * is found by trying nearby slots, and a pairing counts only when the sum is a copy of sent input.
   */
  private pair(): void {
    const [a, b] = this.lanes as [Lane, Lane];
    for (const n of [...a.pending.keys()].sort((x, y) => x - y)) {
      const pa = a.pending.get(n)!;
      const skews = [this.laneSkew, this.laneSkew + 1, this.laneSkew - 1, this.laneSkew + 2, this.laneSkew - 2];
      let waiting = false;
      let best: { skew: number; match: AlignMatch; pb: { recvMs: number } } | null = null;
      for (const skew of skews) {
        const pb = b.pending.get(n + skew);
        if (pb === undefined) {
          if (n + skew > b.maxSlot) waiting = true;
          continue;
        }
        const match = this.aligner.locate(sumOf(pa.mono, pb.mono), false, this.samplesSentBy(Math.min(pa.recvMs, pb.recvMs)));
        // the best-correlating partner wins: where the vocals are near silent every partner looks plausible, so
        // the first acceptable one could be the wrong one; the current pairing keeps ties
        if (match !== null && (best === null || match.correlation > best.match.correlation + 0.002)) best = { skew, match, pb };
      }
      if (best === null && !waiting) {
        // lost track (or a jump): one full search, for the current pairing only (it is costly)
        const pb = b.pending.get(n + this.laneSkew);
        const match = pb === undefined ? null : this.aligner.locate(sumOf(pa.mono, pb.mono), true, this.samplesSentBy(Math.min(pa.recvMs, pb.recvMs)));
        if (pb !== undefined && match !== null) best = { skew: this.laneSkew, match, pb };
      }
      const paired = best !== null && !(waiting && best.skew !== this.laneSkew);
      if (best !== null && paired) {
        this.aligner.accept(best.match);
        a.pending.delete(n);
        b.pending.delete(n + best.skew);
        this.laneSkew = best.skew;
        // the packet pair is input [offset, offset + 960): report it as an output frame at that offset
        this.handlers.onOutputFrame(
          { kind: 'webrtc', sequence: n, sampleOffset: Math.max(0, best.match.offset), sampleCount: WEBRTC_PACKET_SAMPLES, sampleRateHz: WEBRTC_RATE_HZ },
          Math.max(pa.recvMs, best.pb.recvMs),
        );
      }
      if (paired) continue;
      if (waiting && a.pending.size <= MAX_PENDING) break; // its partner may still arrive: keep order
      a.pending.delete(n);
      this.unpairedPackets += 1;
    }
    const oldestA = Math.min(...a.pending.keys(), a.maxSlot + 1);
    for (const slot of b.pending.keys()) if (slot < oldestA + this.laneSkew - 2) b.pending.delete(slot);
  }

  sendAudio(planar: Float32Array[]): number | null {
    if (this.ended || this.pc.connectionState === 'closed' || this.pc.connectionState === 'failed') return null;
    const left = planar[0]!;
    const right = planar[1] ?? left;
    if (left.length !== WEBRTC_PACKET_SAMPLES) throw new RangeError(`WebRTC sends ${WEBRTC_PACKET_SAMPLES}-sample packets, got ${left.length}`);
    const mono = new Float32Array(WEBRTC_PACKET_SAMPLES);
    for (let i = 0; i < mono.length; i++) mono[i] = 0.5 * (left[i]! + right[i]!);
    this.aligner.pushInput(mono);
    const payload = this.encoder.encode([left, right]);
    const t = this.clock();
    this.inputSendMs.push(t);
    this.mic.writeRtp(new RtpPacket(new RtpHeader({ payloadType: 111, sequenceNumber: this.sequence, timestamp: this.timestamp }), payload));
    this.sequence = (this.sequence + 1) & 0xffff;
    this.timestamp = (this.timestamp + WEBRTC_PACKET_SAMPLES) >>> 0;
    return t;
  }

  ping(): void {
    if (this.dc.readyState !== 'open') return;
    const id = ++this.pingId;
    this.pingSentMs.set(id, this.clock());
    this.dc.send(JSON.stringify({ type: 'ping', id }));
  }

  /** WebRTC has no `end`/`done` on the wire: receive the tail for a moment, read the last stats, then DELETE. */
  async end(timeoutMs: number): Promise<SessionDone> {
    if (this.dc.readyState === 'open') this.dc.send(JSON.stringify({ type: 'stats', id: 'final' }));
    await new Promise((r) => setTimeout(r, Math.min(TAIL_MS, timeoutMs)));
    this.ended = true;
    if (this.failure) throw this.failure;
    // no credentials: the resource URL is the capability (docs/protocol.md §7), and the key is sent nowhere it is not needed
    const res = await fetch(this.location, { method: 'DELETE', signal: AbortSignal.timeout(timeoutMs) });
    if (this.failure) throw this.failure;
    if (res.status !== 200) throw new LoadClientError('LOADTEST_WEBRTC_DELETE', `DELETE ${this.location} answered ${res.status}`);
    const s = this.lastStats;
    return {
      reason: 'end',
      inputSamples: s?.inputSamples ?? 0,
      outputSamples: s?.outputSamples ?? 0,
      frames: s?.frames ?? 0,
      lateFrames: s?.lateFrames ?? 0,
      durationMs: s?.uptimeMs ?? 0,
    };
  }

  close(): void {
    this.ended = true;
    this.encoder.delete();
    for (const lane of this.lanes) lane.decoder.free();
    void this.pc.close().then(() => this.resolveClosed(null));
  }
}

export const connectWebRtc: Connector = async (url, start, handlers, clock, auth) => {
  if (start.sampleRateHz !== WEBRTC_RATE_HZ || start.channels !== 2) {
    throw new LoadClientError('LOADTEST_BAD_ARGUMENT', `WebRTC streams are ${WEBRTC_RATE_HZ} Hz stereo`);
  }
  const outputs = start.outputs ?? ['vocals', 'accompaniment'];
  if (outputs.length !== 2 || !outputs.includes('vocals') || !outputs.includes('accompaniment')) {
    throw new LoadClientError('LOADTEST_BAD_ARGUMENT', 'WebRTC load sessions need outputs vocals + accompaniment (their sum is matched to the input)');
  }
  // max-bundle: a werift offerer otherwise keeps the unbundled m-lines' UDP sockets open after close()
  const pc = new RTCPeerConnection({ iceAdditionalHostAddresses: ['127.0.0.1'], iceUseIpv6: false, bundlePolicy: 'max-bundle' });
  const dc = pc.createDataChannel('events');
  const mic = new MediaStreamTrack({ kind: 'audio' });
  pc.addTransceiver(mic, { direction: 'sendonly' });
  const receivers: RTCRtpTransceiver[] = outputs.map(() => pc.addTransceiver('audio', { direction: 'recvonly' }));
  const lanes: Lane[] = [];
  // subscribed before negotiation so no track event is missed; packets before the session exists are not counted
  let session: WebRtcLoadSession | null = null;
  for (const [i, transceiver] of receivers.entries()) {
    const decoder = new OpusDecoder({ sampleRate: WEBRTC_RATE_HZ, channels: 2 });
    lanes.push({ kind: '', decoder, firstTimestamp: null, lastSequence: null, pending: new Map(), maxSlot: -1 });
    transceiver.onTrack.subscribe((track) => track.onReceiveRtp.subscribe((rtp) => session?.onRtp(lanes[i]!, rtp, clock())));
  }
  try {
    await Promise.all(lanes.map((l) => l.decoder.ready));
    await pc.setLocalDescription(await pc.createOffer());
    if (pc.iceGatheringState !== 'complete') await pc.iceGatheringStateChange.watch((s) => s === 'complete', 5000);
    const query = new URLSearchParams({ outputs: outputs.join(',') });
    if (start.model) query.set('model', start.model);
    const endpoint = webrtcUrlFor(url);
    const res = await fetch(`${endpoint}?${query}`, {
      method: 'POST',
      headers: { 'content-type': 'application/sdp', ...authHeaders(auth) },
      body: pc.localDescription!.sdp,
      signal: AbortSignal.timeout(READY_TIMEOUT_MS),
    });
    const body = await res.text();
    if (res.status !== 201) {
      let code = 'LOADTEST_WEBRTC_REFUSED';
      try {
        code = (JSON.parse(body) as { error: { code: string } }).error.code;
      } catch {
        // not the server's JSON error body: keep the generic code, the status is in the message
      }
      throw new LoadClientError(code, `POST ${endpoint} answered ${res.status}: ${body.slice(0, 200)}`);
    }
    const mids = JSON.parse(res.headers.get('x-livestem-output-mids') ?? '{}') as Record<string, string>;
    const location = new URL(res.headers.get('location') ?? '', endpoint).toString();
    await pc.setRemoteDescription({ type: 'answer', sdp: body });

    for (const [i, transceiver] of receivers.entries()) {
      const kind = Object.entries(mids).find(([, mid]) => mid === transceiver.mid)?.[0];
      if (kind === undefined) throw new LoadClientError('LOADTEST_WEBRTC_REFUSED', `answer maps no output to mid ${transceiver.mid}`);
      lanes[i]!.kind = kind;
    }
    const readyMsg = await new Promise<Extract<ServerMessage, { type: 'ready' }>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new LoadClientError('LOADTEST_CONNECT_TIMEOUT', `no ready on the events channel within ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS);
      const sub = dc.onMessage.subscribe((data) => {
        const msg = JSON.parse(String(data)) as ServerMessage;
        if (msg.type === 'ready') {
          clearTimeout(timer);
          sub.unSubscribe();
          resolve(msg);
        } else if (msg.type === 'error') {
          clearTimeout(timer);
          sub.unSubscribe();
          reject(new LoadClientError(msg.code, msg.message));
        }
      });
    });
    const ready: SessionReady = {
      sessionId: readyMsg.sessionId,
      modelName: readyMsg.model.name,
      algorithmicLatencyMs: readyMsg.latency.ms,
      outputSampleRateHz: WEBRTC_RATE_HZ,
      outputHopSamples: null,
      outputs,
    };
    const live = new WebRtcLoadSession(pc, dc, mic, ready, location, lanes, new ContentAligner(WEBRTC_PACKET_SAMPLES, 2 * WEBRTC_RATE_HZ), handlers, clock);
    dc.onMessage.subscribe((data) => live.onEvent(JSON.parse(String(data)) as ServerMessage));
    session = live;
    return live;
  } catch (err) {
    for (const lane of lanes) lane.decoder.free();
    await pc.close();
    throw err instanceof LoadClientError ? err : new LoadClientError('LOADTEST_CONNECTION_FAILED', (err as Error).message, { cause: err });
  }
};
