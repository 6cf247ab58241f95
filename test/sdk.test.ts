/**
 * @livestem/client in Node against a real in-process server: a generated song streamed over WebSocket comes back
 * as vocals and accompaniment of exactly the input's length, in contiguous chunks whose sample offsets start at 0,
 * summing back to the input; VAD events cover the stream; typed errors carry the server's codes; reconnect resumes
 * the same session after a drop (or, with resume off, opens a new one) and keeps offsets on the caller's timeline.
 */
import t from 'tap';
import WebSocket from 'ws';
import {
  connect,
  LivestemClientError,
  SERVER_ERROR_CODES,
  type ConnectOptions,
  type LivestemSession,
  type OutputChunk,
  type ReconnectEvent,
  type ResumedEvent,
  type SocketLike,
  type VadEvent,
} from '../client-sdk/src/index.ts';
import { ERROR_CODES } from '../server/errors.ts';
import { noise, sine } from './helpers/signals.ts';
import { startWebrtcServer, testModel } from './helpers/browser.ts';

const model = await testModel();
const { server } = await startWebrtcServer(model);
t.teardown(() => server.close());
const url = server.httpUrl;

const RATE_HZ = 44100;

/** A 3 s "song": bass + chord pad + noise hats, with a vibrato "voice" in the second half. */
function song(seconds: number): Float32Array[] {
  const n = Math.round(seconds * RATE_HZ);
  const bass = sine(n, RATE_HZ, 110, 0.25);
  const pad = sine(n, RATE_HZ, 330, 0.1);
  const hats = noise(n, 7, 0.05);
  const left = new Float32Array(n);
  const right = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const tSec = i / RATE_HZ;
    const voice = tSec > seconds / 2 ? 0.2 * Math.sin(2 * Math.PI * 440 * tSec + 3 * Math.sin(2 * Math.PI * 5 * tSec)) : 0;
    left[i] = bass[i]! + pad[i]! + hats[i]! + voice;
    right[i] = bass[i]! - pad[i]! + hats[i]! + voice;
  }
  return [left, right];
}

function concatChunks(chunks: OutputChunk[], channel: number): Float32Array {
  const out = new Float32Array(chunks.reduce((n, c) => n + c.samples[0]!.length, 0));
  let o = 0;
  for (const c of chunks) {
    out.set(c.samples[channel]!, o);
    o += c.samples[channel]!.length;
  }
  return out;
}

t.test('SDK error codes are exactly the server catalog', async (t) => {
  t.same([...SERVER_ERROR_CODES].sort(), [...ERROR_CODES].sort());
});

