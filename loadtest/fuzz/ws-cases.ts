/**
 * WebSocket cases about messages and sessions: invalid JSON, schema-invalid and mutated valid messages of every
 * type, binary audio that is early, misaligned, non-finite or huge, credentials and origins, and resume with
 * mutated ids. Every session that ends with `end` must give back output length == input length (AudioPlan).
 */
import { encodePcm } from '../../client-sdk/src/protocol/index.ts';
import {
  ANY_CLIENT_ERROR,
  PH,
  errorOutcome,
  type AudioPlan,
  type Category,
  type WsCase,
  type WsStep,
} from './cases.ts';
import type { GenContext } from './http-cases.ts';
import { OP, encodeFrame, textFrame } from './raw-ws.ts';
import type { Rng } from './rng.ts';

export const RATES_HZ = [8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000] as const;
const FLT_MAX = 3.4028234663852886e38;

export function json(value: unknown, note?: string): WsStep {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return { op: 'send', bytes: textFrame(text), note: note ?? `text ${text.length > 60 ? `${text.slice(0, 60)}…` : text}` };
}

export function binary(bytes: Uint8Array, note: string): WsStep {
  return { op: 'send', bytes: encodeFrame(OP.binary, bytes), note };
}

/** The credential every non-auth case uses: none in the open phase, the API key in the auth phase. */
export function sessionHeaders(ctx: GenContext): string[] {
  return ctx.phase === 'auth' ? [`Authorization: Bearer ${ctx.apiKey}`] : [];
}

export function wsCase(ctx: GenContext, category: Category, variant: string, steps: WsStep[], expect: string[], extra: Partial<WsCase> = {}): WsCase {
  const messages = steps.reduce((n, s) => n + (s.op === 'send' ? (s.count ?? 1) : s.op === 'sentinel' || s.op === 'end' || s.op === 'reconnect' ? 1 : 0), 0);
  return { kind: 'ws', index: ctx.index, phase: ctx.phase, category, variant, messages, expect, path: '/v1/stream', headers: sessionHeaders(ctx), steps, ...extra };
}

export interface StartSpec {
  message: Record<string, unknown>;
  inputRateHz: number;
  outputRateHz: number;
  channels: 1 | 2;
  format: 's16le' | 'f32le';
  outputFormat: 's16le' | 'f32le';
}

/** A valid `start` with random optional fields. */
export function validStart(rng: Rng, force: Partial<Pick<StartSpec, 'format' | 'outputFormat'>> = {}): StartSpec {
  const inputRateHz = rng.pick(RATES_HZ);
  const outputRateHz = rng.chance(0.6) ? inputRateHz : rng.pick(RATES_HZ);
  const channels = rng.chance(0.5) ? 2 : 1;
  const format = force.format ?? rng.pick(['s16le', 'f32le'] as const);
  const outputFormat = force.outputFormat ?? (rng.chance(0.5) ? format : rng.pick(['s16le', 'f32le'] as const));
  const message: Record<string, unknown> = { type: 'start', sampleRateHz: inputRateHz, channels, format };
  if (outputRateHz !== inputRateHz || rng.chance(0.3)) message['outputSampleRateHz'] = outputRateHz;
  if (outputFormat !== format || rng.chance(0.3)) message['outputFormat'] = outputFormat;
  if (rng.chance(0.3)) message['outputs'] = rng.pick([['vocals'], ['accompaniment'], ['karaoke'], ['vocals', 'accompaniment', 'karaoke']]);
  if (rng.chance(0.2)) message['vocalGain'] = rng.next();
  if (rng.chance(0.3)) message['vad'] = rng.chance(0.5);
  if (rng.chance(0.2)) message['streamId'] = rng.string(rng.int(1, 128));
  if (rng.chance(0.2)) message['protocolVersion'] = 1;
  if (rng.chance(0.1)) message['model'] = 'lstm';
  return { message, inputRateHz, outputRateHz, channels, format, outputFormat };
}

