/**
 * Executes one case against a server and reduces what happened to an outcome string plus violations. The outcome
 * names what the server did (`http:404`, `error:LIVESTEM_ERR_BAD_MESSAGE/4400`, `done/1000`, `close:1002`, `eof`,
 * `timeout:<what>`, …) so that counting outcomes per category is the report. Checks beyond the outcome (auth
 * bypass, lost samples, NaN output, unbounded send buffer, malformed server frames) are violations.
 */
import { connect } from 'node:net';
import { isErrorCode } from '../../server/errors.ts';
import { decodeAudioFrameHeader, FRAME_HEADER_BYTES } from '../../client-sdk/src/protocol/index.ts';
import { closeCodeMismatch, PH, type CaseResult, type HttpCase, type WsCase, type FuzzCase } from './cases.ts';
import { closeFrame, connectionCounter, RawWs, textFrame, upgradeHead } from './raw-ws.ts';

export interface RunTarget {
  host: string;
  port: number;
  /** Key for minting tokens and deleting WebRTC resources (auth phase), if the server has one. */
  apiKey: string | undefined;
  /** Server's send-buffer limit (SLOW_CONSUMER threshold). */
  maxSendBufferBytes: number;
  /** Longest wait for any single answer before it counts as a hang. */
  answerTimeoutMs: number;
}

export function runCase(c: FuzzCase, t: RunTarget): Promise<CaseResult> {
  return c.kind === 'http' ? runHttp(c, t) : runWs(c, t);
}

// ---- HTTP ----

interface HttpAnswer {
  outcome: string;
  status: number;
  head: string;
}

/** Sends raw bytes and reads the response head: `http:S`, `no-response`, `reset`, `refused`, `aborted` or a timeout. */
export function rawHttp(t: Pick<RunTarget, 'host' | 'port'>, bytes: Buffer, waitMs: number, abortAfterWait: boolean): Promise<HttpAnswer> {
  connectionCounter.count++;
  return new Promise((resolve) => {
    const socket = connect({ port: t.port, host: t.host, noDelay: true });
    let data = Buffer.alloc(0);
    let settled = false;
    const finish = (outcome: string, status = 0, head = ''): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ outcome, status, head });
    };
    const timer = setTimeout(() => finish(abortAfterWait ? 'aborted' : 'timeout:http'), waitMs);
    socket.on('connect', () => socket.write(bytes));
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      const end = data.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = data.subarray(0, end).toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(head);
      finish(m ? `http:${m[1]}` : 'malformed-response', m ? Number(m[1]) : 0, head);
    });
    socket.on('error', (err: Error & { code?: string }) => finish(err.code === 'ECONNREFUSED' ? 'refused' : err.code === 'EPIPE' || err.code === 'ECONNRESET' ? 'reset' : `socket-error:${err.code ?? err.message}`));
    socket.on('close', () => finish(data.length > 0 ? 'malformed-response' : 'no-response'));
  });
}

function header(head: string, name: string): string | undefined {
  const m = new RegExp(`^${name}:\\s*(.*)$`, 'im').exec(head);
  return m?.[1]?.trim();
}

async function deleteResource(t: RunTarget, path: string): Promise<void> {
  const auth = t.apiKey ? `Authorization: Bearer ${t.apiKey}\r\n` : '';
  await rawHttp(t, Buffer.from(`DELETE ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n${auth}\r\n`, 'latin1'), t.answerTimeoutMs, false);
}

async function mintToken(t: RunTarget): Promise<string> {
  const auth = t.apiKey ? `Authorization: Bearer ${t.apiKey}\r\n` : '';
  const bytes = Buffer.from(`POST /v1/tokens HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n${auth}Content-Length: 0\r\n\r\n`, 'latin1');
  // The body is needed here, so this one reads to the end.
  const text = await new Promise<string>((resolve) => {
    connectionCounter.count++;
    const socket = connect({ port: t.port, host: t.host }, () => socket.write(bytes));
    let data = '';
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => (data += d));
    socket.on('close', () => resolve(data));
    socket.on('error', () => resolve(data));
    setTimeout(() => socket.destroy(), t.answerTimeoutMs).unref();
  });
  const m = /"token":"([^"]+)"/.exec(text);
  return m?.[1] ?? 'mint-failed';
}

