/**
 * Browser helper: separate a live MediaStream over WebRTC. One offer carries the input track (sendonly), one
 * recvonly audio transceiver per requested output and the `events` DataChannel; the server answers WHIP-style
 * (`POST /v1/webrtc`, 201 + Location). Outputs come back as real MediaStreams you can play or record; VAD and stats
 * arrive as typed events on the DataChannel.
 */
import { LivestemClientError, isServerErrorCode } from './errors.ts';
import { TypedEvents } from './events.ts';
import type { ConfiguredMessage, DoneMessage, OutputKind, RtcReadyMessage, RtcStatsMessage, VadMessage } from './protocol/index.ts';

export interface SeparateMediaStreamOptions {
  /** Server base URL, e.g. `http://localhost:8080` (ws:// is accepted too). */
  url: string;
  token?: string;
  model?: string;
  /**
   * `'karaoke'`: one track carrying accompaniment + `vocalGain` · vocals, mixed on the server (`setVocalGain` changes
   * it live). It cannot drift: use it whenever the user hears a mix. `'stems'` (the default): a vocals and an
   * accompaniment track. Each track has its own jitter buffer in the browser, so the two are NOT sample-aligned (they
   * can be several ms to tens of ms apart, and it varies): adding them in the page does not reproduce the input.
   * Ignored when `outputs` is given.
   */
  mode?: 'karaoke' | 'stems';
  /** Explicit outputs, in transceiver order; overrides `mode`. */
  outputs?: OutputKind[];
  vocalGain?: number;
  iceServers?: RTCIceServer[];
  /** Wait at most this long for ICE gathering before sending the offer. Default 2 s. */
  gatherTimeoutMs?: number;
}

export interface RtcEvents {
  ready: RtcReadyMessage;
  vad: VadMessage;
  stats: RtcStatsMessage;
  done: DoneMessage;
  error: LivestemClientError;
  /** The server ended the stream (`reason`: deleted, stalled, ice-failed, no-media, shutdown) or the peer closed. */
  close: { reason: string };
  configured: Omit<ConfiguredMessage, 'type'>;
}

export interface SeparatedMediaStreams {
  vocals: MediaStream | undefined;
  accompaniment: MediaStream | undefined;
  karaoke: MediaStream | undefined;
  /** Output streams by kind, in the order requested. */
  streams: Map<OutputKind, MediaStream>;
  events: TypedEvents<RtcEvents>;
  pc: RTCPeerConnection;
  /** Resource URL returned by the server (DELETE ends the stream). */
  resourceUrl: string;
  setVocalGain(vocalGain: number): void;
  /** Ends the stream on the server (DELETE) and closes the peer. Idempotent. */
  close(): Promise<void>;
}

/** Chromium decodes Opus as mono unless the offer asks for stereo on its own fmtp line. */
export function preferStereoOpus(sdp: string): string {
  const pt = /a=rtpmap:(\d+) opus\/48000\/2/i.exec(sdp)?.[1];
  if (pt === undefined) return sdp;
  return sdp.replace(new RegExp(`a=fmtp:${pt} ([^\\r\\n]*)`, 'g'), (line: string, params: string) =>
    params.includes('stereo=1') ? line : `a=fmtp:${pt} ${params};stereo=1;sprop-stereo=1`,
  );
}

function httpBase(url: string): string {
  const u = new URL(url);
  if (u.protocol === 'ws:') u.protocol = 'http:';
  if (u.protocol === 'wss:') u.protocol = 'https:';
  u.pathname = '/';
  u.search = '';
  return u.toString().replace(/\/$/, '');
}