/** Interleaved PCM of a tone + noise, optionally with planted hostile values. */
export function audioBytes(rng: Rng, frames: number, channels: number, format: 's16le' | 'f32le', plant: readonly number[] = []): Uint8Array {
  const f0 = 100 + rng.int(0, 900);
  const planar = Array.from({ length: channels }, (_, c) =>
    Float32Array.from({ length: frames }, (_, i) => 0.3 * Math.sin((2 * Math.PI * f0 * (i + 1000 * c)) / 16000) + 0.1 * (rng.next() * 2 - 1)),
  );
  for (const value of plant) planar[rng.int(0, channels - 1)]![rng.int(0, Math.max(0, frames - 1))] = value;
  return encodePcm(planar, format);
}

/** start → ready → `chunks` of audio. Returns the steps and how many sample frames they carry. */
export function streamSteps(rng: Rng, spec: StartSpec, chunks: number, plant: () => readonly number[] = () => []): { steps: WsStep[]; samples: number } {
  const steps: WsStep[] = [json(spec.message, 'start'), { op: 'await', types: ['ready'], count: 1 }];
  let samples = 0;
  for (let i = 0; i < chunks; i++) {
    const frames = rng.chance(0.1) ? 1 : rng.int(1, Math.round(spec.inputRateHz / 50));
    steps.push(binary(audioBytes(rng, frames, spec.channels, spec.format, plant()), `audio ${frames} frames`));
    samples += frames;
  }
  return { steps, samples };
}

export function plan(spec: StartSpec, inputSamples: number, checkFinite = false): AudioPlan {
  return { inputRateHz: spec.inputRateHz, outputRateHz: spec.outputRateHz, channels: spec.channels, outputFormat: spec.outputFormat, inputSamples, checkFinite };
}

const INVALID_JSON: ReadonlyArray<(rng: Rng) => string> = [
  () => '', () => ' ', () => '{', () => '}', () => '{"type":"start",', () => 'null', () => 'true', () => '1', () => '"start"',
  () => '[]', () => '[{"type":"ping"}]', () => 'NaN', () => '{"type":"ping"}garbage', () => '\uFEFF{"type":"ping"}',
  () => '{type:"ping"}', () => "{'type':'ping'}", () => '{"type":"ping",}', () => '{"type":"ping"', () => '"\\ud800"',
  () => '{"type":"ping","id":1e999}', () => `{"type":"ping","id":${'9'.repeat(400)}}`, () => '{"type":"\\u0000"}',
  () => '{"type":"ping","type":"start"}', () => '{"__proto__":{"type":"ping"}}', () => '{"constructor":{"prototype":{"type":"ping"}}}',
  (rng) => { const n = rng.int(1000, 100_000); return '['.repeat(n) + ']'.repeat(n); },
  (rng) => { const n = rng.int(1000, 50_000); return '{"a":'.repeat(n) + '1' + '}'.repeat(n); },
  (rng) => Buffer.from(rng.bytes(rng.int(1, 200))).toString('base64'),
];

export function jsonInvalidCase(ctx: GenContext): WsCase {
  const { rng } = ctx;
  const afterStart = rng.chance(0.4);
  const prelude = afterStart ? streamSteps(rng, validStart(rng), rng.int(0, 3)).steps : [];
  if (rng.chance(0.12)) {
    // Text frame that is not UTF-8: the WebSocket layer itself must refuse it (1007) or the session with BAD_MESSAGE.
    const bytes = Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0xc0, 0x80, 0x22, 0x7d]);
    const steps = [...prelude, { op: 'send' as const, bytes: encodeFrame(OP.text, bytes), note: 'text (invalid UTF-8)' }, { op: 'sentinel' as const }];
    return wsCase(ctx, 'json-invalid', `bad-utf8${afterStart ? ' after-start' : ''}`, steps, ['close:1007', 'error:LIVESTEM_ERR_BAD_MESSAGE/*']);
  }
  const i = rng.int(0, INVALID_JSON.length - 1);
  const steps = [...prelude, json(INVALID_JSON[i]!(rng), `invalid JSON #${i}`), { op: 'sentinel' as const }];
  return wsCase(ctx, 'json-invalid', `#${i}${afterStart ? ' after-start' : ''}`, steps, [errorOutcome('LIVESTEM_ERR_BAD_MESSAGE')]);
}

