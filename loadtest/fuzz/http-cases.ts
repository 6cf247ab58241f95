/**
 * HTTP-side cases, all sent as raw bytes: hostile request targets on every route and method (with and without an
 * Upgrade), token minting with hostile bodies and credentials, the WebRTC routes, and SDP offers through
 * POST /v1/webrtc. Expected: a status below 500 (503 where the route documents it), never a hang or a crash.
 */
import { PH, type Category, type HttpCase, type Phase } from './cases.ts';
import type { Rng } from './rng.ts';
import { sampleSdp } from './sdp.ts';

export interface GenContext {
  rng: Rng;
  index: number;
  phase: Phase;
  maxMessageBytes: number;
  /** The server's API key (auth phase; part of the reproduction, so it is fixed for our own server). */
  apiKey: string;
  /** An Origin in the allow-list, and whether the server enforces one (own server: auth phase). */
  goodOrigin: string;
  originsEnforced: boolean;
}

const ROUTES: ReadonlyArray<readonly [method: string, path: string]> = [
  ['GET', '/'],
  ['GET', '/healthz'],
  ['GET', '/readyz'],
  ['GET', '/metrics'],
  ['GET', '/v1/models'],
  ['POST', '/v1/tokens'],
  ['POST', '/v1/webrtc'],
  ['DELETE', '/v1/webrtc/00000000-0000-0000-0000-000000000000'],
  ['OPTIONS', '/v1/webrtc'],
  ['GET', '/v1/stream'],
  ['GET', '/demo.css'],
];

/** Targets that have crashed or confused URL parsers: authority-form lookalikes, bad escapes, odd bytes. */
const HOSTILE_TARGETS = [
  '//', '//[', '///', '//%', '//:99999', '//a', '//@', '//[::1', '//user:pw@host:1/x', '//%zz', '/%', '/%zz', '/%%',
  '/%0', '/%00', '/%c0%ae%c0%ae/', '/..', '/../../etc/passwd', '/%2e%2e/%2e%2e/', '*', '?', '/?%', '/?a=%zz&token=%',
  '/#x', 'http://x', 'http://[', 'http://:99999/', 'ws://127.0.0.1/v1/stream', '/\\', '\\\\', '/;', '/v1/./stream',
  '/v1/stream/..', '/v1//stream', '/V1/STREAM', '/v1/stream/', '/v1/stream%2F', '/healthz%00', '/%F0%9F%92%A9',
  '/%ED%A0%80', '/%E2%82',
] as const;

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'HEAD', 'PATCH', 'get', 'FOO', 'CONNECT'] as const;

