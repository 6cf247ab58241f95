/**
 * Session + registry without network or ORT: a recording fake connection, an identity model (mask 1, so vocals =
 * input exactly) and a manual clock.
 */
import t from 'tap';
import { InThreadEngine } from '../server/engine/in-thread-engine.ts';
import type { LivestemError } from '../server/errors.ts';
import type { FrameModelStream } from '../server/inference/frame-model.ts';
import type { ModelManifest } from '../server/inference/model-manifest.ts';
import { identityManifest } from './helpers/identity-manifest.ts';
import { createLogger } from '../server/log.ts';
import { Metrics } from '../server/metrics/metrics.ts';
import { createAdmission } from '../server/session/admission.ts';
import { decodeAudioFrame, encodePcm, type ServerMessage } from '../client-sdk/src/protocol/index.ts';
import type { Connection, ConnectionHandler, DeliveredOutput, OutputWire } from '../server/session/connection.ts';
import { encodeWsOutput } from '../server/transport/ws/ws-output.ts';
import { SessionRegistry } from '../server/session/session-registry.ts';
import type { SessionTimers } from '../server/session/session.ts';
import { noise } from './helpers/signals.ts';

const manifest = identityManifest;

class IdentityStream implements FrameModelStream {
  async step(features: Float32Array) {
    return { mask: new Float32Array(features.length).fill(1), vadProb: 0.9 };
  }
  resetState(): void {}
  close(): void {}
}

/** Steps only when the test opens the gate: the test decides (on its manual clock) how long a step takes. */
class GatedIdentityStream extends IdentityStream {
  static waiting: Array<() => void> = [];
  static open(): void {
    for (const go of GatedIdentityStream.waiting.splice(0)) go();
  }
  override async step(features: Float32Array) {
    await new Promise<void>((r) => GatedIdentityStream.waiting.push(r));
    return super.step(features);
  }
}