const BIG = 'a'.repeat(1_000_000);
const HOSTILE_VALUES: readonly unknown[] = [
  null, true, false, 0, -1, 1.5, -0, 1e308, -1e308, 2 ** 53 + 1, 2 ** 64, -2147483649, 0.1, '', ' ', 'x', '1', 'NaN', 'Infinity',
  '0x10', [], [null], {}, { type: 'start' }, '\u0000', '😀'.repeat(10), 'a'.repeat(65), 'a'.repeat(257), 'a'.repeat(10_000),
];

const TYPES = ['start', 'resume', 'configure', 'flush', 'end', 'ping', 'stats', 'webrtc-offer'] as const;

function baseMessage(rng: Rng, type: (typeof TYPES)[number]): Record<string, unknown> {
  switch (type) {
    case 'start':
      return validStart(rng).message;
    case 'resume':
      return { type, sessionId: rng.string(36, '0123456789abcdef-'), resumeToken: rng.string(32), lastSampleOffset: rng.int(0, 1e6) };
    case 'configure':
      return { type, outputs: rng.pick([['vocals'], ['karaoke'], ['vocals', 'accompaniment']]), vocalGain: rng.next() };
    case 'ping':
    case 'stats':
      return { type, id: rng.chance(0.5) ? rng.int(0, 1e6) : rng.string(rng.int(1, 64)) };
    case 'webrtc-offer':
      return { type, sdp: rng.pick(['v=0', 'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\n', 'x']), outputs: ['vocals'] };
    default:
      return { type };
  }
}

/** One mutation of a valid message; returns the text to send (sometimes hand-written JSON) and its label. */
function mutate(rng: Rng, message: Record<string, unknown>): { text: string; label: string } {
  const keys = Object.keys(message);
  const value = (): unknown => (rng.chance(0.03) ? BIG : rng.pick(HOSTILE_VALUES));
  switch (rng.int(0, 6)) {
    case 0: {
      const key = rng.pick(keys);
      const v = value();
      return { text: JSON.stringify({ ...message, [key]: v }), label: `${key}=${typeof v === 'string' && v.length > 20 ? `str(${v.length})` : JSON.stringify(v)}` };
    }
    case 1: {
      const key = rng.pick(keys);
      const copy = { ...message };
      delete copy[key];
      return { text: JSON.stringify(copy), label: `-${key}` };
    }
    case 2: {
      const key = rng.pick(['extra', 'constructor', 'prototype', 'toString', 'type ', '', 'id', 'sdp']);
      return { text: JSON.stringify({ ...message, [key]: value() }), label: `+${key || '""'}` };
    }
    case 3: {
      const t = rng.pick(['START', 'start ', 'Start', 'ping\u0000', '', 'unknown', 'ready', 'error', 'webrtc-answer', 'pong', 'a'.repeat(300)]);
      return { text: JSON.stringify({ ...message, type: t }), label: `type=${JSON.stringify(t.slice(0, 12))}` };
    }
    case 4: {
      const id = rng.pick([1.5, null, 1e308, -1e308, 2 ** 53 + 1, 2 ** 64, -0, 'x'.repeat(64), 'x'.repeat(65), 'x'.repeat(256), 'x'.repeat(257), BIG, [], {}, true]);
      const label = typeof id === 'string' ? `id=str(${id.length})` : `id=${JSON.stringify(id)}`;
      return { text: JSON.stringify({ type: rng.pick(['ping', 'stats']), id }), label };
    }
    case 5:
      // duplicate key: JSON.parse keeps the last one
      return { text: `${JSON.stringify(message).slice(0, -1)},"type":${JSON.stringify(rng.pick(TYPES))}}`, label: 'duplicate-type' };
    default:
      return { text: `{"__proto__":${JSON.stringify(message)},"type":${JSON.stringify(message['type'])}}`, label: '__proto__' };
  }
}

