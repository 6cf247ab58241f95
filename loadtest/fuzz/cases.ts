/**
 * What a fuzz case is (plain data, so any case prints as an exact reproduction) and how an observed outcome is
 * judged. A case is HTTP (raw bytes on a TCP socket: fetch would normalise the very targets we want to send) or
 * WebSocket (an upgrade request, then steps on the raw client of raw-ws.ts).
 *
 * Judging has two layers: outcomes that are wrong whatever the case (a 5xx, an INTERNAL/1011, a hang, a crash) and a
 * per-case list of outcomes the protocol documents for that input (docs/protocol.md); anything else is unexpected.
 */
import { ERROR_CATALOG, isErrorCode } from '../../server/errors.ts';

export const CATEGORIES = [
  'http-target',
  'http-body',
  'upgrade-target',
  'json-invalid',
  'schema',
  'binary',
  'sample-values',
  'oversize',
  'ws-frames',
  'flood',
  'flood-noread',
  'slow-reader',
  'abrupt',
  'auth',
  'resume',
  'sdp-http',
  'sdp-ws',
] as const;
export type Category = (typeof CATEGORIES)[number];

/** open: no auth configured; auth: API key + Origin allow-list configured. */
export type Phase = 'open' | 'auth';

/** Secrets of the auth phase; the key is fixed so reproductions are exact (LIVESTEM_API_KEY). */
export const FUZZ_API_KEY = 'fuzz-api-key-0123456789abcdef';
export const FUZZ_GOOD_ORIGIN = 'https://app.example.com';

/**
 * Placeholders resolved when the case runs (their values only exist then): a token minted for this case, a token
 * minted and already used once, and the session id / resume token of the case's own first session.
 */
export const PH = { freshToken: '%%FRESH_TOKEN%%', usedToken: '%%USED_TOKEN%%', sessionId: '%%SESSION_ID%%', resumeToken: '%%RESUME_TOKEN%%' } as const;

export interface CaseBase {
  index: number;
  phase: Phase;
  category: Category;
  /** Finer label, used in tables and for quarantining a variant that crashed the server. */
  variant: string;
  /** Messages this case sends (HTTP requests + WebSocket frames), counted against --messages. */
  messages: number;
  /** Outcomes the protocol documents for this input (exact, or a prefix ending in `*`). */
  expect: string[];
}

export interface HttpCase extends CaseBase {
  kind: 'http';
  /** Request bytes as latin1 text (so any byte 0..255 survives), possibly with PH placeholders. */
  request: string;
  /** Send only the first `cut` bytes, then `after`. */
  cut?: number;
  after: 'wait' | 'abort';
  /** Path part of the target, for the route-specific rules (e.g. /readyz may be 503). */
  route: string;
  /** The request is not valid HTTP/1.1: the server may drop it without an answer. */
  malformedHttp: boolean;
  /** A WebRTC resource created by a 201 must be deleted again (the runner does that). */
  createsPeer?: boolean;
}

export type WsStep =
  /** Raw bytes: whole frames, several frames, or a cut-off frame. `note` says what they are (for the repro). */
  | { op: 'send'; bytes: Buffer; note: string; count?: number }
  | { op: 'await'; types: string[]; count: number; timeoutMs?: number }
  /** ping with a unique id, wait for its pong: the server read and answered everything before it. */
  | { op: 'sentinel' }
  | { op: 'pause' }
  | { op: 'resume-reading' }
  | { op: 'sleep'; ms: number }
  | { op: 'abort'; reset: boolean }
  /** `end`, then done + close 1000 (checks output length == input length when the case streamed audio). */
  | { op: 'end' }
  | { op: 'close' }
  /** New connection (same headers) whose first message is `text` with PH placeholders of the first session. */
  | { op: 'reconnect'; text: string };

export interface AudioPlan {
  inputRateHz: number;
  outputRateHz: number;
  channels: 1 | 2;
  outputFormat: 's16le' | 'f32le';
  /** Sample frames (per channel) the case sends in total, if all its steps run. */
  inputSamples: number;
  /** Output must be finite (f32 output with hostile finite input). */
  checkFinite: boolean;
}

