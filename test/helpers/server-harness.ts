/**
 * Test harness for the streaming server: a random small LSTM model exported into a temp dir, a real server on
 * port 0, and a WebSocket client that speaks docs/protocol.md and reassembles output per kind by sample offset.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';
import WebSocket from 'ws';
import { validateConfig, type ConfigInput } from '../../server/config.ts';
import { createLogger } from '../../server/log.ts';
import {
  BUNDLE_VERSION,
  decodeAudioFrame,
  decodeOutputBundle,
  encodePcm,
  outputMessageVersion,
  type OutputBundle,
  type OutputKind,
  type SampleFormat,
} from '../../client-sdk/src/protocol/index.ts';
import { startServer, type LivestemServer } from '../../server/server.ts';
import { exportRandomModel } from '../../training/export/random-model.ts';
import { mulberry32, noise, sine } from './signals.ts';

export interface ModelFixture {
  modelsDir: string;
  modelDir: string;
  cleanup(): Promise<void>;
}

/** Exports the random small LSTM as models/lstm in a fresh temp dir. */
export async function exportTestModel(seed = 7): Promise<ModelFixture> {
  const modelsDir = await mkdtemp(join(tmpdir(), 'livestem-models-'));
  const modelDir = join(modelsDir, 'lstm');
  await exportRandomModel({ arch: 'lstm', name: 'lstm', seed }, modelDir);
  return { modelsDir, modelDir, cleanup: () => rm(modelsDir, { recursive: true, force: true }) };
}

export interface TestServer {
  server: LivestemServer;
  logs: string[];
  url: string;
}

export async function startTestServer(modelsDir: string, overrides: Partial<ConfigInput> = {}): Promise<TestServer> {
  const logs: string[] = [];
  // admission by session count only: tests run "as fast as allowed" streams that saturate a core on purpose, on a busy
  // machine; admission by measured headroom is tested explicitly (session-unit, admission-policy).
  // One engine worker: every integration test crosses the real worker boundary, at half the startup of the default
  // (one per core) on a two-core machine; tests of the pool itself ask for more.
  const config = validateConfig({ host: '127.0.0.1', port: 0, modelsDir, logLevel: 'info', admission: 'sessions', engineWorkers: 1, ...overrides });
  const server = await startServer(config, { log: createLogger({ level: config.logLevel, write: (l) => logs.push(l) }) });
  return { server, logs, url: server.streamUrl };
}

/** A short "song": two tones per channel with gated noise bursts and a chirp, made in the test. */
export function testSong(lengthSamples: number, rateHz: number, channels: 1 | 2, seed: number): Float32Array[] {
  const burst = noise(lengthSamples, seed, 0.25);
  const gateSamples = Math.round(rateHz * 0.07);
  const left = sine(lengthSamples, rateHz, 220 + (seed % 7) * 20, 0.3);
  const right = sine(lengthSamples, rateHz, 330 + (seed % 5) * 30, 0.25);
  for (let i = 0; i < lengthSamples; i++) {
    const gate = Math.floor(i / gateSamples) % 3 === 1 ? 1 : 0;
    const t = i / rateHz;
    const chirp = 0.1 * Math.sin(2 * Math.PI * (500 * t + 800 * t * t));
    left[i] = left[i]! + gate * burst[i]! + chirp;
    right[i] = right[i]! - 0.6 * gate * burst[i]! + 0.5 * chirp;
  }
  if (channels === 1) return [left.map((v, i) => 0.5 * (v + right[i]!))];
  return [left, right];
}

/** Interleaved PCM bytes of samples [start, end) of a planar signal. */
export function pcmBytes(signal: Float32Array[], start: number, end: number, format: SampleFormat): Uint8Array {
  return encodePcm(
    signal.map((ch) => ch.subarray(start, end)),
    format,
  );
}

/** What s16le transport does to a signal (the server sees exactly this). */
export function quantizeS16(signal: Float32Array[]): Float32Array[] {
  return signal.map((ch) =>
    ch.map((v) => {
      const q = Math.round(v * 32768);
      return (q > 32767 ? 32767 : q < -32768 ? -32768 : q) / 32768;
    }),
  );
}