export function schemaCase(ctx: GenContext): WsCase {
  const { rng } = ctx;
  const type = rng.pick(TYPES);
  const first = type === 'start' || type === 'resume' || type === 'webrtc-offer' ? rng.chance(0.8) : rng.chance(0.2);
  const { text, label } = rng.chance(0.1) ? { text: JSON.stringify(baseMessage(rng, type)), label: 'unmutated' } : mutate(rng, baseMessage(rng, type));
  const spec = validStart(rng);
  const prelude = first ? [] : streamSteps(rng, spec, rng.int(0, 2)).steps;
  const ending: WsStep = rng.weighted([
    [{ op: 'end' }, 6],
    [{ op: 'close' }, 2],
    [{ op: 'abort', reset: true }, 1],
  ] as const);
  const steps: WsStep[] = [...prelude, json(text, `${type} ${label}`), { op: 'sentinel' }, ending];
  // An accepted message leaves a working session (done after end); a refused one is a catalog error + its close.
  return wsCase(ctx, 'schema', `${type} ${first ? 'first' : 'in-session'} ${label.slice(0, 40)}`, steps, [
    ANY_CLIENT_ERROR, 'done/1000', 'open', 'aborted', 'webrtc-answer*',
  ]);
}

export function binaryCase(ctx: GenContext): WsCase {
  const { rng } = ctx;
  const variant = rng.pick(['before-start', 'misaligned', 'non-finite', 'valid', 'valid', 'empty', 'after-end', 'interleaved', 'over-buffer'] as const);
  const spec = validStart(rng, variant === 'non-finite' ? { format: 'f32le' } : {});
  const frameBytes = (spec.format === 's16le' ? 2 : 4) * spec.channels;
  if (variant === 'before-start') {
    return wsCase(ctx, 'binary', variant, [binary(rng.bytes(rng.int(0, 4000)), 'binary before start'), { op: 'sentinel' }], [errorOutcome('LIVESTEM_ERR_BAD_MESSAGE')]);
  }
  const { steps, samples } = streamSteps(rng, spec, rng.int(1, 6));
  switch (variant) {
    case 'misaligned': {
      const frames = rng.int(0, 500);
      steps.push(binary(rng.bytes(frames * frameBytes + rng.int(1, frameBytes - 1)), 'misaligned audio'), { op: 'sentinel' });
      return wsCase(ctx, 'binary', variant, steps, [errorOutcome('LIVESTEM_ERR_MISALIGNED_FRAME')]);
    }
    case 'non-finite': {
      const bad = rng.pick([NaN, Infinity, -Infinity]);
      steps.push(binary(audioBytes(rng, rng.int(1, 800), spec.channels, 'f32le', [bad]), `audio with ${bad}`), { op: 'sentinel' });
      return wsCase(ctx, 'binary', `${variant} ${bad}`, steps, [errorOutcome('LIVESTEM_ERR_NON_FINITE_SAMPLES')]);
    }
    case 'empty':
      steps.push(binary(new Uint8Array(0), 'empty binary'), { op: 'sentinel' }, { op: 'end' });
      return wsCase(ctx, 'binary', variant, steps, ['done/1000', errorOutcome('LIVESTEM_ERR_BAD_MESSAGE'), errorOutcome('LIVESTEM_ERR_MISALIGNED_FRAME')], { audio: plan(spec, samples) });
    case 'after-end':
      steps.push(json({ type: 'end' }, 'end'), binary(audioBytes(rng, 100, spec.channels, spec.format), 'audio after end'), { op: 'await', types: ['done', 'error'], count: 1 });
      return wsCase(ctx, 'binary', variant, steps, ['done/1000', errorOutcome('LIVESTEM_ERR_BAD_MESSAGE')]);
    case 'interleaved': {
      let total = samples;
      for (let i = 0; i < rng.int(2, 8); i++) {
        steps.push(json(rng.pick([{ type: 'ping', id: i }, { type: 'stats' }, { type: 'flush' }, { type: 'configure', vocalGain: rng.next() }])));
        const frames = rng.int(1, 2000);
        steps.push(binary(audioBytes(rng, frames, spec.channels, spec.format), `audio ${frames} frames`));
        total += frames;
      }
      steps.push({ op: 'end' });
      return wsCase(ctx, 'binary', variant, steps, ['done/1000'], { audio: plan(spec, total) });
    }
    case 'over-buffer': {
      // One message longer than maxBufferedInputMs (1 s): any size up to maxMessageBytes is accepted (§3, §7);
      // INPUT_OVERRUN only for a message arriving while the buffer is already full.
      const frames = Math.ceil(spec.inputRateHz * 1.6);
      steps.push(binary(audioBytes(rng, frames, spec.channels, spec.format), `audio ${frames} frames (1.6 s)`), { op: 'sentinel' }, { op: 'end' });
      return wsCase(ctx, 'binary', variant, steps, ['done/1000', errorOutcome('LIVESTEM_ERR_INPUT_OVERRUN')], { audio: plan(spec, samples + frames) });
    }
    default:
      steps.push({ op: 'end' });
      return wsCase(ctx, 'binary', variant, steps, ['done/1000'], { audio: plan(spec, samples) });
  }
}

