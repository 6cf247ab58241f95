/**
 * WebRTC signalling (WHIP-style): `POST /v1/webrtc` with an SDP offer (`application/sdp`) → `201` with the answer and
 * `Location: /v1/webrtc/<id>`; `DELETE` on that resource ends the stream. The same exchange is available as a
 * function (`offer`) for the WebSocket control channel. Each accepted offer becomes an `RtcStream` holding a normal
 * session from `openSession`, so WebRTC clients get the same engine, limits, admission and metrics as WebSocket ones.
 *
 * Start options come as query parameters (`model`, `outputs=vocals,accompaniment`, `vocalGain`), auth as
 * `Authorization: Bearer` or `?token=`, exactly like the WebSocket stream.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import type { AccessPolicy } from '../../auth/access-policy.ts';
import { ERROR_CATALOG, LivestemError, toLivestemError } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import type { Metrics } from '../../metrics/metrics.ts';
import { errorMessage, OUTPUT_KINDS, type ErrorMessage, type OutputKind } from '../../protocol/messages.ts';
import type { Connection } from '../../session/connection.ts';
import { OpusIngest } from './opus-ingest.ts';
import { answerOffer, DEFAULT_ICE, type IceOptions } from './rtc-peer.ts';
import { RtcStream } from './rtc-stream.ts';
import { inspectOffer } from './sdp-offer.ts';
import { WebRtcMetrics, type PeerEndReason } from './webrtc-metrics.ts';

export const WEBRTC_PATH = '/v1/webrtc';
const MAX_OFFER_BYTES = 64 * 1024;

export interface WebRtcGatewayOptions {
  /** Creates a session bound to `connection` (the session registry's entry point for any transport). */
  openSession(connection: Connection): void;
  access: AccessPolicy;
  metrics: Metrics;
  log: Logger;
  ice?: Partial<IceOptions>;
  /** No input RTP for this long → the peer is gone: session ended and freed. Default 5 s. */
  stallTimeoutMs?: number;
  /** No input RTP at all this long after the answer → ended. Default 15 s. */
  mediaStartTimeoutMs?: number;
  /** Stats pushed on the `events` DataChannel this often. Default 1 s. */
  statsIntervalMs?: number;
}

export interface OfferRequest {
  sdp: string;
  /** Query-style start options: model, outputs (comma list), vocalGain. */
  params: URLSearchParams;
  authorization: string | undefined;
  origin: string | undefined;
  remoteAddress: string;
  /** The caller already authenticated this client (an open, admitted WebSocket control channel). */
  preauthorized?: boolean;
}

/** Offer over an existing WebSocket control channel (the same exchange as POST /v1/webrtc). */
export const webrtcOfferMessageSchema = z.strictObject({
  type: z.literal('webrtc-offer'),
  sdp: z.string().min(1).max(64 * 1024),
  model: z.string().min(1).max(64).optional(),
  outputs: z.array(z.enum(OUTPUT_KINDS)).min(1).max(3).optional(),
  vocalGain: z.number().min(0).max(1).optional(),
});

export interface WebRtcAnswerMessage {
  type: 'webrtc-answer';
  sdp: string;
  /** DELETE this path (or close the control channel) to end the stream. */
  resource: string;
  outputMids: Record<string, string>;
}

export interface OfferAnswer {
  id: string;
  sdp: string;
  location: string;
  /** mid of the transceiver that carries each output. */
  outputMids: Record<string, string>;
}

function parseOutputs(value: string | null): OutputKind[] {
  if (value === null || value === '') return ['vocals', 'accompaniment'];
  const list = value.split(',').map((s) => s.trim());
  for (const kind of list) {
    if (!(OUTPUT_KINDS as readonly string[]).includes(kind)) {
      throw new LivestemError('LIVESTEM_ERR_BAD_MESSAGE', `outputs: "${kind}" is not one of ${OUTPUT_KINDS.join(', ')}`);
    }
  }
  return list as OutputKind[];
}