/** Replaces token placeholders (minting, and for a used token consuming it once with a WebSocket upgrade). */
async function resolveTokens(text: string, t: RunTarget): Promise<string> {
  let out = text;
  if (out.includes(PH.freshToken)) out = out.split(PH.freshToken).join(await mintToken(t));
  if (out.includes(PH.usedToken)) {
    const token = await mintToken(t);
    const ws = new RawWs(t.port, t.host);
    await ws.handshake(upgradeHead(`/v1/stream?token=${token}`, []));
    await ws.until(() => ws.obs.status !== 0, t.answerTimeoutMs);
    ws.destroy();
    out = out.split(PH.usedToken).join(token);
  }
  return out;
}

async function runHttp(c: HttpCase, t: RunTarget): Promise<CaseResult> {
  const t0 = performance.now();
  const request = await resolveTokens(c.request, t);
  const bytes = Buffer.from(request, 'latin1');
  const answer = await rawHttp(t, c.cut !== undefined ? bytes.subarray(0, c.cut) : bytes, c.after === 'abort' ? 300 : t.answerTimeoutMs, c.after === 'abort');
  if (c.createsPeer && answer.status === 201) {
    const location = header(answer.head, 'location');
    if (location) await deleteResource(t, location);
  }
  const violations = answer.outcome === 'malformed-response' ? ['malformed HTTP response'] : [];
  return { outcome: answer.outcome, violations, durationMs: performance.now() - t0 };
}

// ---- WebSocket ----

function snapshot(ws: RawWs): string {
  const o = ws.obs;
  if (o.status === 0) return o.socketError === 'ECONNREFUSED' ? 'refused' : o.socketError ? 'reset' : o.ended ? 'no-response' : 'timeout:handshake';
  if (o.status !== 101) return `http:${o.status}`;
  const close = o.closeCode !== undefined ? String(o.closeCode) : o.ended ? 'eof' : 'open';
  const error = o.texts.find((m) => m.type === 'error');
  if (error) return `error:${String(error.raw['code'])}/${close}`;
  if (o.texts.some((m) => m.type === 'done')) return `done/${close}`;
  if (o.texts.some((m) => m.type === 'webrtc-answer')) return `webrtc-answer/${close}`;
  if (o.closeCode !== undefined) return `close:${o.closeCode}`;
  if (o.ended) return o.socketError === 'ECONNRESET' ? 'reset' : 'eof';
  return 'open';
}

const count = (ws: RawWs, types: readonly string[]): number => ws.obs.texts.filter((m) => types.includes(m.type)).length;
const hasError = (ws: RawWs): boolean => ws.obs.texts.some((m) => m.type === 'error');

async function open(c: WsCase, t: RunTarget, path: string, headers: string[]): Promise<RawWs> {
  const ws = new RawWs(t.port, t.host);
  await ws.handshake(c.rawHandshake ?? upgradeHead(path, headers));
  if (c.rawHandshake === undefined) await ws.until(() => ws.obs.status !== 0, t.answerTimeoutMs);
  return ws;
}