export function sampleValuesCase(ctx: GenContext): WsCase {
  const { rng } = ctx;
  const spec = validStart(rng, { format: 'f32le', outputFormat: 'f32le' });
  const pool = [FLT_MAX, -FLT_MAX, 1e38, -1e30, 1e10, -1e10, 1e-45, -0, 1, -1, 3.4e38];
  const which = rng.pick(['spikes', 'all-max', 'alternating'] as const);
  const steps: WsStep[] = [json(spec.message, 'start'), { op: 'await', types: ['ready'], count: 1 }];
  let samples = 0;
  for (let i = 0; i < rng.int(1, 5); i++) {
    const frames = rng.int(1, 3000);
    let bytes: Uint8Array;
    if (which === 'spikes') bytes = audioBytes(rng, frames, spec.channels, 'f32le', Array.from({ length: rng.int(1, 20) }, () => rng.pick(pool)));
    else {
      const v = new Float32Array(frames * spec.channels);
      for (let k = 0; k < v.length; k++) v[k] = which === 'all-max' ? FLT_MAX : k % 2 === 0 ? FLT_MAX : -FLT_MAX;
      bytes = new Uint8Array(v.buffer);
    }
    steps.push(binary(bytes, `f32 audio ${frames} frames (${which})`));
    samples += frames;
  }
  steps.push({ op: 'end' });
  return wsCase(ctx, 'sample-values', which, steps, ['done/1000'], { audio: plan(spec, samples, true) });
}

type WsCred = 'none' | 'key' | 'bad-key' | 'basic' | 'token' | 'query-token' | 'query-key' | 'used-token' | 'query-used-token' | 'forged' | 'query-garbage' | 'huge';