export function randomSizes(seed: number, count: number, min: number, max: number): number[] {
  const rand = mulberry32(seed);
  return Array.from({ length: count }, () => min + Math.floor(rand() * (max - min + 1)));
}

export interface ServerJson {
  type: string;
  [key: string]: unknown;
}

/** Planar output of one kind from its first frame on, grown as frames arrive; frames must be contiguous. */
class KindBuffer {
  data: Float32Array[] = [];
  start: number | undefined;
  length = 0;
  constructor(readonly channels: number) {
    this.data = Array.from({ length: channels }, () => new Float32Array(1 << 16));
  }
  get end(): number {
    return (this.start ?? 0) + this.length;
  }
  write(offset: number, samples: Float32Array[]): void {
    this.start ??= offset;
    if (offset !== this.end) throw new Error(`frame at ${offset}, expected ${this.end}`);
    const need = this.length + (samples[0]?.length ?? 0);
    if (need > this.data[0]!.length) {
      this.data = this.data.map((ch) => {
        const grown = new Float32Array(Math.max(need, ch.length * 2));
        grown.set(ch);
        return grown;
      });
    }
    samples.forEach((ch, c) => this.data[c]!.set(ch, this.length));
    this.length = need;
  }
  result(): Float32Array[] {
    return this.data.map((ch) => ch.slice(0, this.length));
  }
}

export class StreamClient {
  readonly ws: WebSocket;
  readonly messages: ServerJson[] = [];
  readonly sequences: number[] = [];
  readonly frameHeaders: Array<{ kind: OutputKind; sampleOffset: number; sampleCount: number }> = [];
  /** Decoded output bundles (`outputFraming: 'bundles'`), in arrival order. */
  readonly bundles: OutputBundle[] = [];
  private readonly kinds = new Map<OutputKind, KindBuffer>();
  private waiters: Array<() => void> = [];
  closeCode: number | undefined;
  closeReason = '';
  readonly opened: Promise<void>;
  readonly closed: Promise<number>;

  constructor(url: string, options: { headers?: Record<string, string>; origin?: string } = {}) {
    this.ws = new WebSocket(url, { headers: options.headers ?? {}, ...(options.origin ? { origin: options.origin } : {}) });
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
    this.closed = new Promise((resolve) => {
      this.ws.on('close', (code, reason) => {
        this.closeCode = code;
        this.closeReason = reason.toString();
        this.notify();
        resolve(code);
      });
    });
    this.ws.on('error', () => this.notify());
    this.ws.on('message', (data, isBinary) => {
      const bytes = data as Buffer;
      if (isBinary) {
        const view = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        if (outputMessageVersion(view) === BUNDLE_VERSION) {
          const bundle = decodeOutputBundle(view);
          this.sequences.push(bundle.sequence);
          this.bundles.push(bundle);
          for (const s of bundle.streams) this.write(s.kind, bundle.sampleOffset, s.samples);
        } else {
          const frame = decodeAudioFrame(view);
          this.sequences.push(frame.sequence);
          this.frameHeaders.push({ kind: frame.kind, sampleOffset: frame.sampleOffset, sampleCount: frame.sampleCount });
          this.write(frame.kind, frame.sampleOffset, frame.samples);
        }
      } else {
        this.messages.push(JSON.parse(bytes.toString('utf8')) as ServerJson);
      }
      this.notify();
    });
  }