async function gathered(pc: RTCPeerConnection, timeoutMs: number): Promise<void> {
  if (pc.iceGatheringState === 'complete') return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    pc.addEventListener('icegatheringstatechange', () => {
      if (pc.iceGatheringState === 'complete') {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}

async function httpError(res: Response): Promise<LivestemClientError> {
  let body: { error?: { code?: unknown; message?: string; retryable?: boolean } } = {};
  try {
    body = (await res.json()) as typeof body;
  } catch (err) {
    return new LivestemClientError('LIVESTEM_CLIENT_PROTOCOL', `HTTP ${res.status} without a JSON error body`, { status: res.status, cause: err });
  }
  const code = body.error?.code;
  const message = body.error?.message ?? `HTTP ${res.status}`;
  if (!isServerErrorCode(code)) return new LivestemClientError('LIVESTEM_CLIENT_PROTOCOL', message, { status: res.status });
  return new LivestemClientError(code, message, { status: res.status, ...(body.error?.retryable === undefined ? {} : { retryable: body.error.retryable }) });
}

export async function separateMediaStream(stream: MediaStream, opts: SeparateMediaStreamOptions): Promise<SeparatedMediaStreams> {
  const input = stream.getAudioTracks()[0];
  if (input === undefined) throw new LivestemClientError('LIVESTEM_CLIENT_BAD_ARGUMENT', 'the MediaStream has no audio track');
  const outputs = opts.outputs ?? (opts.mode === 'karaoke' ? ['karaoke'] : ['vocals', 'accompaniment']);
  const pc = new RTCPeerConnection({ iceServers: opts.iceServers ?? [] });
  const events = new TypedEvents<RtcEvents>();
  const channel = pc.createDataChannel('events');
  pc.addTransceiver(input, { direction: 'sendonly', streams: [stream] });
  const receivers = outputs.map(() => pc.addTransceiver('audio', { direction: 'recvonly' }));

  const streams = new Map<OutputKind, MediaStream>();

  const offer = await pc.createOffer();
  await pc.setLocalDescription({ type: 'offer', sdp: preferStereoOpus(offer.sdp ?? '') });
  await gathered(pc, opts.gatherTimeoutMs ?? 2000);

  const base = httpBase(opts.url);
  const query = new URLSearchParams({ outputs: outputs.join(',') });
  if (opts.model !== undefined) query.set('model', opts.model);
  if (opts.vocalGain !== undefined) query.set('vocalGain', String(opts.vocalGain));
  const headers: Record<string, string> = { 'content-type': 'application/sdp' };
  if (opts.token !== undefined) headers['authorization'] = `Bearer ${opts.token}`;
  let res: Response;
  try {
    res = await fetch(`${base}/v1/webrtc?${query.toString()}`, { method: 'POST', headers, body: pc.localDescription?.sdp ?? '' });
  } catch (err) {
    pc.close();
    throw new LivestemClientError('LIVESTEM_CLIENT_CONNECTION_FAILED', `POST /v1/webrtc failed: ${(err as Error).message}`, { cause: err });
  }
  if (res.status !== 201) {
    pc.close();
    throw await httpError(res);
  }
  const location = res.headers.get('location') ?? '';
  const resourceUrl = new URL(location, `${base}/`).toString();
  await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
  // werift puts every output track in one msid stream: one MediaStream per receiving transceiver instead.
  outputs.forEach((kind, i) => streams.set(kind, new MediaStream([receivers[i]!.receiver.track])));

  // One `close` per stream, with the first reason: the server's notice, `done`, or the caller's own close().
  let closeReason: string | undefined;
  const finish = (reason: string): void => {
    if (closeReason !== undefined) return;
    closeReason = reason;
    pc.close();
    events.emit('close', { reason });
    events.endIterators();
  };
  let closing: Promise<void> | undefined;

  channel.addEventListener('message', (ev: MessageEvent) => {
    const msg = JSON.parse(String(ev.data)) as { type: string } & Record<string, unknown>;
    switch (msg.type) {
      case 'ready':
        events.emit('ready', msg as unknown as RtcEvents['ready']);
        return;
      case 'vad':
        events.emit('vad', msg as unknown as VadMessage);
        return;
      case 'stats':
        events.emit('stats', msg as unknown as RtcStatsMessage);
        return;
      case 'done':
        events.emit('done', msg as unknown as DoneMessage);
        finish('done');
        return;
      case 'configured':
        events.emit('configured', msg as unknown as RtcEvents['configured']);
        return;
      case 'closed':
        // A `deleted` notice that answers our own close() is reported as that close.
        if (closing === undefined) finish((msg as { reason?: string }).reason ?? 'closed');
        return;
      case 'error': {
        const e = msg as { code?: unknown; message?: string; retryable?: boolean };
        events.emit(
          'error',
          isServerErrorCode(e.code)
            ? new LivestemClientError(e.code, e.message ?? e.code, e.retryable === undefined ? {} : { retryable: e.retryable })
            : new LivestemClientError('LIVESTEM_CLIENT_PROTOCOL', e.message ?? 'unknown error'),
        );
        return;
      }
      default:
        return;
    }
  });

  const close = (): Promise<void> =>
    (closing ??= (async () => {
      try {
        // The resource URL is the capability: DELETE needs no credentials (and a single-use token is spent anyway).
        if (closeReason === undefined) await fetch(resourceUrl, { method: 'DELETE' });
      } finally {
        finish('client closed');
      }
    })());
  pc.addEventListener('connectionstatechange', () => {
    if (pc.connectionState === 'failed') {
      events.emit('error', new LivestemClientError('LIVESTEM_CLIENT_CONNECTION_FAILED', 'WebRTC connection failed'));
      close().catch((err: unknown) =>
        events.emit('error', new LivestemClientError('LIVESTEM_CLIENT_CONNECTION_FAILED', 'DELETE of the stream failed', { cause: err })),
      );
    }
  });

  return {
    vocals: streams.get('vocals'),
    accompaniment: streams.get('accompaniment'),
    karaoke: streams.get('karaoke'),
    streams,
    events,
    pc,
    resourceUrl,
    setVocalGain(vocalGain: number): void {
      if (!Number.isFinite(vocalGain) || vocalGain < 0 || vocalGain > 1) {
        throw new LivestemClientError('LIVESTEM_CLIENT_BAD_ARGUMENT', `vocalGain ${vocalGain} is not in [0, 1]`);
      }
      if (channel.readyState === 'open') channel.send(JSON.stringify({ type: 'configure', vocalGain }));
    },
    close,
  };
}
