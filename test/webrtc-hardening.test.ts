/**
 * WebRTC signalling under hostile input, as a client sees it: SDP bombs (too big, too many m-sections or candidates,
 * unbundled) are refused with catalog errors before any WebRTC work (fast, no UDP socket), offers without a DTLS
 * fingerprint are refused, auth comes before the body is read and a stalled body times out, the resource URL is an
 * unguessable capability, CORS only answers allowed origins, odd request targets never reach a 500 or a hang, and
 * error messages never echo more than a little client input.
 */
import { readdirSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { connect } from 'node:net';
import t from 'tap';
import { validateConfig } from '../server/config.ts';
import { createLogger } from '../server/log.ts';
import { startServer } from '../server/server.ts';
import type { WebRtcGateway } from '../server/transport/webrtc/webrtc-gateway.ts';
import { webrtcPlugin } from '../server/transport/webrtc/webrtc-plugin.ts';
import { testModel } from './helpers/browser.ts';

const API_KEY = 'hardening-test-api-key-0123';
const GOOD_ORIGIN = 'https://app.example';
const BODY_TIMEOUT_MS = 400;
// The SDP bomb used to take 9.5–24 s and an unauthenticated stalled body forever; answers now take milliseconds.
// The bound sits an order of magnitude below the bug and far above what a loaded machine adds.
const FAST_MS = 2000;

const logLines: string[] = [];
let gateway: WebRtcGateway | undefined;
const model = await testModel();
const server = await startServer(
  validateConfig({ host: '127.0.0.1', port: 0, modelsDir: model.modelsDir, defaultModel: model.name, logLevel: 'info', admission: 'sessions', apiKey: API_KEY, allowedOrigins: [GOOD_ORIGIN] }),
  {
    log: createLogger({ level: 'debug', write: (line) => logLines.push(line) }),
    plugins: [
      webrtcPlugin({
        ice: { iceAdditionalHostAddresses: ['127.0.0.1'], iceUseIpv6: false },
        mediaStartTimeoutMs: 10_000,
        bodyTimeoutMs: BODY_TIMEOUT_MS,
        onGateway: (g) => {
          gateway = g;
        },
      }),
    ],
  },
);
t.teardown(() => server.close());
const rtc = gateway!;
const base = server.httpUrl;
const auth = { authorization: `Bearer ${API_KEY}` };

const udpSockets = (): number => process.getActiveResourcesInfo().filter((r) => r === 'UDPWrap').length;
const openFds = (): number => readdirSync('/proc/self/fd').length;

// ---- offers made here ----
const FINGERPRINT = `a=fingerprint:sha-256 ${Array.from({ length: 32 }, (_, i) => (i * 7).toString(16).padStart(2, '0').toUpperCase()).join(':')}\r\n`;
const HEAD = 'v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n';
const transport = (fingerprint: boolean): string =>
  `c=IN IP4 0.0.0.0\r\na=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\n${fingerprint ? FINGERPRINT : ''}a=setup:actpass\r\n`;
const audio = (mid: string, direction: string, fingerprint: boolean, extra = ''): string =>
  `m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n${transport(fingerprint)}a=mid:${mid}\r\na=${direction}\r\na=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\n${extra}`;
const application = (mid: string, fingerprint: boolean): string =>
  `m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n${transport(fingerprint)}a=mid:${mid}\r\na=sctp-port:5000\r\n`;

/** One sendonly input, two recvonly outputs and a DataChannel: what the SDK offers, minus the browser's extras. */
function makeOffer(o: { bundle?: 'all' | 'none' | 'partial'; fingerprint?: boolean; candidates?: number } = {}): string {
  const fp = o.fingerprint ?? true;
  const candidates = Array.from({ length: o.candidates ?? 1 }, (_, i) => `a=candidate:${i + 1} 1 udp 2122260223 192.0.2.${(i % 250) + 1} ${9000 + i} typ host\r\n`).join('');
  const group = { all: 'a=group:BUNDLE 0 1 2 3\r\n', partial: 'a=group:BUNDLE 0 1\r\n', none: '' }[o.bundle ?? 'all'];
  return HEAD + group + audio('0', 'sendonly', fp, candidates) + audio('1', 'recvonly', fp) + audio('2', 'recvonly', fp) + application('3', fp);
}

/** The reported bomb: 658 unbundled audio m-sections in one ~60 KB offer. */
function bomb658(): string {
  let sdp = HEAD;
  for (let i = 0; i < 658; i++) sdp += `m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:${i}\r\na=sendrecv\r\na=rtpmap:111 opus/48000/2\r\n`;
  return sdp;
}

/** 658 m-sections that fit in a small body: only the section count can stop it. */
function compact658(): string {
  let sdp = HEAD + audio('a', 'sendonly', true) + audio('b', 'recvonly', true) + audio('c', 'recvonly', true);
  for (let i = 3; i < 658; i++) sdp += `m=audio 9 RTP/AVP 0\r\na=mid:${i}\r\na=inactive\r\n`;
  return sdp;
}

interface Reply {
  status: number;
  code: string | undefined;
  message: string;
  headers: Headers;
  ms: number;
}

async function request(method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Reply> {
  const t0 = performance.now();
  const res = await fetch(`${base}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
  const text = await res.text();
  const ms = performance.now() - t0;
  const json = (res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : {}) as { error?: { code: string; message: string } };
  return { status: res.status, code: json.error?.code, message: json.error?.message ?? text, headers: res.headers, ms };
}

const postOffer = (sdp: string, headers: Record<string, string> = auth, query = ''): Promise<Reply> =>
  request('POST', `/v1/webrtc${query}`, { 'content-type': 'application/sdp', ...headers }, sdp);

interface RawReply {
  status: number;
  head: string;
  body: string;
  ms: number;
  /** The server closed the connection (FIN) within the wait. */
  closed: boolean;
}

/** A hand-written HTTP/1.1 request (odd targets, partial bodies); resolves on the first full response or `waitMs`. */
function raw(head: string, bodyPart = '', waitMs = 3000): Promise<RawReply> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const socket = connect(server.port, '127.0.0.1');
    let data = '';
    let closed = false;
    const done = (): void => {
      clearTimeout(timer);
      const [h = '', b = ''] = data.split('\r\n\r\n');
      socket.destroy();
      resolve({ status: Number(/^HTTP\/1\.1 (\d+)/.exec(h)?.[1] ?? 0), head: h.toLowerCase(), body: b, ms: performance.now() - t0, closed });
    };
    const timer = setTimeout(done, waitMs);
    socket.on('data', (chunk) => {
      data += chunk.toString('latin1');
      const [h, b] = data.split('\r\n\r\n');
      const length = / 204 /.test(h?.split('\r\n')[0] ?? '') ? 0 : Number(/content-length: (\d+)/i.exec(h ?? '')?.[1] ?? -1);
      const chunkedEnd = /transfer-encoding: chunked/i.test(h ?? '') && data.endsWith('\r\n0\r\n\r\n');
      if (b !== undefined && ((length >= 0 && Buffer.byteLength(b) >= length) || chunkedEnd)) setTimeout(done, 50); // let a FIN arrive
    });
    socket.on('end', () => {
      closed = true;
      done();
    });
    socket.on('error', () => done());
    socket.write(head.replace(/\n/g, '\r\n') + '\r\n\r\n' + bodyPart);
  });
}

const waitFor = async (what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> => {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
};

// Warm the route (JIT, first connection) so the time bounds below measure the refusal, not start-up.
await postOffer('v=0');

t.test('SDP bombs are refused before any WebRTC work: fast, documented error, no UDP socket', async (t) => {
  const fdsBefore = openFds();
  const cases: { name: string; sdp: string; status: number; code: string; message: RegExp }[] = [
    { name: '658 unbundled m-sections in ~60 KB', sdp: bomb658(), status: 413, code: 'LIVESTEM_ERR_PAYLOAD_TOO_LARGE', message: /32768 bytes/ },
    { name: '658 m-sections in < 32 KiB', sdp: compact658(), status: 400, code: 'LIVESTEM_ERR_BAD_MESSAGE', message: /658 m-sections.*at most 8/ },
    { name: '129 ICE candidates', sdp: makeOffer({ candidates: 129 }), status: 400, code: 'LIVESTEM_ERR_BAD_MESSAGE', message: /129 a=candidate.*at most 128/ },
    { name: 'no BUNDLE group', sdp: makeOffer({ bundle: 'none' }), status: 400, code: 'LIVESTEM_ERR_BAD_MESSAGE', message: /BUNDLE/ },
    { name: 'BUNDLE leaving m-sections out', sdp: makeOffer({ bundle: 'partial' }), status: 400, code: 'LIVESTEM_ERR_BAD_MESSAGE', message: /BUNDLE leaves out mid 2/ },
  ];
  t.ok(Buffer.byteLength(cases[0]!.sdp) < 64 * 1024 && Buffer.byteLength(cases[1]!.sdp) < 32 * 1024, 'offer sizes as intended');
  for (const c of cases) {
    const reply = await postOffer(c.sdp);
    t.equal(reply.status, c.status, `${c.name}: HTTP ${c.status}`);
    t.equal(reply.code, c.code, `${c.name}: ${c.code}`);
    t.match(reply.message, c.message, `${c.name}: says why`);
    t.ok(reply.ms < FAST_MS, `${c.name}: answered in ${reply.ms.toFixed(1)} ms (< ${FAST_MS} ms)`);
    t.equal(udpSockets(), 0, `${c.name}: no UDP socket opened`);
  }
  const viaControl = performance.now();
  const reply = await rtc.answerControlMessage(JSON.stringify({ type: 'webrtc-offer', sdp: bomb658() }), 'test');
  t.equal(reply.type === 'error' ? reply.code : reply.type, 'LIVESTEM_ERR_PAYLOAD_TOO_LARGE', 'same bomb on the WebSocket control message');
  const compact = await rtc.answerControlMessage(JSON.stringify({ type: 'webrtc-offer', sdp: compact658() }), 'test');
  t.equal(compact.type === 'error' ? compact.code : compact.type, 'LIVESTEM_ERR_BAD_MESSAGE');
  t.ok(performance.now() - viaControl < 2 * FAST_MS, 'control-message refusals are as fast');
  await new Promise((r) => setTimeout(r, 100));
  t.equal(udpSockets(), 0, 'still no UDP socket');
  t.ok(openFds() - fdsBefore < 10, `file descriptors bounded (${fdsBefore} → ${openFds()})`);
  t.equal(server.registry.activeCount, 0, 'no session opened');
  t.equal(rtc.activeStreams, 0);
});

t.test('an offer without a DTLS fingerprint is refused', async (t) => {
  const reply = await postOffer(makeOffer({ fingerprint: false }));
  t.equal(reply.status, 400);
  t.equal(reply.code, 'LIVESTEM_ERR_BAD_MESSAGE');
  t.match(reply.message, /DTLS fingerprint required/);
  t.equal(udpSockets(), 0);
  t.equal(server.registry.activeCount, 0);
});

t.test('auth is checked before the body is read; a stalled body times out', async (t) => {
  const head = (extra: string): string => `POST /v1/webrtc HTTP/1.1\nHost: x\nContent-Type: application/sdp\n${extra}`;
  const noAuth = await raw(head('Content-Length: 100000'), 'v=0\r\n');
  t.equal(noAuth.status, 401, 'no credentials: 401 while the body is still coming');
  t.match(noAuth.body, /LIVESTEM_ERR_UNAUTHORIZED/);
  t.ok(noAuth.ms < FAST_MS, `answered in ${noAuth.ms.toFixed(1)} ms without waiting for the body`);
  t.ok(noAuth.closed, 'connection closed: the rest of the body is not read');

  const declaredTooBig = await raw(head(`Authorization: Bearer ${API_KEY}\nContent-Length: 40000`));
  t.equal(declaredTooBig.status, 413, 'Content-Length over the limit: 413 before reading');
  t.match(declaredTooBig.body, /LIVESTEM_ERR_PAYLOAD_TOO_LARGE/);
  t.ok(declaredTooBig.ms < FAST_MS && declaredTooBig.closed);

  const chunk = 'a'.repeat(40_000);
  const chunkedTooBig = await raw(head(`Authorization: Bearer ${API_KEY}\nTransfer-Encoding: chunked`), `${chunk.length.toString(16)}\r\n${chunk}\r\n`);
  t.equal(chunkedTooBig.status, 413, 'chunked body over the limit: 413');
  t.ok(chunkedTooBig.closed);

  const stalled = await raw(head(`Authorization: Bearer ${API_KEY}\nContent-Length: 1000`), 'v=0\r\n');
  t.equal(stalled.status, 408, 'stalled body: 408');
  t.match(stalled.body, /LIVESTEM_ERR_IDLE_TIMEOUT/);
  t.ok(stalled.ms >= BODY_TIMEOUT_MS - 50 && stalled.ms < BODY_TIMEOUT_MS + 1000, `after the body timeout (${stalled.ms.toFixed(0)} ms)`);
  t.ok(stalled.closed, 'and the connection is closed');
  t.equal(server.registry.activeCount, 0);
});

t.test('the resource URL is an unguessable capability, separate from the logged stream id', async (t) => {
  const created = await postOffer(makeOffer());
  t.equal(created.status, 201, created.status === 201 ? 'a well-formed offer is answered' : created.message.slice(0, 200));
  const location = created.headers.get('location') ?? '';
  const secret = location.split('/').at(-1) ?? '';
  t.match(location, /^\/v1\/webrtc\/[A-Za-z0-9_-]{32,}$/, 'Location carries ≥ 192 random bits, base64url');
  t.notMatch(secret, /^[0-9a-f]{8}-[0-9a-f]{4}-/, 'not a UUID (the internal id kind)');
  t.equal(rtc.activeStreams, 1);
  const streamId = /"streamId":"([^"]+)"/.exec(logLines.filter((l) => l.includes('webrtc offer answered')).join('\n'))?.[1];
  t.ok(streamId !== undefined && streamId !== secret, 'logs name the stream by its internal id');

  const byId = await request('DELETE', `/v1/webrtc/${streamId ?? 'none'}`);
  t.equal(byId.status, 410, 'the internal id is not a capability');
  // One character off (never the same character: a secret ending in "A" must not be "guessed" right).
  const guessed = await request('DELETE', `/v1/webrtc/${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`);
  t.ok([404, 410].includes(guessed.status), 'a wrong resource is not found');
  t.equal(rtc.activeStreams, 1, 'still live');

  const deleted = await request('DELETE', location);
  t.equal(deleted.status, 200, 'DELETE on the resource URL needs no other credentials');
  await waitFor('stream ended and sockets closed', () => rtc.activeStreams === 0 && server.registry.activeCount === 0 && udpSockets() === 0);
  t.equal((await request('DELETE', location)).status, 410, 'gone after DELETE');
  t.notOk(
    logLines.some((l) => l.includes(secret)),
    'the resource secret is never logged',
  );

  const control = await rtc.answerControlMessage(JSON.stringify({ type: 'webrtc-offer', sdp: makeOffer() }), 'test');
  if (control.type !== 'webrtc-answer') throw new Error(`expected an answer, got ${JSON.stringify(control)}`);
  t.match(control.resource, /^\/v1\/webrtc\/[A-Za-z0-9_-]{32,}$/, 'the control-channel answer names the same kind of resource');
  t.equal((await request('DELETE', control.resource)).status, 200);
  await waitFor('stream ended', () => rtc.activeStreams === 0 && udpSockets() === 0);
});

t.test('CORS answers allowed origins only', async (t) => {
  const preflight = (origin: string): Promise<Reply> =>
    request('OPTIONS', '/v1/webrtc', { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' });
  const good = await preflight(GOOD_ORIGIN);
  t.equal(good.status, 204);
  t.equal(good.headers.get('access-control-allow-origin'), GOOD_ORIGIN);
  t.match(good.headers.get('vary') ?? '', /origin/i, 'Vary: Origin, for caches');

  const evil = await preflight('https://evil.example');
  t.equal(evil.status, 403, 'a disallowed Origin is refused');
  t.equal(evil.code, 'LIVESTEM_ERR_ORIGIN_NOT_ALLOWED');
  t.equal(evil.headers.get('access-control-allow-origin'), null, 'and gets no CORS allow headers');
  t.equal(evil.headers.get('access-control-allow-methods'), null);

  const post = await postOffer(makeOffer(), { ...auth, origin: 'https://evil.example' });
  t.equal(post.status, 403);
  t.equal(post.headers.get('access-control-allow-origin'), null);
  const del = await request('DELETE', '/v1/webrtc/whatever', { origin: 'https://evil.example' });
  t.equal(del.status, 403);
  t.equal(del.headers.get('access-control-allow-origin'), null);
  const refusedGood = await postOffer('v=0', { ...auth, origin: GOOD_ORIGIN });
  t.equal(refusedGood.status, 400);
  t.equal(refusedGood.headers.get('access-control-allow-origin'), GOOD_ORIGIN, 'errors to an allowed page stay readable');
});

t.test('odd request targets get a 4xx JSON error, never a 500 or a hang', async (t) => {
  const targets = ['/v1/webrtc/..', '/v1/webrtc/../metrics', '/v1/webrtc/.', '/v1/webrtc//[', '/v1/webrtc/%', '/v1/webrtc/%zz', '/v1/webrtc/a/b', '/v1/webrtc/', '/v1/webrtc?%', '/v1/webrtc/x?%zz=%'];
  for (const target of targets) {
    for (const method of ['DELETE', 'POST', 'OPTIONS']) {
      const reply = await raw(`${method} ${target} HTTP/1.1\nHost: x\nContent-Length: 0`, '', 2000);
      t.ok(reply.status >= 400 && reply.status < 500 || (method === 'OPTIONS' && reply.status === 204), `${method} ${target}: ${reply.status}`);
      if (reply.status >= 400) t.match(reply.body, /"code":"LIVESTEM_ERR_/, `${method} ${target}: catalog error body`);
    }
  }
  const dots = await raw('DELETE /v1/webrtc/.. HTTP/1.1\nHost: x\nContent-Length: 0');
  t.equal(dots.status, 400, 'dot segments are a malformed target');
  t.match(dots.body, /LIVESTEM_ERR_BAD_MESSAGE/);

  // The gateway's own entry point with targets that make `new URL(x, base)` throw.
  for (const url of ['//', '//[', '///', '//%', '//:99999']) {
    const fake = { url, method: 'GET', headers: {}, socket: {} } as unknown as IncomingMessage;
    const res = { headersSent: false, writeHead: () => res, end: () => res } as unknown as ServerResponse;
    t.equal(await rtc.handleHttp(fake, res), false, `handleHttp("${url}") declines without throwing`);
  }
  t.equal((await request('GET', '/v1/webrtc')).status, 404, 'server still answering');
});

t.test('error messages echo at most a little client input', async (t) => {
  const long = 'x'.repeat(5000);
  const replies: [string, Reply | { message: string }][] = [
    ['rtpmap', await postOffer(`${HEAD}m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=rtpmap:${long}\r\n`)],
    ['m-line', await postOffer(`${HEAD}m=${long}\r\n`)],
    ['bad line', await postOffer(`v=0\r\n${long}\r\n`)],
    ['outputs', await postOffer(makeOffer(), auth, `?outputs=${long}`)],
    ['content-type', await request('POST', '/v1/webrtc', { ...auth, 'content-type': long }, 'v=0')],
    ['origin', await request('OPTIONS', '/v1/webrtc', { origin: `https://${long}.example` })],
    ['model', await postOffer(makeOffer(), auth, `?outputs=vocals&model=${long}`)],
  ];
  const control = await rtc.answerControlMessage(JSON.stringify({ type: 'webrtc-offer', sdp: 'v=0', [long]: 1 }), 'test');
  replies.push(['control message', { message: control.type === 'error' ? control.message : '' }]);
  for (const [name, reply] of replies) {
    t.ok(reply.message.length > 0 && reply.message.length <= 240, `${name}: message of ${reply.message.length} chars`);
    t.notOk(reply.message.includes('x'.repeat(101)), `${name}: no more than 100 characters of input echoed`);
  }
  t.equal(rtc.activeStreams, 0);
  await waitFor('no session left', () => server.registry.activeCount === 0);
});