t.test('streaming a song: lengths, contiguous offsets, vocals + accompaniment = input, VAD', async (t) => {
  const input = song(3);
  const session = await connect({ url, sampleRate: RATE_HZ, channels: 2, format: 'f32le', outputs: ['vocals', 'accompaniment'] });
  t.equal(session.ready.input.sampleRateHz, RATE_HZ);
  t.equal(session.ready.output.sampleRateHz, RATE_HZ);
  t.ok(session.ready.latency.samples > 0, 'latency announced in samples');

  // Vocals through the async iterator, accompaniment through events: both APIs see every chunk.
  const vocalsChunks: OutputChunk[] = [];
  const iterating = (async () => {
    for await (const chunk of session.iterate('vocals')) vocalsChunks.push(chunk);
  })();
  const accChunks: OutputChunk[] = [];
  session.on('accompaniment', (c) => accChunks.push(c));
  const vad: VadEvent[] = [];
  session.on('vad', (v) => vad.push(v));

  // Odd-sized writes, awaited: the promise is the backpressure.
  const sizes = [1, 127, 441, 1000, 4410, 3333];
  for (let pos = 0, k = 0; pos < input[0]!.length; k++) {
    const size = Math.min(sizes[k % sizes.length]!, input[0]!.length - pos);
    await session.write(input.map((ch) => ch.subarray(pos, pos + size)));
    pos += size;
  }
  t.equal(session.inputSamples, input[0]!.length);
  const done = await session.end();
  await iterating;
  t.equal(done.inputSamples, input[0]!.length);
  t.equal(done.outputSamples, input[0]!.length, 'server reports output length == input length');

  for (const [name, chunks] of [['vocals', vocalsChunks], ['accompaniment', accChunks]] as const) {
    t.equal(concatChunks(chunks, 0).length, input[0]!.length, `${name}: total length == input length`);
    t.equal(chunks[0]?.sampleOffset, 0, `${name}: first offset 0`);
    let expected = 0;
    let contiguous = true;
    for (const c of chunks) {
      if (c.sampleOffset !== expected) contiguous = false;
      expected += c.samples[0]!.length;
    }
    t.ok(contiguous, `${name}: each chunk starts where the previous ended`);
    t.ok(chunks.every((c) => c.sampleRateHz === RATE_HZ && c.samples.length === 2), `${name}: stereo at ${RATE_HZ} Hz`);
  }
  let maxErr = 0;
  let inputPeak = 0;
  for (let ch = 0; ch < 2; ch++) {
    const v = concatChunks(vocalsChunks, ch);
    const a = concatChunks(accChunks, ch);
    for (let i = 0; i < v.length; i++) {
      maxErr = Math.max(maxErr, Math.abs(v[i]! + a[i]! - input[ch]![i]!));
      inputPeak = Math.max(inputPeak, Math.abs(input[ch]![i]!));
    }
  }
  t.ok(maxErr < 1e-4, `vocals + accompaniment = input (max |error| ${maxErr.toExponential(2)}, input peak ${inputPeak.toFixed(2)})`);

  t.ok(vad.length > 0, 'VAD events arrived');
  const probs = vad.reduce((n, v) => n + v.probs.length, 0);
  const hop = vad[0]!.hopSamples;
  t.ok(Math.abs(probs * hop - input[0]!.length) <= 2 * hop, `VAD covers the stream (${probs} hops of ${hop.toFixed(1)} samples)`);
  t.ok(vad.every((v, i) => i === 0 || v.sampleOffset > vad[i - 1]!.sampleOffset), 'VAD offsets increase');
  t.equal((await session.closed).code, 1000);
});

t.test('typed errors mirror the server codes', async (t) => {
  const rate = await connect({ url, sampleRate: 96000, channels: 2 }).then(
    () => undefined,
    (err: unknown) => err,
  );
  t.ok(rate instanceof LivestemClientError);
  t.equal((rate as LivestemClientError).code, 'LIVESTEM_ERR_UNSUPPORTED_SAMPLE_RATE');
  t.equal((rate as LivestemClientError).retryable, false);

  const unknown = await connect({ url, sampleRate: 48000, channels: 1, model: 'no-such-model' }).catch((err: unknown) => err);
  t.equal((unknown as LivestemClientError).code, 'LIVESTEM_ERR_UNKNOWN_MODEL');

  const refused = await connect({ url: 'ws://127.0.0.1:1', sampleRate: 48000, channels: 1 }).catch((err: unknown) => err);
  t.equal((refused as LivestemClientError).code, 'LIVESTEM_CLIENT_CONNECTION_FAILED');
  t.equal((refused as LivestemClientError).retryable, true);

  const session = await connect({ url, sampleRate: 48000, channels: 2, outputs: ['karaoke'] });
  await t.rejects(session.setVocalGain(2), { code: 'LIVESTEM_CLIENT_BAD_ARGUMENT' });
  await t.rejects(session.write([new Float32Array(10)]), { code: 'LIVESTEM_CLIENT_BAD_ARGUMENT' }, 'wrong channel count');
  await session.write([new Float32Array(4800), new Float32Array(4800)]);
  const offset = await session.setVocalGain(0.5);
  t.ok(offset >= 0 && offset <= 4800, `configure applies from output offset ${offset}`);
  t.ok((await session.ping()) >= 0, 'ping round trip');
  const stats = await session.requestStats();
  t.equal(stats.inputSamples, 4800);
  await session.end();
  await t.rejects(session.write([new Float32Array(1), new Float32Array(1)]), { code: 'LIVESTEM_CLIENT_CLOSED' });
});

/** A session whose sockets the test can terminate (a network drop: close 1006, no error message). */
async function droppable(reconnect: NonNullable<ConnectOptions['reconnect']>): Promise<{ session: LivestemSession; sockets: WebSocket[]; chunks: OutputChunk[] }> {
  const sockets: WebSocket[] = [];
  const session = await connect({
    url,
    sampleRate: 48000,
    channels: 1,
    outputs: ['accompaniment'],
    reconnect,
    socketFactory: async (u, headers) => {
      const ws = new WebSocket(u, { headers });
      sockets.push(ws);
      return ws as unknown as SocketLike;
    },
  });
  const chunks: OutputChunk[] = [];
  session.on('accompaniment', (c) => chunks.push(c));
  return { session, sockets, chunks };
}

