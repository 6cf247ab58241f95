/**
 * Session + registry without network or ORT: a recording fake connection, an identity model (mask 1, so vocals =
 * input exactly) and a manual clock.
 */
import t from 'tap';
import type { LivestemError } from '../server/errors.ts';
import type { FrameModelStream } from '../server/inference/frame-model.ts';
import { parseManifest } from '../server/inference/model-manifest.ts';
import { createLogger } from '../server/log.ts';
import { Metrics } from '../server/metrics/metrics.ts';
import { decodeAudioFrame } from '../server/protocol/audio-frame-codec.ts';
import { encodePcm } from '../server/protocol/pcm-codec.ts';
import type { Connection, ConnectionHandler } from '../server/session/connection.ts';
import { SessionRegistry } from '../server/session/session-registry.ts';
import type { SessionTimers } from '../server/session/session.ts';
import { noise } from './helpers/signals.ts';

const manifest = parseManifest({
  schemaVersion: 1,
  name: 'identity',
  arch: 'lstm',
  description: 'identity mask for tests',
  sampleRateHz: 16000,
  channels: 2,
  stft: { nFft: 512, hopSamples: 128, window: 'sqrt-hann' },
  bins: 257,
  latencySamples: 384,
  vadThreshold: 0.5,
  io: {
    input: { name: 'x', shape: ['batch', 2, 257] },
    mask: { name: 'm', shape: ['batch', 2, 257] },
    vad: { name: 'v', shape: ['batch', 1] },
    state: [],
  },
  parameters: 0,
  macsPerFrame: 0,
});

class IdentityStream implements FrameModelStream {
  async step(features: Float32Array) {
    return { mask: new Float32Array(features.length).fill(1), vadProb: 0.9 };
  }
  resetState(): void {}
  close(): void {}
}

class FakeConnection implements Connection {
  readonly id = 'c1';
  readonly remoteAddress = 'test';
  handler: ConnectionHandler | undefined;
  texts: Array<Record<string, unknown>> = [];
  binaries: Uint8Array[] = [];
  closed: { code: number; reason: string } | undefined;
  bufferedBytes = 0;
  paused = false;
  bind(handler: ConnectionHandler | undefined): void {
    this.handler = handler;
  }
  sendText(text: string): void {
    this.texts.push(JSON.parse(text) as Record<string, unknown>);
  }
  sendBinary(bytes: Uint8Array): void {
    this.binaries.push(bytes);
  }
  close(code: number, reason: string): void {
    this.closed ??= { code, reason };
  }
  pauseInput(): void {
    this.paused = true;
  }
  resumeInput(): void {
    this.paused = false;
  }
  json(type: string): Record<string, unknown> | undefined {
    return this.texts.find((m) => m['type'] === type);
  }
}

class ManualTimers implements SessionTimers {
  time = 0;
  timers: Array<{ at: number; fn: () => void; live: boolean }> = [];
  now(): number {
    return this.time;
  }
  setTimeout(fn: () => void, ms: number) {
    const timer = { at: this.time + ms, fn, live: true };
    this.timers.push(timer);
    return { cancel: () => (timer.live = false) };
  }
  advance(ms: number): void {
    this.time += ms;
    for (const timer of this.timers) {
      if (timer.live && timer.at <= this.time) {
        timer.live = false;
        timer.fn();
      }
    }
  }
}

