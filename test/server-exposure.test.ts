/**
 * What the HTTP routes expose and to whom: auth per route (key-only routes never consume a token), /readyz detail
 * only for key holders, no CORS headers, and malformed request targets answered 400 (never 500, never logged),
 * checked with raw sockets because fetch normalises URLs before sending them.
 */
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { AccessPolicy } from '../server/auth/access-policy.ts';
import { createLogger } from '../server/log.ts';
import { Metrics } from '../server/metrics/metrics.ts';
import { createHttpHandler, type ModelListing } from '../server/transport/http/http-routes.ts';
import { parseRequestTarget } from '../server/transport/http/request-target.ts';
import { StreamClient, exportTestModel, startTestServer } from './helpers/server-harness.ts';

const KEY = 'exposure-test-key-0123456789';
const MODEL: ModelListing = { name: 'lstm', arch: 'lstm', sampleRateHz: 44100, nFft: 1024, hopSamples: 256, latencySamples: 768, default: true };

interface Running {
  base: string;
  port: number;
  access: AccessPolicy;
  logs: string[];
  setNotReady(reason: string | undefined): void;
  close(): Promise<void>;
}

async function serve(apiKey: string | undefined, allowedOrigins: string[] = []): Promise<Running> {
  const logs: string[] = [];
  const access = new AccessPolicy({ apiKey, allowedOrigins });
  let notReady: string | undefined;
  const handler = createHttpHandler({
    metrics: new Metrics(),
    access,
    log: createLogger({ level: 'debug', write: (line) => logs.push(line) }),
    tokenTtlMs: 60_000,
    models: () => [MODEL],
    notReadyReason: () => notReady,
    status: () => ({ sessions: 3, maxSessions: 4, load: 0.5 }),
  });
  const server: Server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    base: `http://127.0.0.1:${port}`,
    port,
    access,
    logs,
    setNotReady: (reason) => (notReady = reason),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** One raw HTTP/1.1 request with the target exactly as given; resolves with status and body. */
function rawRequest(port: number, method: string, target: string, extraHeaders = ''): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
      resolve({ status, body: text.slice(text.indexOf('\r\n\r\n') + 4) });
    });
    socket.write(`${method} ${target} HTTP/1.1\r\nHost: localhost\r\n${extraHeaders || 'Connection: close\r\n'}\r\n`);
  });
}

const MALFORMED = ['//', '//[', '///', '//%', '//:99999', '//evil.example/metrics', '/\\evil.example/x', '/\\[', '/v1/../metrics', '/%2e%2e/metrics', '/a/./b', '*', 'http://localhost/healthz', ''];

t.test('parseRequestTarget: origin-form only, never throws', async (t) => {
  for (const target of MALFORMED) t.equal(parseRequestTarget(target), undefined, JSON.stringify(target));
  t.equal(parseRequestTarget(undefined), undefined);
  t.equal(parseRequestTarget('/a b'), undefined, 'whitespace');
  t.equal(parseRequestTarget('/a#frag'), undefined, 'fragment');
  t.equal(parseRequestTarget('/a\u0000'), undefined, 'control character');
  const stream = parseRequestTarget('/v1/stream?token=a.b&model=lstm');
  t.equal(stream?.pathname, '/v1/stream');
  t.equal(stream?.searchParams.get('token'), 'a.b');
  t.equal(parseRequestTarget('/')?.pathname, '/');
  t.equal(parseRequestTarget('/%')?.pathname, '/%', 'a stray % is just an unknown path (404 later), not a crash');
  t.equal(parseRequestTarget('/x?t=%zz')?.searchParams.get('t'), '%zz', 'malformed escapes in the query stay literal');
  t.equal(parseRequestTarget('/a..b/.c')?.pathname, '/a..b/.c', 'dots inside a segment are fine');
  t.equal(parseRequestTarget(`/${'x'.repeat(100_000)}`)?.pathname.length, 100_001);
});

