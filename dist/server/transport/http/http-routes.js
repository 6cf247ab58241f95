import { LivestemError, toLivestemError } from "../../errors.js";
import { truncateForEcho, truncateText } from "../../text-bounds.js";
import { parseRequestTarget } from "./request-target.js";
const MAX_BODY_BYTES = 4096;
function sendJson(res, status, body, headers = {}) {
    const text = JSON.stringify(body);
    res.writeHead(status, { ...headers, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
    res.end(text);
}
function sendError(res, error) {
    // Bounded as a backstop: a detail that quotes client input must not turn into a large response.
    // A 401 names the scheme it wants (RFC 9110 §11.6.1).
    const headers = error.code === 'LIVESTEM_ERR_UNAUTHORIZED' ? { 'www-authenticate': 'Bearer realm="livestem"' } : {};
    sendJson(res, error.httpStatus, { error: { code: error.code, message: truncateText(error.message), retryable: error.retryable } }, headers);
}
/** Origin allow-list, then the API key itself (never a token); throws the catalog error. */
function requireApiKey(req, deps) {
    const origin = deps.access.checkOrigin(req.headers.origin);
    const key = origin.ok ? deps.access.checkApiKey(req.headers.authorization) : origin;
    if (!key.ok)
        throw new LivestemError(key.code, key.detail);
}
async function readBody(req) {
    const chunks = [];
    let size = 0;
    for await (const chunk of req) {
        size += chunk.length;
        if (size > MAX_BODY_BYTES)
            throw new LivestemError('LIVESTEM_ERR_PAYLOAD_TOO_LARGE', `request body over ${MAX_BODY_BYTES} bytes`);
        chunks.push(chunk);
    }
    return Buffer.concat(chunks).toString('utf8');
}
async function mintToken(req, res, deps) {
    requireApiKey(req, deps);
    const body = (await readBody(req)).trim();
    let ttlMs = deps.tokenTtlMs;
    if (body !== '') {
        let parsed;
        try {
            parsed = JSON.parse(body);
        }
        catch (err) {
            throw new LivestemError('LIVESTEM_ERR_BAD_MESSAGE', 'body is not JSON', { cause: err });
        }
        const requested = parsed?.ttlMs;
        if (requested !== undefined) {
            if (typeof requested !== 'number' || !Number.isInteger(requested) || requested < 1000 || requested > deps.tokenTtlMs) {
                throw new LivestemError('LIVESTEM_ERR_BAD_MESSAGE', `ttlMs must be an integer in [1000, ${deps.tokenTtlMs}]`);
            }
            ttlMs = requested;
        }
    }
    const minted = deps.access.tokens.mint(ttlMs);
    sendJson(res, 201, { token: minted.token, expiresAt: new Date(minted.expiresAtMs).toISOString(), ttlMs: minted.ttlMs });
}
export function createHttpHandler(deps) {
    const route = async (req, res) => {
        const target = parseRequestTarget(req.url);
        if (target === undefined) {
            // Not logged: anyone can send these, and they say nothing about the server's health.
            throw new LivestemError('LIVESTEM_ERR_BAD_MESSAGE', 'malformed request target: only origin-form /path?query is served');
        }
        const path = target.pathname;
        const method = req.method ?? 'GET';
        const is = (m, p) => method === m && path === p;
        if (is('GET', '/healthz'))
            return sendJson(res, 200, { status: 'ok' });
        if (is('GET', '/readyz')) {
            const reason = deps.notReadyReason();
            const body = { status: reason ? 'not-ready' : 'ready' };
            // Open for probes, which only need the status code; why not ready and the load are for key holders (with no
            // key configured, that is everyone — as for /metrics).
            if (deps.access.checkApiKey(req.headers.authorization).ok)
                Object.assign(body, reason ? { reason } : {}, deps.status());
            return sendJson(res, reason ? 503 : 200, body);
        }
        if (is('GET', '/metrics')) {
            requireApiKey(req, deps);
            const { contentType, body } = await deps.metrics.render();
            res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' });
            res.end(body);
            return;
        }
        if (is('GET', '/v1/models')) {
            requireApiKey(req, deps);
            return sendJson(res, 200, { models: deps.models() });
        }
        if (is('POST', '/v1/tokens'))
            return mintToken(req, res, deps);
        if (path === '/v1/stream') {
            res.writeHead(426, { upgrade: 'websocket', 'content-type': 'text/plain' });
            res.end('use a WebSocket client: GET /v1/stream with Upgrade: websocket\n');
            return;
        }
        const code = 'LIVESTEM_ERR_NOT_FOUND';
        sendError(res, new LivestemError(code, `no route ${truncateForEcho(method)} ${truncateForEcho(path)}`));
    };
    return (req, res) => {
        route(req, res).catch((err) => {
            // The client went away mid-request (aborted body, reset): nobody to answer, and not a server fault.
            if (req.destroyed && !(err instanceof LivestemError)) {
                res.destroy();
                return;
            }
            const error = toLivestemError(err);
            if (error.code === 'LIVESTEM_ERR_INTERNAL')
                deps.log.error('http route failed', { err, url: req.url });
            if (res.headersSent)
                res.destroy(error);
            else
                sendError(res, error);
        });
    };
}
//# sourceMappingURL=http-routes.js.map