/** Steps one macrotask later, so processing a backlog spans several event-loop turns (like a real model). */
class SlowIdentityStream extends IdentityStream {
  override async step(features: Float32Array) {
    await new Promise((r) => setImmediate(r));
    return super.step(features);
  }
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
  inputBackpressure = true;
  /** A client that never reads: every byte sent stays queued. */
  notReading = false;
  bind(handler: ConnectionHandler | undefined): void {
    this.handler = handler;
  }
  sendMessage(message: ServerMessage): void {
    const text = JSON.stringify(message);
    this.texts.push(JSON.parse(text) as Record<string, unknown>);
    if (this.notReading) this.bufferedBytes += Buffer.byteLength(text);
  }
  /** Encoded exactly as the WebSocket transport does, so the tests read bytes on the wire. */
  sendOutput(output: DeliveredOutput, wire: OutputWire): void {
    for (const m of encodeWsOutput(output, wire)) {
      if ('text' in m) {
        this.texts.push(JSON.parse(m.text) as Record<string, unknown>);
        if (this.notReading) this.bufferedBytes += Buffer.byteLength(m.text);
      } else {
        this.binaries.push(m.binary);
        if (this.notReading) this.bufferedBytes += m.binary.byteLength;
      }
    }
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

interface SetupOverrides {
  maxSessions?: number;
  load?: number;
  maxBufferedInputMs?: number;
  maxSendBufferBytes?: number;
  maxControlMessagesPerSecond?: number;
  maxAudioMessagesPerSecond?: number;
}

const named = (name: string): ModelManifest => ({ ...manifest, name });
const fakeModels: Array<[string, () => FrameModelStream]> = [
  ['identity', () => new IdentityStream()],
  ['slow', () => new SlowIdentityStream()],
  ['gated', () => new GatedIdentityStream()],
  [
    'broken',
    () => {
      throw new Error('model stream failed');
    },
  ],
];

function setup(overrides: SetupOverrides = {}) {
  const timers = new ManualTimers();
  const metrics = new Metrics();
  const engine = new InThreadEngine({
    models: new Map(fakeModels.map(([name, createStream]) => [name, { manifest: named(name), model: { createStream } }])),
    telemetry: { countFrames: () => undefined, countNonFinite: () => undefined },
  });
  const registry = new SessionRegistry({
    settings: {
      limits: {
        maxMessageBytes: 1 << 20,
        maxBufferedInputMs: overrides.maxBufferedInputMs ?? 1000,
        idleTimeoutMs: 5000,
        startTimeoutMs: 1000,
        resumeGraceMs: 0,
        resumeBufferMs: 0,
        maxSendBufferBytes: overrides.maxSendBufferBytes ?? 8 << 20,
        maxControlMessagesPerSecond: overrides.maxControlMessagesPerSecond ?? 100,
        maxAudioMessagesPerSecond: overrides.maxAudioMessagesPerSecond ?? 1000,
        inputSampleLimit: 32,
      },
      lateFrameMs: 40,
      maxFrameSamples: 8192,
    },
    maxSessions: overrides.maxSessions ?? 4,
    metrics,
    log: createLogger({ level: 'error', write: () => undefined }),
    timers,
    engine,
    models: { get: (name) => (fakeModels.some(([n]) => n === name) ? named(name) : undefined), defaultModel: 'identity' },
    // the server's admission (measured headroom, admission-policy.ts) with an engine load the test chooses
    admission: createAdmission(
      { mode: 'latency', budgetMs: 10, maxLoad: 0.8, hopIntervalMs: 5.8 },
      { metrics, load: () => ({ load: overrides.load ?? 0, loadSessions: 1 }), now: () => timers.now() },
    ),
  });
  return { registry, timers, metrics };
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

t.test('input backpressure: pause above half the buffer; a message arriving while it is full is INPUT_OVERRUN', async (t) => {
  const { registry } = setup({ maxBufferedInputMs: 100 });
  const conn = new FakeConnection();
  registry.open(conn);
  conn.handler!.onText(JSON.stringify(start));
  conn.handler!.onBinary(encodePcm([new Float32Array(1000), new Float32Array(1000)], 'f32le')); // 62.5 ms
  t.ok(conn.paused, 'paused reading above 50 ms');
  for (let i = 0; i < 50; i++) await settle();
  t.notOk(conn.paused, 'resumed once processed');
  const big = encodePcm([new Float32Array(2400), new Float32Array(2400)], 'f32le'); // 150 ms in one message
  conn.handler!.onBinary(big);
  t.equal(conn.json('error'), undefined, 'one message larger than the buffer is accepted (only the byte limit bounds a message)');
  conn.handler!.onBinary(big);
  t.match(conn.json('error'), { code: 'LIVESTEM_ERR_INPUT_OVERRUN' }, 'the next one, sent while the buffer was full, is not');
  t.same(conn.closed, { code: 4429, reason: 'LIVESTEM_ERR_INPUT_OVERRUN' });
});

t.test('a transport without backpressure (RTP) drops its oldest input instead of failing, counted and reported', async (t) => {
  const { registry, metrics } = setup({ maxBufferedInputMs: 100 });
  const conn = new FakeConnection();
  conn.inputBackpressure = false;
  registry.open(conn);
  conn.handler!.onText(JSON.stringify(start));
  // 300 ms arrive before the engine gets a turn (a stall): the session keeps the newest 50 ms and carries on.
  for (let i = 0; i < 15; i++) conn.handler!.onBinary(encodePcm([new Float32Array(320), new Float32Array(320)], 'f32le'));
  t.equal(conn.json('error'), undefined, 'no error');
  t.notOk(conn.paused, 'never paused (pausing RTP does nothing)');
  const drops = conn.texts.filter((m) => m['type'] === 'input-dropped');
  const total = drops.reduce((n, m) => n + (m['samples'] as number), 0);
  t.ok(drops.length > 0, 'input-dropped reported to the client');
  t.equal(drops.at(-1)?.['totalSamples'], total, 'running total');
  const firstDrop = drops[0]?.['inputSampleOffset'] as number;
  t.ok(firstDrop < 320, `the oldest queued input went first (from input sample ${firstDrop})`);
  conn.handler!.onText(JSON.stringify({ type: 'end' }));
  for (let i = 0; i < 200 && !conn.closed; i++) await settle();
  const done = conn.json('done')!;
  t.equal(done['inputDroppedSamples'], total, 'done reports the drop');
  t.equal((done['inputSamples'] as number) + total, 15 * 320, 'processed + dropped = received');
  t.equal(done['outputSamples'], done['inputSamples'], 'output stays contiguous and as long as what was processed');
  const counted = (await metrics.registry.getSingleMetric('livestem_input_adjusted_samples_total')!.get()).values;
  t.equal(counted.find((v) => v.labels['reason'] === 'dropped-overrun')?.value, total, 'and the metric counts it');
});

t.test('finite but huge f32 samples are clamped and counted; output stays finite', async (t) => {
  const { registry } = setup();
  const conn = new FakeConnection();
  registry.open(conn);
  conn.handler!.onText(JSON.stringify(start));
  const huge = [new Float32Array(441).fill(3.4e38), new Float32Array(441).fill(-3.4e38)];
  huge[0]![0] = 0.5;
  huge[1]![0] = -0.25;
  conn.handler!.onBinary(encodePcm(huge, 'f32le'));
  conn.handler!.onText(JSON.stringify({ type: 'end' }));
  for (let i = 0; i < 200 && !conn.closed; i++) await settle();
  t.equal(conn.closed?.code, 1000);
  t.match(conn.json('done'), { inputSamples: 441, outputSamples: 441, inputClampedSamples: 440 });
  const vocals = vocalsOf(conn);
  t.ok(vocals.every((ch) => ch.every((v) => Number.isFinite(v))), 'every output sample is finite');
  t.ok(Math.abs(vocals[0]![0]! - 0.5) < 1e-5, 'in-range samples untouched');
  t.equal(vocals[0]![5], 32, 'clamped to +32');
  t.equal(vocals[1]![5], -32, 'clamped to -32');
});

t.test('rate limits: over the rate reading pauses until the bucket refills; a flood beyond that is RATE_LIMITED (4429)', async (t) => {
  const { registry, timers } = setup({ maxControlMessagesPerSecond: 80, maxAudioMessagesPerSecond: 200 });
  const conn = new FakeConnection();
  registry.open(conn);
  conn.handler!.onText(JSON.stringify(start));
  for (let i = 0; i < 19; i++) conn.handler!.onText('{"type":"ping"}');
  t.equal(conn.closed, undefined, 'a burst of a quarter second worth (start + 19 pings) is fine');
  t.notOk(conn.paused, 'and reading goes on');
  timers.advance(125);
  for (let i = 0; i < 10; i++) conn.handler!.onText('{"type":"ping"}');
  t.notOk(conn.paused, 'the bucket refills at the sustained rate');
  conn.handler!.onText('{"type":"ping"}');
  t.ok(conn.paused, 'over the rate: reading pauses (messages already read are still answered)');
  timers.advance(15);
  t.notOk(conn.paused, 'and resumes once the bucket has refilled');
  for (let i = 0; i < 300 && !conn.closed; i++) conn.handler!.onText('{"type":"ping"}');
  t.match(conn.json('error'), { code: 'LIVESTEM_ERR_RATE_LIMITED', message: /80 control messages per second/ }, 'more than a read worth while paused is a flood');
  t.same(conn.closed, { code: 4429, reason: 'LIVESTEM_ERR_RATE_LIMITED' });

  const audio = new FakeConnection();
  registry.open(audio);
  audio.handler!.onText(JSON.stringify(start));
  for (let i = 0; i < 400; i++) audio.handler!.onBinary(encodePcm([new Float32Array(1), new Float32Array(1)], 'f32le'));
  t.match(audio.json('error'), { code: 'LIVESTEM_ERR_RATE_LIMITED', message: /200 audio messages per second/ });
});

t.test('a backlog read at once after the server paused reading is throttled, not failed', async (t) => {
  const { registry, timers } = setup({ maxAudioMessagesPerSecond: 100, maxBufferedInputMs: 20_000 });
  const conn = new FakeConnection();
  registry.open(conn);
  conn.handler!.onText(JSON.stringify(start));
  const frame = encodePcm([new Float32Array(160), new Float32Array(160)], 'f32le'); // 10 ms
  // A client sending 43 messages/s whose socket was not read for 20 s: 860 messages wait in the kernel and arrive
  // as fast as the server reads, 40 per read (a 64 KiB chunk), while the client keeps sending.
  let backlog = 860;
  let elapsedMs = 0;
  let reads = 0;
  // Caught up = no more waiting than one 50 ms step's worth of new messages.
  while (backlog > 5 && elapsedMs < 60_000 && !conn.closed) {
    if (!conn.paused) {
      const n = Math.min(40, Math.floor(backlog));
      for (let i = 0; i < n; i++) conn.handler!.onBinary(frame);
      backlog -= n;
      reads++;
    }
    timers.advance(50);
    elapsedMs += 50;
    backlog += 43 * 0.05;
    for (let i = 0; i < 5; i++) await settle();
  }
  t.equal(conn.json('error'), undefined, 'no error');
  t.ok(backlog <= 5, `the backlog drained in ${elapsedMs} ms over ${reads} reads`);
  t.ok(elapsedMs > 5000, 'at no more than the message rate');
});

t.test('a client that never reads cannot grow the send queue with control replies: paused, then SLOW_CONSUMER', async (t) => {
  const { registry, timers } = setup({ maxSendBufferBytes: 64 * 1024, maxControlMessagesPerSecond: 100_000 });
  const conn = new FakeConnection();
  registry.open(conn);
  conn.handler!.onText(JSON.stringify(start));
  conn.notReading = true;
  let sent = 0;
  while (!conn.closed && sent < 100_000) {
    if (conn.paused) break; // a real socket delivers nothing more once reading is paused
    conn.handler!.onText(JSON.stringify({ type: 'stats', id: sent++ }));
    timers.advance(0.01);
  }
  t.ok(conn.paused, 'reading paused before the limit');
  t.ok(conn.bufferedBytes <= 64 * 1024 / 4 + 1024, `paused at a quarter of the send limit (${conn.bufferedBytes} bytes queued)`);
  // Messages already read when the pause took effect are still answered, but the queue never exceeds the limit.
  for (let i = 0; i < 1000 && !conn.closed; i++) conn.handler!.onText(JSON.stringify({ type: 'stats', id: i }));
  t.match(conn.json('error'), { code: 'LIVESTEM_ERR_SLOW_CONSUMER' });
  t.ok(conn.bufferedBytes <= 64 * 1024 + 2048, `queue bounded by the limit plus one reply (${conn.bufferedBytes})`);
});

t.test('ping/stats ids: any finite number, a string up to 256 characters or null is echoed', async (t) => {
  const { registry } = setup();
  const conn = new FakeConnection();
  registry.open(conn);
  conn.handler!.onText(JSON.stringify(start));
  for (const id of [1234.5678, -1, 0, null, 'x'.repeat(256), 1e300]) {
    conn.handler!.onText(JSON.stringify({ type: 'ping', id }));
    t.same(conn.texts.at(-1)?.['id'], id, `pong echoes ${String(id).slice(0, 20)}`);
  }
  conn.handler!.onText(JSON.stringify({ type: 'stats', id: 3.25 }));
  t.match(conn.texts.at(-1), { type: 'stats', id: 3.25 });
  conn.handler!.onText(JSON.stringify({ type: 'ping', id: 'y'.repeat(257) }));
  t.match(conn.json('error'), { code: 'LIVESTEM_ERR_BAD_MESSAGE' }, 'a longer string is refused (documented limit)');
  t.ok(String(conn.json('error')?.['message']).length < 400, 'and not echoed back in full');
});

t.test('shutdown: a client that keeps streaming after the deadline gets every accepted sample, done(shutdown), 1001', async (t) => {
  const { registry, timers, metrics } = setup();
  const conn = new FakeConnection();
  registry.open(conn);
  conn.handler!.onText(JSON.stringify({ ...start, model: 'slow' }));
  const chunk = encodePcm([noise(160, 3, 0.3), noise(160, 4, 0.3)], 'f32le');
  for (let i = 0; i < 10; i++) conn.handler!.onBinary(chunk);
  const drained = registry.drain(100);
  t.match(conn.json('draining'), { deadlineMs: 100 });
  timers.advance(100);
  const session = registry.sessions()[0]!;
  for (let i = 0; i < 20 && session.lifecycle.kind !== 'draining'; i++) await Promise.resolve();
  t.match(session.lifecycle, { kind: 'draining', reason: 'shutdown' }, 'the server flushes the session itself at the deadline');
  // The live source does not know yet: audio, flush and end arrive after the server's own flush began.
  for (let i = 0; i < 5; i++) conn.handler!.onBinary(chunk);
  conn.handler!.onText('{"type":"flush"}');
  conn.handler!.onText('{"type":"end"}');
  for (let i = 0; i < 200 && !conn.closed; i++) await settle();
  await drained;
  t.equal(conn.json('error'), undefined, 'no error');
  t.match(conn.json('done'), { reason: 'shutdown', inputSamples: 1600, outputSamples: 1600, inputIgnoredSamples: 800 });
  t.same(conn.closed, { code: 1001, reason: 'shutdown' });
  t.equal(vocalsOf(conn)[0]!.length, 1600, 'every accepted sample came out');
  const counted = (await metrics.registry.getSingleMetric('livestem_input_adjusted_samples_total')!.get()).values;
  t.equal(counted.find((v) => v.labels['reason'] === 'ignored-after-shutdown')?.value, 800, 'ignored input is counted');
});

t.test('output backpressure: a client not reading is paused, then closed SLOW_CONSUMER', async (t) => {
  const { registry } = setup({ maxSendBufferBytes: 2 << 20 });
  const conn = new FakeConnection();
  registry.open(conn);
  conn.handler!.onText(JSON.stringify(start));
  conn.bufferedBytes = 1.5 * (1 << 20);
  conn.handler!.onBinary(encodePcm([new Float32Array(1000), new Float32Array(1000)], 'f32le'));
  for (let i = 0; i < 50; i++) await settle();
  t.ok(conn.paused, 'input paused while over a quarter of the send limit is unsent');
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

t.test('admission: a recent p99 hop latency above the budget refuses, but only once 200 hops were measured', async (t) => {
  const { registry, metrics, timers } = setup({ maxSessions: 10, load: 0.1 });
  const a = new FakeConnection();
  registry.open(a);
  a.handler!.onText(JSON.stringify(start));
  t.ok(a.json('ready'));
  for (let i = 0; i < 199; i++) metrics.recentHopLatency.observe(25, timers.now());
  const b = new FakeConnection();
  registry.open(b);
  b.handler!.onText(JSON.stringify(start));
  t.ok(b.json('ready'), '199 slow hops: too few to trust');
  metrics.recentHopLatency.observe(25, timers.now());
  const c = new FakeConnection();
  registry.open(c);
  c.handler!.onText(JSON.stringify(start));
  t.match(c.json('error'), { code: 'LIVESTEM_ERR_OVERLOADED', message: /recent p99 hop latency 25\.0 ms above the 10\.0 ms budget/ });
  t.equal(c.closed?.code, 1013);
  timers.advance(2500);
  const d = new FakeConnection();
  registry.open(d);
  d.handler!.onText(JSON.stringify(start));
  t.ok(d.json('ready'), 'the slow hops left the 2 s window');
});

t.test('server-added latency: from the arrival of the input that completed a hop to the write of its output', async (t) => {
  const { registry, timers, metrics } = setup();
  const conn = new FakeConnection();
  registry.open(conn);
  conn.handler!.onText(JSON.stringify({ ...start, model: 'gated' }));
  t.ok(conn.json('ready'));
  // one message (arrival t = 0) that completes 2048 / 128 = 16 hops of the model's STFT, at its own rate
  conn.handler!.onBinary(encodePcm([noise(2048, 1, 0.5), noise(2048, 2, 0.5)], 'f32le'));
  for (let i = 0; i < 5; i++) await settle();
  timers.advance(7); // the model takes 7 ms of the test's clock
  for (let step = 0; step < 20 && GatedIdentityStream.waiting.length > 0; step++) {
    GatedIdentityStream.open();
    for (let i = 0; i < 5; i++) await settle();
  }
  t.ok(conn.binaries.length > 0, 'output was written');
  conn.handler!.onText(JSON.stringify({ type: 'stats', id: 1 }));
  const stats = conn.json('stats') as { frames: number; serverAddedLatencyMs: { p50: number; p99: number; max: number } } | undefined;
  t.equal(stats?.frames, 16, 'hops processed');
  t.same(stats?.serverAddedLatencyMs, { p50: 7, p99: 7, max: 7 }, 'every hop of that message: written 7 ms after it arrived');
  const exported = (await metrics.registry.getSingleMetricAsString('livestem_hop_server_added_seconds')).split('\n');
  t.ok(exported.includes(`livestem_hop_server_added_seconds_count ${stats?.frames}`), 'one observation per hop in /metrics');
  t.ok(exported.includes('livestem_hop_server_added_seconds_bucket{le="0.005"} 0'), 'none at or below 5 ms');
  t.ok(exported.includes(`livestem_hop_server_added_seconds_bucket{le="0.0075"} ${stats?.frames}`), 'all at or below 7.5 ms');
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

t.test('flush with resampling: total output stays ceil(input · out/in) however many segments', async (t) => {
  const { registry } = setup();
  const conn = new FakeConnection();
  registry.open(conn);
  conn.handler!.onText(JSON.stringify({ ...start, sampleRateHz: 44100, outputSampleRateHz: 48000 }));
  for (let i = 0; i < 5; i++) {
    conn.handler!.onBinary(encodePcm([new Float32Array([0.1]), new Float32Array([-0.1])], 'f32le'));
    conn.handler!.onText('{"type":"flush"}');
  }
  conn.handler!.onText(JSON.stringify({ type: 'end' }));
  for (let i = 0; i < 400 && !conn.closed; i++) await settle();
  t.same(
    conn.texts.filter((m) => m['type'] === 'flushed').map((m) => m['sampleOffset']),
    [2, 3, 4, 5, 6],
    'each flush ends at ceil(total input so far · 48000/44100)',
  );
  t.match(conn.json('done'), { inputSamples: 5, outputSamples: 6 });
  t.equal(vocalsOf(conn)[0]!.length, 6);
});

t.test('silence the server caused is not idleness: paused for input, the idle timer waits', async (t) => {
  const { registry, timers } = setup({ maxBufferedInputMs: 200 });
  const conn = new FakeConnection();
  registry.open(conn);
  conn.handler!.onText(JSON.stringify({ ...start, model: 'slow' }));
  conn.handler!.onBinary(encodePcm([new Float32Array(3000), new Float32Array(3000)], 'f32le')); // 187 ms
  t.ok(conn.paused, 'reading paused for input');
  timers.advance(5000);
  t.equal(conn.closed, undefined, 'no IDLE_TIMEOUT while the server is the one not reading');
  for (let i = 0; i < 400 && conn.paused; i++) await settle();
  t.notOk(conn.paused, 'resumed once processed');
  timers.advance(5000);
  t.equal(conn.closed?.code, 4408, 'real silence afterwards still times out');
});

t.test('resume with an unsupported protocolVersion is PROTOCOL_VERSION', async (t) => {
  const { registry } = setup();
  const conn = new FakeConnection();
  registry.open(conn);
  conn.handler!.onText(JSON.stringify({ type: 'resume', sessionId: 'x', resumeToken: 'y', lastSampleOffset: 0, protocolVersion: 2 }));
  t.match(conn.json('error'), { code: 'LIVESTEM_ERR_PROTOCOL_VERSION' });
  t.equal(conn.closed?.code, 4400);
});
