/**
 * WebRTC signalling (WHIP-style): `POST /v1/webrtc` with an SDP offer (`application/sdp`) → `201` with the answer and
 * `Location: /v1/webrtc/<resource>`; `DELETE` on that resource ends the stream. The same exchange is available as a
 * function (`offer`) for the WebSocket control channel. Each accepted offer becomes an `RtcStream` holding a normal
 * session from `openSession`, so WebRTC clients get the same engine, limits, admission and metrics as WebSocket ones.
 *
 * Start options come as query parameters (`model`, `outputs=vocals,accompaniment`, `vocalGain`), auth as
 * `Authorization: Bearer` or `?token=`, exactly like the WebSocket stream. The resource in the Location is a random
 * bearer secret (DELETE needs nothing else); logs and metrics only ever see the stream's internal id.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { LivestemError, toLivestemError } from "../../errors.js";
import { OUTPUT_KINDS } from "../../../client-sdk/src/protocol/index.js";
import { errorMessage } from "../../protocol/messages.js";
import { truncateForEcho, truncateText } from "../../text-bounds.js";
import { parseRequestTarget } from "../http/request-target.js";
import { OpusIngest } from "./opus-ingest.js";
import { answerOffer, DEFAULT_ICE } from "./rtc-peer.js";
import { RtcStream } from "./rtc-stream.js";
import { inspectOffer, OFFER_LIMITS } from "./sdp-offer.js";
import { WebRtcMetrics } from "./webrtc-metrics.js";
export const WEBRTC_PATH = '/v1/webrtc';
/** 24 random bytes: 192 bits, far beyond guessing, 32 base64url characters. */
const RESOURCE_BYTES = 24;
const RESOURCE_SEGMENT = /^[A-Za-z0-9_-]{1,128}$/;
/** Whole error messages are cut to this; sites that quote client input cut it to far less (`truncateForEcho`). */
const MAX_ERROR_MESSAGE_CHARS = 240;
/** Offer over an existing WebSocket control channel (the same exchange as POST /v1/webrtc). */
export const webrtcOfferMessageSchema = z.strictObject({
    type: z.literal('webrtc-offer'),
    // No max here: inspectOffer measures UTF-8 bytes and answers PAYLOAD_TOO_LARGE like the HTTP route.
    sdp: z.string().min(1),
    model: z.string().min(1).max(64).exactOptional(),
    outputs: z.array(z.enum(OUTPUT_KINDS)).min(1).max(3).exactOptional(),
    vocalGain: z.number().min(0).max(1).exactOptional(),
});
/** Compile-time: the schema accepts exactly the shared protocol type. */
const offerSchemaMatchesProtocol = true;
void offerSchemaMatchesProtocol;
/**
 * Claims every target whose raw path is under /v1/webrtc, malformed ones included: deciding on a normalised path
 * instead would let `/v1/webrtc/..` be claimed by one matcher and declined by the other, leaving it unanswered.
 */
