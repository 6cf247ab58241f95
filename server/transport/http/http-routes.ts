/**
 * The HTTP side of the server: health, readiness, metrics, model list and token minting. Errors use the catalog:
 * status from the table, body {"error":{code,message,retryable}}.
 *
 * Auth per route (when LIVESTEM_API_KEY is set): /healthz and /readyz stay open for probes (the /readyz body shows
 * only `status` unless the caller sends the key); /metrics, /v1/models and POST /v1/tokens need the API key itself
 * in `Authorization: Bearer` (a minted token is not the key and is not consumed here: tokens are single-session
 * stream credentials). No route sets CORS headers: browsers only call them same-origin (the demo page).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AccessPolicy } from '../../auth/access-policy.ts';
import { LivestemError, toLivestemError, type ErrorCode } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import type { Metrics } from '../../metrics/metrics.ts';
import { truncateForEcho, truncateText } from '../../text-bounds.ts';
import { parseRequestTarget } from './request-target.ts';

export interface ModelListing {
  name: string;
  arch: string;
  sampleRateHz: number;
  nFft: number;
  hopSamples: number;
  latencySamples: number;
  default: boolean;
}

export interface HttpRouteDeps {
  metrics: Metrics;
  access: AccessPolicy;
  log: Logger;
  tokenTtlMs: number;
  models(): ModelListing[];
  /** undefined when ready, else why not. */
  notReadyReason(): string | undefined;
  status(): Record<string, unknown>;
}

const MAX_BODY_BYTES = 4096;

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

function sendError(res: ServerResponse, error: LivestemError): void {
  // Bounded as a backstop: a detail that quotes client input must not turn into a large response.
  // A 401 names the scheme it wants (RFC 9110 §11.6.1).
  const headers: Record<string, string> = error.code === 'LIVESTEM_ERR_UNAUTHORIZED' ? { 'www-authenticate': 'Bearer realm="livestem"' } : {};
  sendJson(res, error.httpStatus, { error: { code: error.code, message: truncateText(error.message), retryable: error.retryable } }, headers);
}

/** Origin allow-list, then the API key itself (never a token); throws the catalog error. */
function requireApiKey(req: IncomingMessage, deps: HttpRouteDeps): void {
  const origin = deps.access.checkOrigin(req.headers.origin);
  const key = origin.ok ? deps.access.checkApiKey(req.headers.authorization) : origin;
  if (!key.ok) throw new LivestemError(key.code, key.detail);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new LivestemError('LIVESTEM_ERR_PAYLOAD_TOO_LARGE', `request body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function mintToken(req: IncomingMessage, res: ServerResponse, deps: HttpRouteDeps): Promise<void> {
  requireApiKey(req, deps);
  const body = (await readBody(req)).trim();
  let ttlMs = deps.tokenTtlMs;
  if (body !== '') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch (err) {
      throw new LivestemError('LIVESTEM_ERR_BAD_MESSAGE', 'body is not JSON', { cause: err });
    }
    const requested = (parsed as { ttlMs?: unknown } | null)?.ttlMs;
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

export function createHttpHandler(deps: HttpRouteDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const target = parseRequestTarget(req.url);
    if (target === undefined) {
      // Not logged: anyone can send these, and they say nothing about the server's health.
      throw new LivestemError('LIVESTEM_ERR_BAD_MESSAGE', 'malformed request target: only origin-form /path?query is served');
    }
    const path = target.pathname;
    const method = req.method ?? 'GET';
    const is = (m: string, p: string): boolean => method === m && path === p;
    if (is('GET', '/healthz')) return sendJson(res, 200, { status: 'ok' });
    if (is('GET', '/readyz')) {
      const reason = deps.notReadyReason();
      const body: Record<string, unknown> = { status: reason ? 'not-ready' : 'ready' };
      // Open for probes, which only need the status code; why not ready and the load are for key holders (with no
      // key configured, that is everyone — as for /metrics).
      if (deps.access.checkApiKey(req.headers.authorization).ok) Object.assign(body, reason ? { reason } : {}, deps.status());
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
    if (is('POST', '/v1/tokens')) return mintToken(req, res, deps);
    if (path === '/v1/stream') {
      res.writeHead(426, { upgrade: 'websocket', 'content-type': 'text/plain' });
      res.end('use a WebSocket client: GET /v1/stream with Upgrade: websocket\n');
      return;
    }
    const code: ErrorCode = 'LIVESTEM_ERR_NOT_FOUND';
    sendError(res, new LivestemError(code, `no route ${truncateForEcho(method)} ${truncateForEcho(path)}`));
  };
  return (req, res) => {
    route(req, res).catch((err: unknown) => {
      // The client went away mid-request (aborted body, reset): nobody to answer, and not a server fault.
      if (req.destroyed && !(err instanceof LivestemError)) {
        res.destroy();
        return;
      }
      const error = toLivestemError(err);
      if (error.code === 'LIVESTEM_ERR_INTERNAL') deps.log.error('http route failed', { err, url: req.url });
      if (res.headersSent) res.destroy(error);
      else sendError(res, error);
    });
  };
}