function startOptions(params: URLSearchParams, outputs: OutputKind[]): Record<string, unknown> {
  const start: Record<string, unknown> = { outputs };
  const model = params.get('model');
  if (model !== null && model !== '') start['model'] = model;
  const gain = params.get('vocalGain');
  if (gain !== null && gain !== '') start['vocalGain'] = Number(gain);
  return start;
}

export class WebRtcGateway {
  readonly metrics: WebRtcMetrics;
  readonly #opts: WebRtcGatewayOptions;
  readonly #ice: IceOptions;
  readonly #streams = new Map<string, RtcStream>();

  constructor(opts: WebRtcGatewayOptions) {
    this.#opts = opts;
    this.#ice = { ...DEFAULT_ICE, ...opts.ice };
    this.metrics = new WebRtcMetrics(opts.metrics.registry);
  }

  get activeStreams(): number {
    return this.#streams.size;
  }

  stream(id: string): RtcStream | undefined {
    return this.#streams.get(id);
  }

  /** Offer → answer. Throws a LivestemError whose httpStatus the caller reports. */
  async offer(request: OfferRequest): Promise<OfferAnswer> {
    try {
      return await this.#offer(request);
    } catch (err) {
      const error = toLivestemError(err);
      this.metrics.signallingErrors.inc({ code: error.code });
      if (error.code === 'LIVESTEM_ERR_INTERNAL') this.#opts.log.error('webrtc offer failed', { err });
      throw error;
    }
  }