async function runWs(c: WsCase, t: RunTarget): Promise<CaseResult> {
  const t0 = performance.now();
  const path = await resolveTokens(c.path, t);
  const headers = await Promise.all(c.headers.map((h) => resolveTokens(h, t)));
  const violations: string[] = [];
  const all: RawWs[] = [];
  let ws = await open(c, t, path, headers);
  all.push(ws);
  let outcome: string | undefined;
  let timedOut: string | undefined;
  let sentinels = 0;
  let closedByUs = false;
  let aborted = false;
  let completed = true;
  const wait = async (what: string, predicate: () => boolean, ms = t.answerTimeoutMs): Promise<void> => {
    if (!(await ws.until(() => predicate() || hasError(ws) || ws.obs.closeCode !== undefined, ms))) timedOut ??= what;
  };
  if (ws.obs.status === 101 || c.rawHandshake !== undefined) {
    for (let i = 0; i < c.steps.length && timedOut === undefined; i++) {
      const step = c.steps[i]!;
      const live = !aborted && ws.isOpen && !hasError(ws);
      // After our own abort only the steps of the next connection run; after the server closed, nothing.
      if (aborted ? step.op !== 'sleep' && step.op !== 'reconnect' : !live && step.op !== 'close') {
        completed = false;
        break;
      }
      switch (step.op) {
        case 'send':
          ws.write(step.bytes);
          break;
        case 'await':
          await wait(`await ${step.types.join('|')}`, () => count(ws, step.types) >= step.count, step.timeoutMs);
          break;
        case 'sentinel': {
          const id = `sentinel-${c.index}-${sentinels++}`;
          ws.write(textFrame(JSON.stringify({ type: 'ping', id })));
          await wait('sentinel pong', () => ws.obs.texts.some((m) => m.type === 'pong' && m.raw['id'] === id), 2 * t.answerTimeoutMs);
          break;
        }
        case 'pause':
          ws.pauseReading();
          break;
        case 'resume-reading':
          ws.resumeReading();
          break;
        case 'sleep':
          await new Promise((r) => setTimeout(r, step.ms));
          break;
        case 'abort':
          // a handshake we cut ourselves has no answer to wait for
          outcome = ['open', 'timeout:handshake'].includes(snapshot(ws)) ? 'aborted' : snapshot(ws);
          aborted = true;
          ws.abort(step.reset);
          break;
        case 'end':
          ws.write(textFrame('{"type":"end"}'));
          // done waits for the session's buffered audio (up to maxBufferedInputMs) behind every other session's in
          // the engine: on a saturated box that takes a while without being a hang
          await wait('done', () => count(ws, ['done']) > 0, 3 * t.answerTimeoutMs);
          if (timedOut === undefined) await wait('close after done', () => ws.obs.ended, t.answerTimeoutMs);
          break;
        case 'close':
          if (!live) break;
          outcome = snapshot(ws);
          closedByUs = true;
          ws.write(closeFrame(1000));
          await ws.until(() => ws.obs.ended || ws.obs.closeCode !== undefined, 2000);
          break;
        case 'reconnect': {
          const ready = ws.obs.texts.find((m) => m.type === 'ready')?.raw;
          ws.destroy();
          ws = await open(c, t, path, headers);
          all.push(ws);
          outcome = undefined;
          aborted = false;
          if (ws.obs.status !== 101) break;
          const text = step.text.split(PH.sessionId).join(String(ready?.['sessionId'] ?? 'none')).split(PH.resumeToken).join(String(ready?.['resumeToken'] ?? 'none'));
          ws.write(textFrame(text));
          break;
        }
      }
    }
    // Every error is followed by a close (protocol §2): waiting for it is part of the case.
    if (timedOut === undefined && !closedByUs && outcome === undefined && hasError(ws) && ws.obs.closeCode === undefined && !ws.obs.ended) {
      if (!(await ws.until(() => ws.obs.closeCode !== undefined, t.answerTimeoutMs))) timedOut = 'close after error';
    }
  }
  outcome = timedOut !== undefined ? `timeout:${timedOut}` : (outcome ?? snapshot(ws));
  for (const w of all) checkObservation(c, w, t, violations);
  if (completed && timedOut === undefined) checkAudio(c, ws, violations);
  for (const w of all) {
    for (const answer of w.obs.texts.filter((m) => m.type === 'webrtc-answer')) {
      const resource = answer.raw['resource'];
      if (typeof resource === 'string' && resource.startsWith('/v1/webrtc/')) await deleteResource(t, resource);
    }
    w.destroy();
  }
  return { outcome, violations, durationMs: performance.now() - t0 };
}