export function authCase(ctx: GenContext): WsCase {
  const { rng, phase } = ctx;
  const cred = rng.pick<WsCred>(['none', 'key', 'key', 'bad-key', 'basic', 'token', 'query-token', 'query-key', 'used-token', 'query-used-token', 'forged', 'query-garbage', 'huge']);
  const origin = rng.pick(['none', 'none', 'good', 'bad', 'null', 'huge'] as const);
  const headers: string[] = [];
  let path = '/v1/stream';
  const bearer = (v: string): number => headers.push(`Authorization: Bearer ${v}`);
  if (cred === 'key') bearer(ctx.apiKey);
  else if (cred === 'bad-key') bearer(ctx.apiKey.slice(0, -1));
  else if (cred === 'basic') headers.push(`Authorization: Basic ${Buffer.from(`x:${ctx.apiKey}`).toString('base64')}`);
  else if (cred === 'token') bearer(PH.freshToken);
  else if (cred === 'used-token') bearer(PH.usedToken);
  else if (cred === 'forged') bearer(`${Buffer.from('{"jti":"a","exp":1e20}').toString('base64url')}.${'A'.repeat(43)}`);
  else if (cred === 'huge') bearer('t'.repeat(rng.int(5000, 20_000)));
  else if (cred === 'query-token') path += `?token=${PH.freshToken}`;
  // the query takes tokens only, never the key (URLs end up in logs): refused (§1)
  else if (cred === 'query-key') path += `?token=${ctx.apiKey}`;
  else if (cred === 'query-used-token') path += `?token=${PH.usedToken}`;
  else if (cred === 'query-garbage') path += `?token=${rng.pick(['', '%', '.', 'a.b.c', '%00', 'x'.repeat(3000)])}`;
  if (origin !== 'none') headers.push(`Origin: ${origin === 'good' ? ctx.goodOrigin : origin === 'bad' ? 'https://evil.example' : origin === 'null' ? 'null' : `https://${'o'.repeat(8000)}.example`}`);
  const spec = validStart(rng);
  const { steps, samples } = streamSteps(rng, spec, rng.int(1, 3));
  steps.push({ op: 'end' });
  let expect: string[];
  let refused = false;
  if (phase === 'open') expect = ['done/1000'];
  else if (ctx.originsEnforced && origin !== 'none' && origin !== 'good') [expect, refused] = [[errorOutcome('LIVESTEM_ERR_ORIGIN_NOT_ALLOWED')], true];
  else if (cred === 'key' || cred === 'token' || cred === 'query-token') expect = ['done/1000'];
  else [expect, refused] = [[errorOutcome('LIVESTEM_ERR_UNAUTHORIZED')], true];
  // Header sizes near Node's 16 KiB limit may be refused by the HTTP parser before any auth check.
  if (cred === 'huge' || origin === 'huge' || cred === 'query-garbage') expect.push('http:431');
  return wsCase(ctx, 'auth', `${cred}/${origin}`, steps, expect, { path, headers, audio: plan(spec, samples), mustRefuse: refused });
}

export function resumeCase(ctx: GenContext): WsCase {
  const { rng } = ctx;
  const spec = validStart(rng);
  const { steps } = streamSteps(rng, spec, rng.int(1, 4));
  steps.push({ op: 'sentinel' }, { op: 'abort', reset: rng.chance(0.7) }, { op: 'sleep', ms: rng.int(0, 50) });
  const resume: Record<string, unknown> = { type: 'resume', sessionId: PH.sessionId, resumeToken: PH.resumeToken, lastSampleOffset: 0 };
  const mutation = rng.pick(['valid', 'wrong-token', 'unknown-id', 'offset-huge', 'offset-negative', 'offset-fraction', 'offset-null', 'token-huge', 'extra', 'version-2'] as const);
  if (mutation === 'wrong-token') resume['resumeToken'] = 'A'.repeat(32);
  if (mutation === 'unknown-id') resume['sessionId'] = '00000000-0000-4000-8000-000000000000';
  if (mutation === 'offset-huge') resume['lastSampleOffset'] = rng.pick([1e9, 2 ** 53, 1e300]);
  if (mutation === 'offset-negative') resume['lastSampleOffset'] = -1;
  if (mutation === 'offset-fraction') resume['lastSampleOffset'] = 0.5;
  if (mutation === 'offset-null') resume['lastSampleOffset'] = null;
  if (mutation === 'token-huge') resume['resumeToken'] = 'x'.repeat(rng.int(129, 100_000));
  if (mutation === 'extra') resume['extra'] = true;
  if (mutation === 'version-2') resume['protocolVersion'] = 2;
  steps.push({ op: 'reconnect', text: JSON.stringify(resume) }, { op: 'sentinel' }, { op: 'end' });
  const expect =
    mutation === 'valid'
      ? ['done/1000', errorOutcome('LIVESTEM_ERR_UNKNOWN_SESSION'), errorOutcome('LIVESTEM_ERR_RESUME_GAP')]
      : mutation === 'wrong-token' || mutation === 'unknown-id'
        ? [errorOutcome('LIVESTEM_ERR_UNKNOWN_SESSION')]
        : mutation === 'offset-huge'
          ? [errorOutcome('LIVESTEM_ERR_RESUME_GAP'), errorOutcome('LIVESTEM_ERR_BAD_MESSAGE'), errorOutcome('LIVESTEM_ERR_UNKNOWN_SESSION')]
          : [errorOutcome(mutation === 'version-2' ? 'LIVESTEM_ERR_PROTOCOL_VERSION' : 'LIVESTEM_ERR_BAD_MESSAGE'), errorOutcome('LIVESTEM_ERR_BAD_MESSAGE')];
  return wsCase(ctx, 'resume', mutation, steps, expect);
}