export interface WsCase extends CaseBase {
  kind: 'ws';
  path: string;
  /** Extra request header lines ("Name: value"), possibly with PH placeholders. */
  headers: string[];
  steps: WsStep[];
  /** Set when the case streams audio: what a completed session must give back. */
  audio?: AudioPlan;
  /** Credentials are invalid: a `ready` is an auth bypass. */
  mustRefuse?: boolean;
  /** Replies include stats whose sendBufferedBytes must stay within the send buffer limit. */
  watchSendBuffer?: boolean;
  /** Sent instead of the upgrade request (a handshake cut short). */
  rawHandshake?: string;
}

export type FuzzCase = HttpCase | WsCase;

export interface CaseResult {
  outcome: string;
  /** Problems beyond the outcome: auth bypass, NaN output, lost samples, malformed server frames, … */
  violations: string[];
  durationMs: number;
}

export type Verdict = 'ok' | 'wrong' | 'unexpected';

/** Outcomes documented as wrong for any input. */
export function isWrongOutcome(outcome: string, route = ''): boolean {
  if (/INTERNAL|INFERENCE_FAILED|\/1011$|^close:1011$/.test(outcome)) return true;
  if (outcome.startsWith('timeout')) return true;
  if (outcome === 'crash') return true;
  const http = /^http:(\d{3})$/.exec(outcome);
  if (http && Number(http[1]) >= 500) return !(route === '/readyz' && http[1] === '503');
  return false;
}

export function matchesExpectation(outcome: string, expect: readonly string[]): boolean {
  return expect.some((e) => (e.endsWith('*') ? outcome.startsWith(e.slice(0, -1)) : outcome === e));
}

/** Admission may refuse any start on a loaded server (§7): documented for every case that starts a session. */
const ALWAYS_DOCUMENTED = [errorOutcome('LIVESTEM_ERR_OVERLOADED')];

export function judge(c: FuzzCase, result: CaseResult): Verdict {
  if (isWrongOutcome(result.outcome, c.kind === 'http' ? c.route : '') || result.violations.length > 0) return 'wrong';
  return matchesExpectation(result.outcome, c.expect) || ALWAYS_DOCUMENTED.includes(result.outcome) ? 'ok' : 'unexpected';
}

/** `error:CODE/close` when the catalog close code of CODE differs from the received one. */
export function closeCodeMismatch(code: string, closeCode: number | undefined): string | undefined {
  if (!isErrorCode(code) || closeCode === undefined || closeCode < 4000) return undefined;
  const want = ERROR_CATALOG[code].closeCode;
  return want === closeCode ? undefined : `close-code-mismatch: ${code} closed ${closeCode}, catalog says ${want}`;
}

/** Expected outcome of a catalog error: `error:CODE/<its close code>`. */
export function errorOutcome(code: keyof typeof ERROR_CATALOG): string {
  return `error:${code}/${ERROR_CATALOG[code].closeCode}`;
}

/** Any catalog error a client can cause (not the 5xx ones) followed by its close. */
export const ANY_CLIENT_ERROR = 'error:LIVESTEM_ERR_*';

/** A short, exact, printable description of a case (the reproduction). */
export function describeCase(c: FuzzCase): string {
  const show = (s: string, max = 300): string => (s.length > max ? `${JSON.stringify(s.slice(0, max))}…(+${s.length - max} chars)` : JSON.stringify(s));
  if (c.kind === 'http') {
    const cut = c.cut !== undefined ? `, first ${c.cut} bytes then ${c.after}` : '';
    return `#${c.index} ${c.phase}/${c.category}/${c.variant}: raw TCP ${show(c.request)}${cut}`;
  }
  const steps = c.steps.map((s) => {
    switch (s.op) {
      case 'send': {
        const body = s.bytes.length <= 160 ? `0x${s.bytes.toString('hex')}` : `0x${s.bytes.subarray(0, 48).toString('hex')}…(${s.bytes.length} bytes)`;
        return `send ${s.note}${s.count && s.count > 1 ? ` ×${s.count}` : ''} ${body}`;
      }
      case 'await':
        return `await ${s.count}×${s.types.join('|')}`;
      case 'reconnect':
        return `reconnect, first message ${show(s.text)}`;
      case 'sleep':
        return `sleep ${s.ms} ms`;
      case 'abort':
        return s.reset ? 'abort (RST)' : 'abort (FIN, no close frame)';
      default:
        return s.op;
    }
  });
  return `#${c.index} ${c.phase}/${c.category}/${c.variant}: WS ${show(c.path)} headers ${show(c.headers.join(' | '))}; ${steps.join('; ')}`;
}