function checkObservation(c: WsCase, ws: RawWs, t: RunTarget, violations: string[]): void {
  const o = ws.obs;
  if (o.malformed) violations.push(`malformed server output: ${o.malformed}`);
  if (c.mustRefuse && o.texts.some((m) => m.type === 'ready')) violations.push('auth bypass: ready after invalid credentials/origin');
  const errors = o.texts.filter((m) => m.type === 'error');
  const error = errors[0];
  if (error) {
    const codes = errors.map((e) => String(e.raw['code']));
    for (const code of codes) if (!isErrorCode(code)) violations.push(`error code not in the catalog: ${code.slice(0, 80)}`);
    // protocol §2: one error message, then the close with that error's code
    if (errors.length > 1) violations.push(`${errors.length} error messages on one socket (${codes.join(', ')}): the first was not followed by its close`);
    else {
      const mismatch = closeCodeMismatch(codes[0]!, o.closeCode);
      if (mismatch) violations.push(mismatch);
    }
  }
  if (c.watchSendBuffer && !(error && String(error.raw['code']) === 'LIVESTEM_ERR_SLOW_CONSUMER')) {
    let max = 0;
    for (const m of o.texts) if (m.type === 'stats' && typeof m.raw['sendBufferedBytes'] === 'number') max = Math.max(max, m.raw['sendBufferedBytes']);
    // one reply of slack: the limit is checked after a send
    if (max > t.maxSendBufferBytes + 64 * 1024) violations.push(`send buffer over limit without SLOW_CONSUMER: ${max} bytes queued (limit ${t.maxSendBufferBytes})`);
  }
}

/** A session that ended with done: every sample back (length per kind == input length at the output rate), finite. */
function checkAudio(c: WsCase, ws: RawWs, violations: string[]): void {
  const plan = c.audio;
  const done = ws.obs.texts.find((m) => m.type === 'done')?.raw;
  if (!plan || !done) return;
  const ready = ws.obs.texts.find((m) => m.type === 'ready')?.raw as { output?: { outputs?: string[] } } | undefined;
  const expectedOut = Math.ceil((plan.inputSamples * plan.outputRateHz) / plan.inputRateHz - 1e-9);
  if (done['inputSamples'] !== plan.inputSamples) violations.push(`done.inputSamples ${String(done['inputSamples'])}, sent ${plan.inputSamples}`);
  if (done['outputSamples'] !== expectedOut) violations.push(`done.outputSamples ${String(done['outputSamples'])}, expected ${expectedOut}`);
  const ends = new Map<string, number>();
  let nonFinite = 0;
  for (const { bytes } of ws.obs.binaries) {
    let h;
    try {
      h = decodeAudioFrameHeader(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    } catch (err) {
      violations.push(`bad output frame: ${(err as Error).message}`);
      return;
    }
    const end = ends.get(h.kind) ?? 0;
    if (h.sampleOffset !== end && !(end === 0 && ends.get(h.kind) === undefined && h.sampleOffset === 0)) {
      violations.push(`${h.kind}: frame at ${h.sampleOffset}, expected ${end}`);
      return;
    }
    ends.set(h.kind, h.sampleOffset + h.sampleCount);
    if (plan.checkFinite && h.format === 'f32le') {
      const payload = new Float32Array(bytes.buffer.slice(bytes.byteOffset + FRAME_HEADER_BYTES, bytes.byteOffset + bytes.byteLength));
      for (const v of payload) if (!Number.isFinite(v)) nonFinite++;
    }
  }
  for (const kind of ready?.output?.outputs ?? []) {
    const got = ends.get(kind) ?? 0;
    if (got !== expectedOut) violations.push(`${kind}: received ${got} samples, expected ${expectedOut} (input ${plan.inputSamples} @ ${plan.inputRateHz} → ${plan.outputRateHz} Hz)`);
  }
  if (nonFinite > 0) violations.push(`non-finite output: ${nonFinite} NaN/Inf samples`);
}