t.test('malformed request targets over a raw socket: 400 BAD_MESSAGE JSON, never 500, not logged', async (t) => {
  const server = await serve(KEY);
  t.teardown(() => server.close());
  // '' and absolute-form are left to Node's own parser; the rest reach the handler as sent.
  for (const target of MALFORMED.filter((x) => x !== '' && !x.startsWith('http'))) {
    const res = await rawRequest(server.port, 'GET', target);
    t.equal(res.status, 400, `GET ${target}`);
    t.match(JSON.parse(res.body), { error: { code: 'LIVESTEM_ERR_BAD_MESSAGE', retryable: false } }, `GET ${target} body`);
  }
  t.equal((await rawRequest(server.port, 'POST', '//')).status, 400, 'POST // too');
  t.same(server.logs, [], 'nothing logged for client mistakes');
  t.equal((await rawRequest(server.port, 'GET', '/%')).status, 404, 'a stray % is an unknown route');
  t.equal((await rawRequest(server.port, 'GET', '/healthz?x=%zz')).status, 200, 'malformed query escapes do not matter');
});

t.test('auth per route with a key configured', async (t) => {
  const server = await serve(KEY, ['https://app.example']);
  t.teardown(() => server.close());
  const bearer = (credential: string): Record<string, string> => ({ authorization: `Bearer ${credential}` });

  t.equal((await fetch(`${server.base}/healthz`)).status, 200, '/healthz open');
  const anonymousReady = await fetch(`${server.base}/readyz`);
  t.equal(anonymousReady.status, 200, '/readyz open');
  t.same(await anonymousReady.json(), { status: 'ready' }, 'only the status without the key');
  t.same(await (await fetch(`${server.base}/readyz`, { headers: bearer(KEY) })).json(), { status: 'ready', sessions: 3, maxSessions: 4, load: 0.5 });
  server.setNotReady('session limit 4 reached');
  const notReady = await fetch(`${server.base}/readyz`);
  t.equal(notReady.status, 503);
  t.same(await notReady.json(), { status: 'not-ready' }, 'the reason is not shown without the key');
  t.match(await (await fetch(`${server.base}/readyz`, { headers: bearer(KEY) })).json(), { status: 'not-ready', reason: 'session limit 4 reached' });
  server.setNotReady(undefined);

  for (const path of ['/metrics', '/v1/models']) {
    const none = await fetch(`${server.base}${path}`);
    t.equal(none.status, 401, `${path} without credentials`);
    t.equal(none.headers.get('www-authenticate'), 'Bearer realm="livestem"');
    t.match(await none.json(), { error: { code: 'LIVESTEM_ERR_UNAUTHORIZED', retryable: false } });
    t.equal((await fetch(`${server.base}${path}`, { headers: bearer(`${KEY}x`) })).status, 401, `${path} wrong key`);
    t.equal((await fetch(`${server.base}${path}?token=${KEY}`)).status, 401, `${path}: the key in the URL is not accepted`);
    t.equal((await fetch(`${server.base}${path}`, { headers: { ...bearer(KEY), origin: 'https://evil.example' } })).status, 403, `${path} Origin`);
    const ok = await fetch(`${server.base}${path}`, { headers: bearer(KEY) });
    t.equal(ok.status, 200, `${path} with the key`);
    if (path === '/metrics') t.match(await ok.text(), /^# HELP /m);
    else t.same(await ok.json(), { models: [MODEL] });

    // A minted token is not the key: refused here, and still good for the one stream it was minted for.
    const minted = await fetch(`${server.base}/v1/tokens`, { method: 'POST', headers: bearer(KEY) });
    t.equal(minted.status, 201);
    const { token } = (await minted.json()) as { token: string };
    t.equal((await fetch(`${server.base}${path}`, { headers: bearer(token) })).status, 401, `${path} refuses a token`);
    t.equal((await fetch(`${server.base}${path}?token=${encodeURIComponent(token)}`)).status, 401, `${path} refuses ?token=`);
    t.same(server.access.checkStream({ origin: undefined, authorization: undefined, queryToken: token }), { ok: true, principal: 'token' }, `${path} did not consume the token`);
  }
  t.equal((await fetch(`${server.base}/v1/tokens`, { method: 'POST' })).status, 401, 'minting needs the key');
});

t.test('without a key every route answers (today’s open mode), /readyz with its detail', async (t) => {
  const server = await serve(undefined);
  t.teardown(() => server.close());
  t.equal((await fetch(`${server.base}/metrics`)).status, 200);
  t.same(await (await fetch(`${server.base}/v1/models`)).json(), { models: [MODEL] });
  t.same(await (await fetch(`${server.base}/readyz`)).json(), { status: 'ready', sessions: 3, maxSessions: 4, load: 0.5 });
});

t.test('no CORS headers on any route, whatever the Origin', async (t) => {
  const server = await serve(KEY, ['https://app.example']);
  t.teardown(() => server.close());
  for (const [method, path] of [['GET', '/healthz'], ['GET', '/readyz'], ['GET', '/metrics'], ['GET', '/v1/models'], ['POST', '/v1/tokens'], ['OPTIONS', '/v1/tokens']] as const) {
    for (const origin of ['https://app.example', 'https://evil.example']) {
      const res = await fetch(`${server.base}${path}`, { method, headers: { origin, authorization: `Bearer ${KEY}` } });
      t.equal(res.headers.get('access-control-allow-origin'), null, `${method} ${path} from ${origin}`);
      await res.arrayBuffer();
    }
  }
});

t.test('client input echoed in errors is bounded', async (t) => {
  const server = await serve(KEY, ['https://app.example']);
  t.teardown(() => server.close());
  const longPath = `/${'p'.repeat(4000)}`;
  const missing = (await (await fetch(`${server.base}${longPath}`)).json()) as { error: { message: string } };
  t.ok(missing.error.message.length < 200, `404 message is ${missing.error.message.length} chars`);
  t.match(missing.error.message, /…\(\+\d+ chars\)/);
  const origin = `https://${'o'.repeat(4000)}.example`;
  const refused = (await (await fetch(`${server.base}/v1/tokens`, { method: 'POST', headers: { origin } })).json()) as { error: { message: string } };
  t.ok(refused.error.message.length < 200, `403 message is ${refused.error.message.length} chars`);
});

t.test('the real server: ?token= takes only minted tokens, malformed targets are 400 on HTTP and upgrade', async (t) => {
  const fixture = await exportTestModel(3);
  t.teardown(() => fixture.cleanup());
  const { server, url } = await startTestServer(fixture.modelsDir, { apiKey: KEY });
  t.teardown(() => server.close());
  const start = { sampleRateHz: 44100, channels: 2, format: 'f32le' };

  const keyInUrl = new StreamClient(`${url}?token=${encodeURIComponent(KEY)}`);
  t.same(await keyInUrl.expectError(), { code: 'LIVESTEM_ERR_UNAUTHORIZED', closeCode: 4401 }, 'the API key as ?token= is refused');
  const keyInHeader = new StreamClient(url, { headers: { authorization: `Bearer ${KEY}` } });
  t.equal((await keyInHeader.start(start)).type, 'ready', 'the API key in the header');
  keyInHeader.ws.close();
  await keyInHeader.closed;
  const minted = await fetch(`${server.httpUrl}/v1/tokens`, { method: 'POST', headers: { authorization: `Bearer ${KEY}` } });
  const { token } = (await minted.json()) as { token: string };
  const byToken = new StreamClient(`${url}?token=${encodeURIComponent(token)}`);
  t.equal((await byToken.start(start)).type, 'ready', 'a minted token in the query');
  byToken.ws.close();
  await byToken.closed;

  const port = Number(new URL(server.httpUrl).port);
  for (const target of ['//', '//[', '///', '//%', '//:99999']) {
    const res = await rawRequest(port, 'GET', target);
    t.equal(res.status, 400, `GET ${target}`);
    t.match(JSON.parse(res.body), { error: { code: 'LIVESTEM_ERR_BAD_MESSAGE' } });
    const upgrade = await rawRequest(port, 'GET', target, 'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n');
    t.equal(upgrade.status, 400, `upgrade ${target}`);
  }
  t.equal((await fetch(`${server.httpUrl}/healthz`)).status, 200, 'the server is still up');
});
