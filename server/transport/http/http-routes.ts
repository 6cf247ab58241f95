/**
 * The HTTP side of the server: health, readiness, metrics, model list and token minting. Errors use the catalog:
 * status from the table, body {"error":{code,message,retryable}}.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AccessPolicy } from '../../auth/access-policy.ts';
import { LivestemError, toLivestemError, type ErrorCode } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import type { Metrics } from '../../metrics/metrics.ts';

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

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

function sendError(res: ServerResponse, error: LivestemError): void {
  sendJson(res, error.httpStatus, { error: { code: error.code, message: error.message, retryable: error.retryable } });
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
  const origin = deps.access.checkOrigin(req.headers.origin);
  const key = origin.ok ? deps.access.checkApiKey(req.headers.authorization) : origin;
  if (!key.ok) throw new LivestemError(key.code, key.detail);
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
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const method = req.method ?? 'GET';
    const is = (m: string, p: string): boolean => method === m && path === p;
    if (is('GET', '/healthz')) return sendJson(res, 200, { status: 'ok' });
    if (is('GET', '/readyz')) {
      const reason = deps.notReadyReason();
      return sendJson(res, reason ? 503 : 200, { status: reason ? 'not-ready' : 'ready', ...(reason ? { reason } : {}), ...deps.status() });
    }
    if (is('GET', '/metrics')) {
      const { contentType, body } = await deps.metrics.render();
      res.writeHead(200, { 'content-type': contentType });
      res.end(body);
      return;
    }
    if (is('GET', '/v1/models')) return sendJson(res, 200, { models: deps.models() });
    if (is('POST', '/v1/tokens')) return mintToken(req, res, deps);
    if (path === '/v1/stream') {
      res.writeHead(426, { upgrade: 'websocket', 'content-type': 'text/plain' });
      res.end('use a WebSocket client: GET /v1/stream with Upgrade: websocket\n');
      return;
    }
    const code: ErrorCode = 'LIVESTEM_ERR_NOT_FOUND';
    sendError(res, new LivestemError(code, `no route ${method} ${path}`));
  };
  return (req, res) => {
    route(req, res).catch((err: unknown) => {
      const error = toLivestemError(err);
      if (error.code === 'LIVESTEM_ERR_INTERNAL') deps.log.error('http route failed', { err, url: req.url });
      if (res.headersSent) res.destroy(error);
      else sendError(res, error);
    });
  };
}