export function webrtcTarget(rawUrl) {
    const raw = rawUrl ?? '';
    const rawPath = raw.split('?', 1)[0];
    if (rawPath !== WEBRTC_PATH && !rawPath.startsWith(`${WEBRTC_PATH}/`))
        return undefined;
    const parsed = parseRequestTarget(raw);
    if (parsed === undefined)
        return { malformed: true, resource: undefined, query: new URLSearchParams() };
    const resource = parsed.pathname === WEBRTC_PATH ? undefined : parsed.pathname.slice(WEBRTC_PATH.length + 1);
    return { malformed: resource !== undefined && !RESOURCE_SEGMENT.test(resource), resource, query: parsed.searchParams };
}
function parseOutputs(value) {
    if (value === null || value === '')
        return ['vocals', 'accompaniment'];
    const list = value.split(',').map((s) => s.trim());
    for (const kind of list) {
        if (!OUTPUT_KINDS.includes(kind)) {
            throw new LivestemError('LIVESTEM_ERR_BAD_MESSAGE', `outputs: "${truncateForEcho(kind, 20)}" is not one of ${OUTPUT_KINDS.join(', ')}`);
        }
    }
    return list;
}
function startOptions(params, outputs) {
    const start = { outputs };
    const model = params.get('model');
    if (model !== null && model !== '')
        start['model'] = model;
    const gain = params.get('vocalGain');
    if (gain !== null && gain !== '')
        start['vocalGain'] = Number(gain);
    return start;
}
/** Catalog error with a bounded message, whatever produced it. */
function bounded(err) {
    const error = toLivestemError(err);
    return error.message.length <= MAX_ERROR_MESSAGE_CHARS ? error : new LivestemError(error.code, truncateText(error.message, MAX_ERROR_MESSAGE_CHARS), { cause: error });
}
export class WebRtcGateway {
    metrics;
    #opts;
    #ice;
    #streams = new Map();
    /** Resource secret → stream. Kept apart from `#streams` so the secret never needs to appear with the id. */
    #resources = new Map();
    constructor(opts) {
        this.#opts = opts;
        this.#ice = { ...DEFAULT_ICE, ...opts.ice };
        this.metrics = new WebRtcMetrics(opts.metrics.registry);
    }
    get activeStreams() {
        return this.#streams.size;
    }
    /** By internal id. */
    stream(id) {
        return this.#streams.get(id);
    }
    /** Offer → answer. Throws a LivestemError whose httpStatus the caller reports. */
    async offer(request) {
        try {
            return await this.#offer(request);
        }
        catch (err) {
            throw this.#failed(err);
        }
    }
    /**
     * The control-channel form: one JSON text message in, the JSON reply out (`webrtc-answer`, or `error` with the
     * catalog code). For a WebSocket transport that routes `type: "webrtc-offer"` here instead of to its session.
     */
    async answerControlMessage(text, remoteAddress) {
        try {
            let raw;
            try {
                raw = JSON.parse(text);
            }
            catch (err) {
                throw new LivestemError('LIVESTEM_ERR_BAD_MESSAGE', 'text frame is not valid JSON', { cause: err });
            }
            const parsed = webrtcOfferMessageSchema.safeParse(raw);
            if (!parsed.success) {
                const issue = parsed.error.issues[0];
                throw new LivestemError('LIVESTEM_ERR_BAD_MESSAGE', `invalid webrtc-offer at "${truncateForEcho(issue?.path.join('.') ?? '', 30)}": ${truncateForEcho(issue?.message ?? 'unknown', 100)}`);
            }
            const msg = parsed.data;
            const params = new URLSearchParams();
            if (msg.model !== undefined)
                params.set('model', msg.model);
            if (msg.outputs !== undefined)
                params.set('outputs', msg.outputs.join(','));
            if (msg.vocalGain !== undefined)
                params.set('vocalGain', String(msg.vocalGain));
            const answer = await this.#offer({ sdp: msg.sdp, params, authorization: undefined, origin: undefined, remoteAddress, preauthorized: true });
            return { type: 'webrtc-answer', sdp: answer.sdp, resource: answer.location, outputMids: answer.outputMids };
        }
        catch (err) {
            return errorMessage(this.#failed(err));
        }
    }
    /** Every signalling failure passes here once: bounded, counted, internal ones logged. */
    #failed(err) {
        const error = bounded(err);
        this.metrics.signallingErrors.inc({ code: error.code });
        if (error.code === 'LIVESTEM_ERR_INTERNAL')
            this.#opts.log.error('webrtc offer failed', { err });
        return error;
    }
    async #offer(request) {
        if (request.preauthorized !== true) {
            const access = this.#opts.access.checkStream({
                origin: request.origin,
                authorization: request.authorization,
                queryToken: request.params.get('token') ?? undefined,
            });
            if (!access.ok)
                throw new LivestemError(access.code, truncateForEcho(access.detail, 100));
        }
        const outputs = parseOutputs(request.params.get('outputs'));
        // Limits, BUNDLE and fingerprint first: nothing below runs for an offer that fails them.
        const offer = inspectOffer(request.sdp, outputs.length);
        const resource = randomBytes(RESOURCE_BYTES).toString('base64url');
        const stream = new RtcStream({
            remoteAddress: request.remoteAddress,
            metrics: this.metrics,
            log: this.#opts.log,
            stallTimeoutMs: this.#opts.stallTimeoutMs ?? 5000,
            mediaStartTimeoutMs: this.#opts.mediaStartTimeoutMs ?? 15_000,
            statsIntervalMs: this.#opts.statsIntervalMs ?? 1000,
            onEnded: (s) => {
                this.#streams.delete(s.id);
                this.#resources.delete(resource);
            },
        });
        this.#opts.openSession(stream);
        await stream.start(startOptions(request.params, outputs));
        let ingest;
        try {
            ingest = await OpusIngest.create();
            const peer = await answerOffer(request.sdp, offer, outputs, this.#ice);
            this.#streams.set(stream.id, stream);
            this.#resources.set(resource, stream);
            stream.attach(peer, ingest);
            this.#opts.log.info('webrtc offer answered', { streamId: stream.id, remoteAddress: request.remoteAddress, outputs });
            return {
                id: stream.id,
                sdp: peer.answerSdp,
                location: `${WEBRTC_PATH}/${resource}`,
                outputMids: Object.fromEntries(peer.outputMids),
            };
        }
        catch (err) {
            ingest?.free();
            stream.end('session-error');
            throw err;
        }
    }
    /** Ends one stream (DELETE) by its resource secret (the last segment of the Location). False when none is live. */
    delete(resource) {
        const stream = this.#resources.get(resource);
        if (stream === undefined)
            return false;
        stream.end('deleted');
        return true;
    }
    /** Ends every stream (server shutdown) and waits until all peers are closed. */
    async close(reason = 'shutdown') {
        const streams = [...this.#streams.values()];
        for (const s of streams)
            s.end(reason);
        await Promise.all(streams.map((s) => s.ended));
    }
    /** HTTP routes under /v1/webrtc. Returns false for other paths so the caller can route them; never rejects. */
    async handleHttp(req, res) {
        const target = webrtcTarget(req.url);
        if (target === undefined)
            return false;
        try {
            if (target.malformed) {
                throw new LivestemError('LIVESTEM_ERR_BAD_MESSAGE', `malformed request target: use ${WEBRTC_PATH} or ${WEBRTC_PATH}/<resource>`);
            }
            if (target.resource === undefined && req.method === 'POST') {
                await this.#post(req, res, target.query);
                return true;
            }
            this.#checkOrigin(req);
            if (req.method === 'OPTIONS') {
                res.writeHead(204, this.#headers(req)).end();
            }
            else if (target.resource !== undefined && req.method === 'DELETE') {
                if (!this.delete(target.resource))
                    throw new LivestemError('LIVESTEM_ERR_UNKNOWN_SESSION', 'no live WebRTC stream at this resource');
                res.writeHead(200, this.#headers(req)).end();
            }
            else {
                throw new LivestemError('LIVESTEM_ERR_NOT_FOUND', `${truncateForEcho(req.method ?? '', 10)} on this path: use POST ${WEBRTC_PATH} or DELETE ${WEBRTC_PATH}/<resource>`);
            }
        }
        catch (err) {
            const error = bounded(err);
            if (res.headersSent) {
                res.destroy(error);
            }
            else {
                const challenge = error.code === 'LIVESTEM_ERR_UNAUTHORIZED' ? { 'www-authenticate': 'Bearer realm="livestem"' } : {};
                res.writeHead(error.httpStatus, { ...this.#headers(req), ...challenge, 'content-type': 'application/json' });
                res.end(JSON.stringify({ error: { code: error.code, message: error.message, retryable: error.retryable } }));
            }
        }
        return true;
    }
    /** First on every route, so that a disallowed page gets neither CORS headers nor any other answer. */
    #checkOrigin(req) {
        const origin = req.headers.origin;
        if (origin !== undefined && !this.#opts.access.checkOrigin(origin).ok) {
            throw new LivestemError('LIVESTEM_ERR_ORIGIN_NOT_ALLOWED', `Origin ${truncateForEcho(origin)} is not allowed`);
        }
    }
    /** Origin and credentials, then headers, then the body (bounded in size and time), then the offer. */
    async #post(req, res, query) {
        try {
            this.#checkOrigin(req);
            const access = this.#opts.access.checkStream({
                origin: req.headers.origin,
                authorization: req.headers.authorization,
                queryToken: query.get('token') ?? undefined,
            });
            if (!access.ok)
                throw new LivestemError(access.code, truncateForEcho(access.detail, 100));
            const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
            if (type !== 'application/sdp') {
                throw new LivestemError('LIVESTEM_ERR_UNSUPPORTED_FORMAT', `Content-Type must be application/sdp (got "${truncateForEcho(type, 40) || 'none'}")`);
            }
            const declaredBytes = Number(req.headers['content-length'] ?? 0);
            if (declaredBytes > OFFER_LIMITS.maxBytes) {
                throw new LivestemError('LIVESTEM_ERR_PAYLOAD_TOO_LARGE', `SDP offer is ${declaredBytes} bytes; the limit is ${OFFER_LIMITS.maxBytes} bytes`);
            }
            const sdp = await readBody(req, OFFER_LIMITS.maxBytes, this.#opts.bodyTimeoutMs ?? 10_000);
            const answer = await this.#offer({
                sdp,
                params: query,
                authorization: req.headers.authorization,
                origin: req.headers.origin,
                remoteAddress: req.socket.remoteAddress ?? 'unknown',
                preauthorized: true,
            });
            res.writeHead(201, {
                ...this.#headers(req),
                'content-type': 'application/sdp',
                location: answer.location,
                'x-livestem-output-mids': JSON.stringify(answer.outputMids),
            });
            res.end(answer.sdp);
        }
        catch (err) {
            throw this.#failed(err);
        }
    }
    /** CORS for allowed origins only; `connection: close` while a request body is unread, so it is never read. */
    #headers(req) {
        const headers = {};
        if (bodyUnread(req))
            headers['connection'] = 'close';
        const origin = req.headers.origin;
        if (origin === undefined || !this.#opts.access.checkOrigin(origin).ok)
            return headers;
        return {
            ...headers,
            'access-control-allow-origin': origin,
            vary: 'Origin',
            'access-control-allow-methods': 'POST, DELETE, OPTIONS',
            'access-control-allow-headers': 'authorization, content-type',
            'access-control-expose-headers': 'location, x-livestem-output-mids',
        };
    }
}
function bodyUnread(req) {
    const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
    return hasBody && !req.readableEnded;
}
/** The body as UTF-8, or a catalog error once it passes `maxBytes`, takes longer than `timeoutMs` or is cut off. */
function readBody(req, maxBytes, timeoutMs) {
    return new Promise((resolve, reject) => {
        const parts = [];
        let bytes = 0;
        const settle = (error) => {
            clearTimeout(timer);
            req.off('data', onData).off('end', onEnd).off('error', onCut).off('close', onCut);
            if (error === undefined)
                return resolve(Buffer.concat(parts).toString('utf8'));
            req.pause(); // the error response carries `connection: close`: the rest is never read
            reject(error);
        };
        const onData = (chunk) => {
            bytes += chunk.length;
            if (bytes > maxBytes)
                settle(new LivestemError('LIVESTEM_ERR_PAYLOAD_TOO_LARGE', `SDP offer is over the limit of ${maxBytes} bytes`));
            else
                parts.push(chunk);
        };
        const onEnd = () => settle();
        const onCut = () => settle(new LivestemError('LIVESTEM_ERR_BAD_MESSAGE', 'request body ended before it was complete'));
        const timer = setTimeout(() => settle(new LivestemError('LIVESTEM_ERR_IDLE_TIMEOUT', `SDP offer body not received within ${timeoutMs} ms`)), timeoutMs);
        req.on('data', onData).on('end', onEnd).on('error', onCut).on('close', onCut);
    });
}
//# sourceMappingURL=webrtc-gateway.js.map