function setup(overrides: { maxSessions?: number; load?: number; maxBufferedInputMs?: number; maxSendBufferBytes?: number } = {}) {
  const timers = new ManualTimers();
  const registry = new SessionRegistry({
    settings: {
      limits: { maxMessageBytes: 1 << 20, maxBufferedInputMs: overrides.maxBufferedInputMs ?? 1000, idleTimeoutMs: 5000, resumeGraceMs: 0, resumeBufferMs: 0 },
      startTimeoutMs: 1000,
      maxSendBufferBytes: overrides.maxSendBufferBytes ?? 8 << 20,
      lateFrameMs: 40,
      maxFrameSamples: 8192,
    },
    maxSessions: overrides.maxSessions ?? 4,
    maxLoad: 0.8,
    metrics: new Metrics(),
    log: createLogger({ level: 'error', write: () => undefined }),
    timers,
    models: {
      get: (name) =>
        name === 'identity'
          ? { manifest, createStream: () => new IdentityStream() }
          : name === 'broken'
            ? { manifest, createStream: () => { throw new Error('model stream failed'); } }
            : undefined,
      defaultModel: 'identity',
    },
    load: () => overrides.load ?? 0,
  });
  return { registry, timers };
}

const settle = () => new Promise((r) => setImmediate(r));
const start = { type: 'start', sampleRateHz: 16000, channels: 2, format: 'f32le' };

function vocalsOf(conn: FakeConnection): Float32Array[] {
  const frames = conn.binaries.map((b) => decodeAudioFrame(b)).filter((f) => f.kind === 'vocals');
  const length = frames.reduce((n, f) => n + f.sampleCount, 0);
  return [0, 1].map((c) => {
    const out = new Float32Array(length);
    for (const f of frames) out.set(f.samples[c]!, f.sampleOffset);
    return out;
  });
}

t.test('identity model: vocals equal the input sample for sample, done after end, close 1000', async (t) => {
  const { registry } = setup();
  const conn = new FakeConnection();
  registry.open(conn);
  conn.handler!.onText(JSON.stringify(start));
  t.match(conn.json('ready'), { latency: { samples: 384 } });
  const input = [noise(5000, 1, 0.5), noise(5000, 2, 0.5)];
  for (let s = 0; s < 5000; s += 700) conn.handler!.onBinary(encodePcm(input.map((c) => c.subarray(s, Math.min(5000, s + 700))), 'f32le'));
  conn.handler!.onText(JSON.stringify({ type: 'end' }));
  for (let i = 0; i < 200 && !conn.closed; i++) await settle();
  t.same(conn.closed, { code: 1000, reason: 'done' });
  t.match(conn.json('done'), { inputSamples: 5000, outputSamples: 5000 });
  const vocals = vocalsOf(conn);
  t.equal(vocals[0]!.length, 5000);
  let err = 0;
  vocals.forEach((ch, c) => ch.forEach((v, i) => (err = Math.max(err, Math.abs(v - input[c]![i]!)))));
  t.ok(err < 1e-5, `identity error ${err}`);
  t.equal(registry.activeCount, 0, 'released');
});

t.test('input backpressure: pause above half the buffer, INPUT_OVERRUN beyond it', async (t) => {
  const { registry } = setup({ maxBufferedInputMs: 100 });
  const conn = new FakeConnection();
  registry.open(conn);
  conn.handler!.onText(JSON.stringify(start));
  conn.handler!.onBinary(encodePcm([new Float32Array(1000), new Float32Array(1000)], 'f32le')); // 62.5 ms
  t.ok(conn.paused, 'paused reading above 50 ms');
  for (let i = 0; i < 50; i++) await settle();
  t.notOk(conn.paused, 'resumed once processed');
  conn.handler!.onBinary(encodePcm([new Float32Array(1700), new Float32Array(1700)], 'f32le')); // 106 ms at once
  t.match(conn.json('error'), { code: 'LIVESTEM_ERR_INPUT_OVERRUN' });
  t.same(conn.closed, { code: 4429, reason: 'LIVESTEM_ERR_INPUT_OVERRUN' });
});