  /**
   * The control-channel form: one JSON text message in, the JSON reply out (`webrtc-answer`, or `error` with the
   * catalog code). For a WebSocket transport that routes `type: "webrtc-offer"` here instead of to its session.
   */
  async answerControlMessage(text: string, remoteAddress: string): Promise<WebRtcAnswerMessage | ErrorMessage> {
    try {
      let raw: unknown;
      try {
        raw = JSON.parse(text);
      } catch (err) {
        throw new LivestemError('LIVESTEM_ERR_BAD_MESSAGE', 'text frame is not valid JSON', { cause: err });
      }
      const parsed = webrtcOfferMessageSchema.safeParse(raw);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new LivestemError('LIVESTEM_ERR_BAD_MESSAGE', `invalid webrtc-offer at "${issue?.path.join('.') ?? ''}": ${issue?.message ?? 'unknown'}`);
      }
      const msg = parsed.data;
      const params = new URLSearchParams();
      if (msg.model !== undefined) params.set('model', msg.model);
      if (msg.outputs !== undefined) params.set('outputs', msg.outputs.join(','));
      if (msg.vocalGain !== undefined) params.set('vocalGain', String(msg.vocalGain));
      const answer = await this.offer({ sdp: msg.sdp, params, authorization: undefined, origin: undefined, remoteAddress, preauthorized: true });
      return { type: 'webrtc-answer', sdp: answer.sdp, resource: answer.location, outputMids: answer.outputMids };
    } catch (err) {
      return errorMessage(toLivestemError(err));
    }
  }

  async #offer(request: OfferRequest): Promise<OfferAnswer> {
    if (request.preauthorized !== true) {
      const access = this.#opts.access.checkStream({
        origin: request.origin,
        authorization: request.authorization,
        queryToken: request.params.get('token') ?? undefined,
      });
      if (!access.ok) throw new LivestemError(access.code, access.detail);
    }
    const outputs = parseOutputs(request.params.get('outputs'));
    const offer = inspectOffer(request.sdp, outputs.length);

    const stream = new RtcStream({
      remoteAddress: request.remoteAddress,
      metrics: this.metrics,
      log: this.#opts.log,
      stallTimeoutMs: this.#opts.stallTimeoutMs ?? 5000,
      mediaStartTimeoutMs: this.#opts.mediaStartTimeoutMs ?? 15_000,
      statsIntervalMs: this.#opts.statsIntervalMs ?? 1000,
      onEnded: (s) => this.#streams.delete(s.id),
    });
    this.#opts.openSession(stream);
    await stream.start(startOptions(request.params, outputs));
    let ingest: OpusIngest | undefined;
    try {
      ingest = await OpusIngest.create();
      const peer = await answerOffer(request.sdp, offer, outputs, this.#ice);
      this.#streams.set(stream.id, stream);
      stream.attach(peer, ingest);
      return {
        id: stream.id,
        sdp: peer.answerSdp,
        location: `${WEBRTC_PATH}/${stream.id}`,
        outputMids: Object.fromEntries(peer.outputMids),
      };
    } catch (err) {
      ingest?.free();
      stream.end('session-error');
      throw err;
    }
  }

  /** Ends one stream (DELETE). Returns false when no such stream is live. */
  delete(id: string): boolean {
    const stream = this.#streams.get(id);
    if (stream === undefined) return false;
    stream.end('deleted');
    return true;
  }

  /** Ends every stream (server shutdown) and waits until all peers are closed. */
  async close(reason: PeerEndReason = 'shutdown'): Promise<void> {
    const streams = [...this.#streams.values()];
    for (const s of streams) s.end(reason);
    await Promise.all(streams.map((s) => s.ended));
  }

  /** HTTP routes under /v1/webrtc. Returns false for other paths so the caller can route them. */
  async handleHttp(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== WEBRTC_PATH && !url.pathname.startsWith(`${WEBRTC_PATH}/`)) return false;
    try {
      if (req.method === 'OPTIONS') {
        res.writeHead(204, corsHeaders(req)).end();
      } else if (url.pathname === WEBRTC_PATH && req.method === 'POST') {
        await this.#post(req, res, url);
      } else if (url.pathname.startsWith(`${WEBRTC_PATH}/`) && req.method === 'DELETE') {
        const found = this.delete(url.pathname.slice(WEBRTC_PATH.length + 1));
        if (!found) throw new LivestemError('LIVESTEM_ERR_UNKNOWN_SESSION', 'no live WebRTC stream with this id');
        res.writeHead(200, corsHeaders(req)).end();
      } else {
        throw new LivestemError('LIVESTEM_ERR_NOT_FOUND', `${req.method} ${url.pathname}: use POST ${WEBRTC_PATH} or DELETE ${WEBRTC_PATH}/<id>`);
      }
    } catch (err) {
      sendError(req, res, toLivestemError(err));
    }
    return true;
  }

  async #post(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/sdp') {
      req.resume();
      throw new LivestemError('LIVESTEM_ERR_UNSUPPORTED_FORMAT', `Content-Type must be application/sdp (got "${type || 'none'}")`);
    }
    const sdp = await readBody(req, MAX_OFFER_BYTES);
    const answer = await this.offer({
      sdp,
      params: url.searchParams,
      authorization: req.headers.authorization,
      origin: req.headers.origin,
      remoteAddress: req.socket.remoteAddress ?? 'unknown',
    });
    res.writeHead(201, {
      ...corsHeaders(req),
      'content-type': 'application/sdp',
      location: answer.location,
      'x-livestem-output-mids': JSON.stringify(answer.outputMids),
    });
    res.end(answer.sdp);
  }
}

function corsHeaders(req: IncomingMessage): Record<string, string> {
  if (req.headers.origin === undefined) return {};
  return {
    'access-control-allow-origin': req.headers.origin,
    'access-control-allow-methods': 'POST, DELETE, OPTIONS',
    'access-control-allow-headers': 'authorization, content-type',
    'access-control-expose-headers': 'location, x-livestem-output-mids',
  };
}

function sendError(req: IncomingMessage, res: ServerResponse, error: LivestemError): void {
  const status = ERROR_CATALOG[error.code].httpStatus;
  if (res.headersSent) {
    res.destroy(error);
    return;
  }
  res.writeHead(status, { ...corsHeaders(req), 'content-type': 'application/json' });
  res.end(JSON.stringify({ error: { code: error.code, message: error.message, retryable: error.retryable } }));
}

function readBody(req: IncomingMessage, maxBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        reject(new LivestemError('LIVESTEM_ERR_PAYLOAD_TOO_LARGE', `SDP offer over ${maxBytes} bytes`));
        req.destroy();
        return;
      }
      parts.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}