async function outputReaches(chunks: OutputChunk[], samples: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (chunks.reduce((n, c) => n + c.samples[0]!.length, 0) < samples && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
}

function contiguousFrom0(chunks: OutputChunk[]): boolean {
  let expected = 0;
  for (const c of chunks) {
    if (c.sampleOffset !== expected) return false;
    expected += c.samples[0]!.length;
  }
  return true;
}

t.test('reconnect: a dropped connection resumes the same session, nothing lost or repeated', async (t) => {
  const { session, sockets, chunks } = await droppable({ delayMs: 50 });
  const firstId = session.ready.sessionId;
  await session.write([new Float32Array(9600).fill(0.1)]);
  const resumed = new Promise<ResumedEvent>((resolve, reject) => {
    session.once('resumed', resolve);
    session.once('close', (ev) => reject(ev.error ?? new Error(`closed ${ev.code}`)));
  });
  sockets[0]!.terminate();
  const ev = await resumed;
  t.equal(ev.ready.sessionId, firstId, 'the same server session');
  t.equal(session.ready.sessionId, firstId);
  t.equal(ev.resumed.inputSamples + ev.resentSamples, 9600, 'what the server had plus what was sent again is all the input');
  await session.write([new Float32Array(4800).fill(0.1)]);
  const done = await session.end();
  t.equal(done.inputSamples, 14400, 'the server processed each input sample once');
  t.ok(contiguousFrom0(chunks), 'offsets contiguous from 0, no repeats');
  t.equal(chunks.reduce((n, c) => n + c.samples[0]!.length, 0), 14400, 'output length == input length');
});

t.test('reconnect with resume off: a new session continues the caller timeline from the retained input', async (t) => {
  const { session, sockets, chunks } = await droppable({ resume: false, attempts: 3, delayMs: 50 });
  const firstId = session.ready.sessionId;
  await session.write([new Float32Array(9600).fill(0.1)]);
  await outputReaches(chunks, 4800); // so the new session starts mid-stream
  const reconnected = new Promise<ReconnectEvent>((resolve, reject) => {
    session.once('reconnect', resolve);
    session.once('close', (ev) => reject(ev.error ?? new Error(`closed ${ev.code}`)));
  });
  sockets[0]!.terminate();
  const ev = await reconnected;
  t.not(session.ready.sessionId, firstId, 'a new server session');
  t.ok(ev.outputOffsetBase >= 4800 && ev.outputOffsetBase <= 9600, `new session output starts at caller offset ${ev.outputOffsetBase}`);
  t.equal(ev.inputSampleOffset, ev.outputOffsetBase, 'input restarts where the caller\'s output continues (same rate)');
  t.match(ev.reason.message, /resume is off/);
  await session.write([new Float32Array(4800).fill(0.1)]);
  const done = await session.end();
  t.equal(done.inputSamples, 14400 - ev.inputSampleOffset, 'the new session got the retained input again plus the rest');
  t.ok(contiguousFrom0(chunks), 'offsets contiguous from 0 across sessions, no repeats');
  t.equal(chunks.reduce((n, c) => n + c.samples[0]!.length, 0), 14400, 'output length == input length');
});

t.test('auth: the API key as token (Node header + query) is accepted, a missing one is a typed 4401', async (t) => {
  const apiKey = 'livestem-test-key-0123456789';
  const authed = await startWebrtcServer(model, { apiKey });
  t.teardown(() => authed.server.close());
  const denied = await connect({ url: authed.server.httpUrl, sampleRate: 48000, channels: 1 }).catch((err: unknown) => err);
  t.equal((denied as LivestemClientError).code, 'LIVESTEM_ERR_UNAUTHORIZED');
  t.equal((denied as LivestemClientError).retryable, false);
  const session = await connect({ url: authed.server.httpUrl, token: apiKey, sampleRate: 48000, channels: 1 });
  await session.write([new Float32Array(960)]);
  t.equal((await session.end()).inputSamples, 960);
  const res = await fetch(`${authed.server.httpUrl}/v1/webrtc`, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: 'v=0' });
  t.equal(res.status, 401, 'WebRTC signalling applies the same auth');
});