t.test('output backpressure: a client not reading is paused, then closed SLOW_CONSUMER', async (t) => {
  const { registry } = setup({ maxSendBufferBytes: 2 << 20 });
  const conn = new FakeConnection();
  registry.open(conn);
  conn.handler!.onText(JSON.stringify(start));
  conn.bufferedBytes = 1.5 * (1 << 20);
  conn.handler!.onBinary(encodePcm([new Float32Array(1000), new Float32Array(1000)], 'f32le'));
  for (let i = 0; i < 50; i++) await settle();
  t.ok(conn.paused, 'input paused while over 1 MiB unsent');
  conn.bufferedBytes = 0;
  conn.handler!.onSendDrained();
  t.notOk(conn.paused, 'resumed when drained');
  conn.bufferedBytes = 3 << 20;
  conn.handler!.onBinary(encodePcm([new Float32Array(1000), new Float32Array(1000)], 'f32le'));
  for (let i = 0; i < 50 && !conn.closed; i++) await settle();
  t.match(conn.json('error'), { code: 'LIVESTEM_ERR_SLOW_CONSUMER' });
  t.equal(conn.closed?.code, 4409);
});

t.test('timers: start timeout and idle timeout fail with IDLE_TIMEOUT; messages re-arm the idle timer', async (t) => {
  const { registry, timers } = setup();
  const silent = new FakeConnection();
  registry.open(silent);
  timers.advance(1000);
  t.match(silent.json('error'), { code: 'LIVESTEM_ERR_IDLE_TIMEOUT' });
  const conn = new FakeConnection();
  registry.open(conn);
  conn.handler!.onText(JSON.stringify(start));
  timers.advance(4000);
  conn.handler!.onText(JSON.stringify({ type: 'ping', id: 1 }));
  t.match(conn.json('pong'), { id: 1 });
  timers.advance(4000);
  t.equal(conn.closed, undefined, 'ping kept it alive');
  timers.advance(1001);
  t.equal(conn.closed?.code, 4408);
});

t.test('admission: session limit always, engine load only while someone streams, draining refuses', async (t) => {
  const busy = setup({ maxSessions: 1, load: 0.95 });
  const first = new FakeConnection();
  busy.registry.open(first);
  first.handler!.onText(JSON.stringify(start));
  t.ok(first.json('ready'), 'high load but nobody to degrade: admitted');
  const second = new FakeConnection();
  busy.registry.open(second);
  second.handler!.onText(JSON.stringify(start));
  t.match(second.json('error'), { code: 'LIVESTEM_ERR_OVERLOADED' });
  t.equal(second.closed?.code, 1013);
  const loaded = setup({ maxSessions: 10, load: 0.95 });
  const a = new FakeConnection();
  loaded.registry.open(a);
  a.handler!.onText(JSON.stringify(start));
  const b = new FakeConnection();
  loaded.registry.open(b);
  b.handler!.onText(JSON.stringify(start));
  t.match((b.json('error') as { message: string } | undefined)?.message, /engine load 0.95/);
  const draining = loaded.registry.drain(10);
  const c = new FakeConnection();
  loaded.registry.open(c);
  c.handler!.onText(JSON.stringify(start));
  t.match(c.json('error'), { code: 'LIVESTEM_ERR_DRAINING' });
  loaded.timers.advance(10);
  for (let i = 0; i < 50; i++) await settle();
  await draining;
  t.match(a.json('done'), { reason: 'shutdown' });
  t.equal(a.closed?.code, 1001);
  const errors = (b.json('error') as unknown as LivestemError | undefined)?.code;
  t.equal(errors, 'LIVESTEM_ERR_OVERLOADED');
});

t.test('a bug while handling one message fails that session with INTERNAL (1011), not the process', async (t) => {
  const { registry } = setup();
  const conn = new FakeConnection();
  registry.open(conn);
  conn.handler!.onText(JSON.stringify({ ...start, model: 'broken' }));
  t.match(conn.json('error'), { code: 'LIVESTEM_ERR_INTERNAL' });
  t.equal(conn.closed?.code, 1011);
  const other = new FakeConnection();
  registry.open(other);
  other.handler!.onText(JSON.stringify(start));
  t.ok(other.json('ready'), 'the next session starts normally');
});