  private write(kind: OutputKind, sampleOffset: number, samples: Float32Array[]): void {
    let buffer = this.kinds.get(kind);
    if (!buffer) this.kinds.set(kind, (buffer = new KindBuffer(samples.length)));
    buffer.write(sampleOffset, samples);
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** Resolves when `predicate` holds (checked on every event), rejects after `timeoutMs`. */
  async until(predicate: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(250, Math.max(1, deadline - Date.now())));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  message(type: string): ServerJson | undefined {
    return this.messages.find((m) => m.type === type);
  }

  async waitFor(type: string, timeoutMs = 20_000): Promise<ServerJson> {
    await this.until(() => this.message(type) !== undefined || (this.closeCode !== undefined && type !== 'close'), `message ${type}`, timeoutMs);
    const m = this.message(type);
    if (!m) throw new Error(`connection closed (${this.closeCode} ${this.closeReason}) before ${type}; got ${JSON.stringify(this.messages)}`);
    return m;
  }

  sendJson(message: Record<string, unknown>): void {
    this.ws.send(JSON.stringify(message));
  }

  async start(message: Record<string, unknown>): Promise<ServerJson> {
    await this.opened;
    this.sendJson({ type: 'start', ...message });
    return this.waitFor('ready');
  }

  /** End offset of the contiguous output received for `kind`. */
  received(kind: OutputKind): number {
    return this.kinds.get(kind)?.end ?? 0;
  }

  output(kind: OutputKind): Float32Array[] {
    const buffer = this.kinds.get(kind);
    if (!buffer) throw new Error(`no ${kind} output`);
    return buffer.result();
  }

  /** Sends `end` and waits for `done` and the close. */
  async finish(): Promise<ServerJson> {
    this.sendJson({ type: 'end' });
    const done = await this.waitFor('done');
    await this.closed;
    return done;
  }

  async expectError(timeoutMs = 20_000): Promise<{ code: unknown; closeCode: number }> {
    const error = await this.waitFor('error', timeoutMs);
    const closeCode = await this.closed;
    return { code: error['code'], closeCode };
  }
}

/** Streams `signal` in the given chunk sizes (as fast as the socket takes them unless `paceMs` per chunk). */
export async function streamSignal(
  client: StreamClient,
  signal: Float32Array[],
  format: SampleFormat,
  sizes: number[],
  options: { rateHz?: number; realTime?: boolean; afterChunk?: (sentSamples: number) => Promise<void> } = {},
): Promise<void> {
  const length = signal[0]!.length;
  const t0 = Date.now();
  let i = 0;
  for (let start = 0; start < length; i++) {
    const end = Math.min(length, start + sizes[i % sizes.length]!);
    client.ws.send(pcmBytes(signal, start, end, format));
    if (options.realTime && options.rateHz) {
      const dueMs = t0 + (end / options.rateHz) * 1000;
      const waitMs = dueMs - Date.now();
      if (waitMs > 0) await new Promise((r) => setTimeout(r, waitMs));
    }
    start = end;
    if (options.afterChunk) await options.afterChunk(start);
  }
}

export function maxAbsDiffPlanar(a: Float32Array[], b: Float32Array[]): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  a.forEach((ch, c) => {
    const other = b[c]!;
    if (ch.length !== other.length) m = Infinity;
    else for (let i = 0; i < ch.length; i++) m = Math.max(m, Math.abs(ch[i]! - other[i]!));
  });
  return m;
}

/**
 * Runs `provoke` while a witness session streams 1 s of a 16 kHz stereo test song; the witness must produce output
 * after the provocation and finish with every sample: one session's failure never affects another.
 */
export async function withWitness(
  t: Test,
  server: TestServer,
  provoke: () => Promise<void>,
  headers: Record<string, string> = {},
): Promise<void> {
  const rate = 16000;
  const song = testSong(rate, rate, 2, 1);
  const witness = new StreamClient(server.url, { headers });
  await witness.start({ sampleRateHz: rate, channels: 2, format: 's16le' });
  // Pings keep the witness alive on servers with a short idle timeout (they are control messages: no audio).
  const keepAlive = setInterval(() => witness.sendJson({ type: 'ping' }), 100);
  try {
    witness.ws.send(pcmBytes(song, 0, rate / 2, 's16le'));
    await witness.until(() => witness.received('vocals') > 0, 'witness output before');
    await provoke();
    const before = witness.received('vocals');
    witness.ws.send(pcmBytes(song, rate / 2, rate, 's16le'));
    await witness.until(() => witness.received('vocals') > before, 'witness output after');
  } finally {
    clearInterval(keepAlive);
  }
  const done = await witness.finish();
  t.equal(done['outputSamples'], rate, 'witness: every sample came out');
  t.equal(witness.closeCode, 1000, 'witness: closed normally');
}