function request(method: string, target: string, headers: readonly string[], body = '', withLength = body.length > 0): string {
  const lines = [`${method} ${target} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close', ...headers];
  if (withLength) lines.push(`Content-Length: ${Buffer.byteLength(body, 'latin1')}`);
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

const UPGRADE_HEADERS = ['Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 13'];

/** Visible ASCII only; anything else makes the request line invalid HTTP. */
function isMalformedTarget(target: string): boolean {
  return target.length === 0 || /[^\x21-\x7e]/.test(target);
}

function mutateTarget(rng: Rng, path: string): { target: string; variant: string } {
  const hostile = rng.pick(HOSTILE_TARGETS);
  switch (rng.int(0, 7)) {
    case 0:
      return { target: hostile, variant: `hostile:${hostile}` };
    case 1:
      return { target: `/${path}`, variant: 'double-slash-route' };
    case 2:
      return { target: `${hostile}${path}`, variant: `prefix:${hostile}` };
    case 3:
      return { target: `${path}${hostile}`, variant: `suffix:${hostile}` };
    case 4:
      return { target: `${path}?${rng.pick(['%', '%zz', 'token=%', 'a='.repeat(rng.int(1, 3000)), '&&&&', '=', '%00'])}`, variant: 'query' };
    case 5: {
      const n = rng.pick([1000, 8000, 17_000, 70_000]);
      return { target: `${path}/${'a'.repeat(n)}`, variant: `huge-${n}` };
    }
    case 6:
      return { target: rng.pick(['/v2/stream', '/healthz/', '/v1/models.json', '/v1', '/v1/', `/${rng.string(rng.int(1, 40))}`, '/favicon.ico']), variant: 'unknown' };
    default: {
      const bytes = String.fromCharCode(...Array.from(rng.bytes(rng.int(1, 6)), (b) => (b === 0x0a || b === 0x0d ? 0x7f : b)));
      return { target: `${path}${bytes}`, variant: 'raw-bytes' };
    }
  }
}

/** Any answer below 500 (the route-specific 503s are allowed by isWrongOutcome); garbage may get no answer. */
function lenient(malformed: boolean): string[] {
  return ['http:1*', 'http:2*', 'http:3*', 'http:4*', ...(malformed ? ['no-response', 'reset'] : [])];
}

/**
 * Targets that are clearly not origin-form (`//…`, `*`, absolute URLs, backslashes, literal dot segments): the
 * protocol (§7) answers them 400 BAD_MESSAGE, plain or upgrade. Percent-encoded oddities stay lenient.
 */
function expectForTarget(target: string, malformed: boolean): string[] {
  const path = target.split('?')[0]!;
  const notOriginForm = !path.startsWith('/') || path.startsWith('//') || path.includes('\\') || /(^|\/)\.{1,2}(\/|$)/.test(path);
  // 431/414: a target too long for the HTTP parser is refused before any routing
  if (notOriginForm && !malformed) return ['http:400', 'http:431', 'http:414'];
  return lenient(malformed);
}

/** The documented answer of an unmutated route without credentials (auth phase: key routes are 401). */
function plainExpect(phase: Phase, method: string, path: string): string[] {
  const keyed = (ok: string): string[] => [phase === 'auth' ? 'http:401' : ok];
  if (method === 'GET' && (path === '/healthz' || path === '/' || path === '/demo.css')) return ['http:200'];
  if (method === 'GET' && path === '/readyz') return ['http:200', 'http:503'];
  if (method === 'GET' && (path === '/metrics' || path === '/v1/models')) return keyed('http:200');
  if (method === 'GET' && path === '/v1/stream') return ['http:426'];
  if (method === 'POST' && path === '/v1/tokens') return keyed('http:201');
  if (method === 'OPTIONS') return ['http:204'];
  return lenient(false);
}

function base(ctx: GenContext, category: Category, variant: string): Pick<HttpCase, 'index' | 'phase' | 'category' | 'variant' | 'messages' | 'kind'> {
  return { kind: 'http', index: ctx.index, phase: ctx.phase, category, variant, messages: 1 };
}

export function httpTargetCase(ctx: GenContext): HttpCase {
  const { rng } = ctx;
  const [routeMethod, path] = rng.pick(ROUTES);
  if (rng.chance(0.1)) {
    // The plain route: a control sample with exact expectations.
    const body = routeMethod === 'POST' ? '' : undefined;
    return {
      ...base(ctx, 'http-target', `plain ${routeMethod} ${path}`),
      request: request(routeMethod, path, [], '', body !== undefined),
      after: 'wait',
      route: path,
      malformedHttp: false,
      expect: routeMethod === 'POST' && path === '/v1/webrtc' ? ['http:415', 'http:401'] : plainExpect(ctx.phase, routeMethod, path),
    };
  }
  const method = rng.chance(0.7) ? routeMethod : rng.pick(METHODS);
  const { target, variant } = mutateTarget(rng, path);
  const malformed = isMalformedTarget(target) || method === 'CONNECT' || method === 'get' || method === 'FOO';
  const body = method === 'POST' || method === 'PUT' || method === 'PATCH' ? rng.pick(['', '{}', 'x', '{"ttlMs":1000}']) : '';
  return {
    ...base(ctx, 'http-target', `${method} ${variant}`),
    request: request(method, target, [], body, method !== 'GET' && method !== 'HEAD'),
    after: 'wait',
    route: path,
    malformedHttp: malformed,
    expect: expectForTarget(target, malformed),
  };
}

export function upgradeTargetCase(ctx: GenContext): HttpCase {
  const { rng } = ctx;
  const [, path] = rng.pick(ROUTES);
  const { target, variant } = rng.chance(0.15) ? { target: '/v1/stream', variant: 'plain' } : mutateTarget(rng, rng.chance(0.5) ? '/v1/stream' : path);
  const headers = [...UPGRADE_HEADERS];
  let extra = '';
  if (rng.chance(0.2)) {
    // broken handshakes: bad version, missing key, odd key
    const k = rng.int(0, 2);
    headers[k === 0 ? 3 : 2] = k === 0 ? 'Sec-WebSocket-Version: 99' : k === 1 ? 'X-No-Key: 1' : 'Sec-WebSocket-Key: !!';
    extra = ` bad-handshake-${k}`;
  }
  const method = rng.chance(0.85) ? 'GET' : rng.pick(METHODS);
  const malformed = isMalformedTarget(target) || method === 'CONNECT' || method === 'get' || method === 'FOO';
  return {
    ...base(ctx, 'upgrade-target', `${method} ${variant}${extra}`),
    request: request(method, target, headers),
    after: 'wait',
    route: path,
    malformedHttp: malformed,
    // 101 and then an error frame inside the socket (auth, other paths) is fine: the runner only reads the status.
    expect: expectForTarget(target, malformed)[0] === 'http:400' ? expectForTarget(target, malformed) : ['http:101', 'http:4*', ...(malformed ? ['no-response', 'reset'] : [])],
  };
}

type Cred = 'none' | 'key' | 'bad-key' | 'basic' | 'empty-bearer' | 'token' | 'used-token' | 'forged-token' | 'huge';

function authHeader(ctx: GenContext, cred: Cred): string[] {
  const key = ctx.apiKey;
  switch (cred) {
    case 'none':
      return [];
    case 'key':
      return [`Authorization: Bearer ${key}`];
    case 'bad-key':
      return [`Authorization: Bearer ${key}x`];
    case 'basic':
      return [`Authorization: Basic ${Buffer.from(`u:${key}`).toString('base64')}`];
    case 'empty-bearer':
      return ['Authorization: Bearer '];
    case 'token':
      return [`Authorization: Bearer ${PH.freshToken}`];
    case 'used-token':
      return [`Authorization: Bearer ${PH.usedToken}`];
    case 'forged-token':
      return [`Authorization: Bearer ${Buffer.from('{"jti":"x","exp":99999999999999}').toString('base64url')}.AAAA`];
    case 'huge':
      return [`Authorization: Bearer ${'k'.repeat(12_000)}`];
  }
}

const CREDS: readonly Cred[] = ['none', 'key', 'key', 'key', 'bad-key', 'basic', 'empty-bearer', 'token', 'used-token', 'forged-token', 'huge'];
type OriginKind = 'none' | 'good' | 'bad' | 'null';
const ORIGINS: readonly OriginKind[] = ['none', 'none', 'good', 'bad', 'null'];

function originHeader(ctx: GenContext, o: OriginKind): string[] {
  return o === 'none' ? [] : [`Origin: ${o === 'good' ? ctx.goodOrigin : o === 'bad' ? 'https://evil.example' : 'null'}`];
}

/** The catalog's answer to a credentialed request in this phase, or undefined when it passes. */
function accessStatus(ctx: GenContext, cred: Cred, origin: OriginKind, tokensAccepted: boolean): number | undefined {
  if (ctx.phase === 'open') return undefined;
  if (ctx.originsEnforced && (origin === 'bad' || origin === 'null')) return 403;
  if (cred === 'key' || (tokensAccepted && cred === 'token')) return undefined;
  return cred === 'huge' ? undefined : 401; // huge: 431 from the HTTP parser or 401; handled by the caller
}

const TOKEN_BODIES: ReadonlyArray<readonly [body: string, status: number]> = [
  ['', 201], ['{}', 201], ['{"ttlMs":30000}', 201], ['{"ttlMs":999}', 400], ['{"ttlMs":1.5}', 400], ['{"ttlMs":"30000"}', 400],
  ['{"ttlMs":null}', 400], ['{"ttlMs":1e308}', 400], ['{"ttlMs":-1}', 400], ['null', 201], ['[]', 201], ['{', 400],
  ['{"ttlMs":30000,"extra":1}', 201], ['{"__proto__":{"ttlMs":5}}', 201], ['{"ttlMs":3600001}', 400],
];

export function httpBodyCase(ctx: GenContext): HttpCase {
  const { rng, phase } = ctx;
  const kind = rng.weighted([
    ['tokens', 6],
    ['webrtc-misc', 2],
    ['framing', 2],
  ] as const);
  if (kind === 'tokens') {
    const cred = rng.pick(CREDS);
    const origin = rng.pick(ORIGINS);
    let [body, status] = rng.chance(0.08) ? ['x'.repeat(rng.int(4097, 9000)), 413] : rng.pick(TOKEN_BODIES);
    // Minting needs the key itself: a token is not accepted here.
    const refused = accessStatus(ctx, cred, origin, false);
    const expect = cred === 'huge' ? ['http:431', 'http:401', 'http:403', `http:${status}`] : [`http:${refused ?? status}`];
    return {
      ...base(ctx, 'http-body', `tokens ${cred}/${origin}/${status}`),
      request: request('POST', '/v1/tokens', [...authHeader(ctx, cred), ...originHeader(ctx, origin), 'Content-Type: application/json'], body, true),
      after: 'wait',
      route: '/v1/tokens',
      malformedHttp: false,
      expect,
    };
  }
  if (kind === 'webrtc-misc') {
    const [method, target, expect] = rng.pick([
      ['DELETE', `/v1/webrtc/${rng.string(36)}`, ['http:404', 'http:410']],
      ['DELETE', '/v1/webrtc/', ['http:4*']],
      ['DELETE', '/v1/webrtc', ['http:404']],
      ['OPTIONS', '/v1/webrtc', ['http:204']],
      ['GET', '/v1/webrtc', ['http:404']],
      ['PUT', '/v1/webrtc', ['http:404']],
      ['POST', '/v1/webrtc/abc', ['http:404']],
    ] as const);
    const origin = rng.pick(ORIGINS);
    // a disallowed Origin may be refused first (403) on the WebRTC routes
    const refusedOrigin = phase === 'auth' && ctx.originsEnforced && (origin === 'bad' || origin === 'null') ? ['http:403'] : [];
    return {
      ...base(ctx, 'http-body', `webrtc ${method} ${target.slice(0, 12)}`),
      request: request(method, target, originHeader(ctx, origin)),
      after: 'wait',
      route: '/v1/webrtc',
      malformedHttp: false,
      expect: [...expect, ...refusedOrigin],
    };
  }
  // framing: lying Content-Length, chunked garbage, a body that stops, duplicate headers
  const [, path] = rng.pick(ROUTES);
  const method = rng.pick(['GET', 'POST'] as const);
  const framing = rng.int(0, 4);
  const heads: string[][] = [
    ['Content-Length: 100'],
    ['Transfer-Encoding: chunked'],
    ['Content-Length: 5', 'Content-Length: 6'],
    ['Transfer-Encoding: chunked', 'Content-Length: 3'],
    ['Content-Length: -1'],
  ];
  const bodies = ['abc', 'zz\r\nxx\r\n', 'hello', '3\r\nabc\r\n0\r\n\r\n', 'x'];
  const text = `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n${heads[framing]!.join('\r\n')}\r\n\r\n${bodies[framing]}`;
  return {
    ...base(ctx, 'http-body', `framing-${framing} ${method}`),
    request: text,
    // a short body against a longer Content-Length leaves the server waiting for the rest: that is correct, not a hang
    after: framing === 0 ? 'abort' : 'wait',
    cut: text.length,
    route: path,
    malformedHttp: framing >= 2,
    expect: ['http:1*', 'http:2*', 'http:3*', 'http:4*', 'aborted', ...(framing >= 2 ? ['no-response', 'reset'] : [])],
  };
}

export function sdpHttpCase(ctx: GenContext): HttpCase {
  const { rng, phase } = ctx;
  const sample = sampleSdp(rng);
  const cred: Cred = rng.pick(['key', 'key', 'key', 'none', 'token', 'bad-key']);
  const origin: OriginKind = rng.pick(['none', 'none', 'good', 'bad']);
  const contentType = rng.chance(0.9) ? 'application/sdp' : rng.pick(['text/plain', 'application/json', '']);
  const query = rng.chance(0.3) ? `?outputs=${rng.pick(['vocals', 'karaoke,vocals,accompaniment', 'bogus', '', 'vocals,vocals'])}&vocalGain=${rng.pick(['0.5', '2', 'NaN', '-1'])}` : '';
  // Every refusal that applies is a correct answer: the protocol does not order the checks.
  const access = accessStatus(ctx, cred, origin, true);
  const refusals = [contentType !== 'application/sdp' ? 415 : undefined, sample.sdp.length > 64 * 1024 ? 413 : undefined, access].filter((x) => x !== undefined);
  // A well-formed offer may be answered (201, then deleted by the runner) or refused by the WebRTC stack (4xx).
  const expect = refusals.length > 0 ? refusals.map((r) => `http:${r}`) : sample.wellFormed ? ['http:201', 'http:4*'] : ['http:4*'];
  return {
    ...base(ctx, 'sdp-http', `${sample.variant} ${cred}/${origin}${contentType === 'application/sdp' ? '' : ' bad-type'}`),
    request: request('POST', `/v1/webrtc${query}`, [...authHeader(ctx, cred), ...originHeader(ctx, origin), ...(contentType ? [`Content-Type: ${contentType}`] : [])], sample.sdp, true),
    after: 'wait',
    route: '/v1/webrtc',
    malformedHttp: false,
    createsPeer: true,
    expect,
  };
}
