import t from 'tap';
import type { Test } from 'tap';
import { StreamClient, exportTestModel, startTestServer, withWitness } from './helpers/server-harness.ts';

const fixture = await exportTestModel(11);
t.teardown(() => fixture.cleanup());

const RATE = 16000;
const MAX_MESSAGE = 64 * 1024;
const main = await startTestServer(fixture.modelsDir, { maxMessageBytes: MAX_MESSAGE, maxBufferedInputMs: 500 });
t.teardown(() => main.server.close());

async function expectStartError(t: Test, url: string, start: Record<string, unknown>, code: string, closeCode: number): Promise<void> {
  const client = new StreamClient(url);
  await client.opened;
  client.sendJson({ type: 'start', ...start });
  const error = await client.expectError();
  t.equal(error.code, code, `${JSON.stringify(start)} → ${code}`);
  t.equal(error.closeCode, closeCode, `close ${closeCode}`);
}

const okStart = { sampleRateHz: RATE, channels: 2, format: 'f32le' };

t.test('bad first message: binary, invalid JSON, a control message, unknown field, wrong version', async (t) => {
  await withWitness(t, main, async () => {
    const binaryFirst = new StreamClient(main.url);
    await binaryFirst.opened;
    binaryFirst.ws.send(new Uint8Array(8));
    t.same(await binaryFirst.expectError(), { code: 'LIVESTEM_ERR_BAD_MESSAGE', closeCode: 4400 }, 'audio before start');

    const notJson = new StreamClient(main.url);
    await notJson.opened;
    notJson.ws.send('{"type": "start",');
    t.same(await notJson.expectError(), { code: 'LIVESTEM_ERR_BAD_MESSAGE', closeCode: 4400 }, 'invalid JSON');

    const pingFirst = new StreamClient(main.url);
    await pingFirst.opened;
    pingFirst.sendJson({ type: 'ping' });
    t.same(await pingFirst.expectError(), { code: 'LIVESTEM_ERR_BAD_MESSAGE', closeCode: 4400 }, 'ping before start');

    await expectStartError(t, main.url, { ...okStart, colour: 'red' }, 'LIVESTEM_ERR_BAD_MESSAGE', 4400);
    await expectStartError(t, main.url, { ...okStart, protocolVersion: 2 }, 'LIVESTEM_ERR_PROTOCOL_VERSION', 4400);
  });
});

t.test('unknown model and unsupported rate / channels / format', async (t) => {
  await withWitness(t, main, async () => {
    await expectStartError(t, main.url, { ...okStart, model: 'nope' }, 'LIVESTEM_ERR_UNKNOWN_MODEL', 4404);
    await expectStartError(t, main.url, { ...okStart, sampleRateHz: 96000 }, 'LIVESTEM_ERR_UNSUPPORTED_SAMPLE_RATE', 4415);
    await expectStartError(t, main.url, { ...okStart, sampleRateHz: 44000 }, 'LIVESTEM_ERR_UNSUPPORTED_SAMPLE_RATE', 4415);
    await expectStartError(t, main.url, { ...okStart, outputSampleRateHz: 7000 }, 'LIVESTEM_ERR_UNSUPPORTED_SAMPLE_RATE', 4415);
    await expectStartError(t, main.url, { ...okStart, channels: 3 }, 'LIVESTEM_ERR_UNSUPPORTED_CHANNELS', 4415);
    await expectStartError(t, main.url, { ...okStart, format: 's24le' }, 'LIVESTEM_ERR_UNSUPPORTED_FORMAT', 4415);
    await expectStartError(t, main.url, { ...okStart, outputFormat: 'mp3' }, 'LIVESTEM_ERR_UNSUPPORTED_FORMAT', 4415);
  });
  const rejected = await main.server.metrics.sessionsRejected.get();
  const count = (reason: string): number => rejected.values.find((v) => v.labels['reason'] === reason)?.value ?? 0;
  t.ok(count('LIVESTEM_ERR_UNSUPPORTED_SAMPLE_RATE') >= 3, 'rejections counted by reason');
  t.ok(count('LIVESTEM_ERR_UNKNOWN_MODEL') >= 1);
});

async function startedClient(url: string, start: Record<string, unknown> = okStart): Promise<StreamClient> {
  const client = new StreamClient(url);
  await client.start(start);
  return client;
}

t.test('frames: not a multiple of the sample width, NaN, Infinity, over the size limit, faster than the buffer', async (t) => {
  await withWitness(t, main, async () => {
    const misaligned = await startedClient(main.url);
    misaligned.ws.send(new Uint8Array(8 * 10 + 4)); // f32 stereo frames are 8 bytes
    t.same(await misaligned.expectError(), { code: 'LIVESTEM_ERR_MISALIGNED_FRAME', closeCode: 4400 });

    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      const client = await startedClient(main.url);
      const samples = new Float32Array(200).fill(0.1);
      samples[137] = bad;
      client.ws.send(new Uint8Array(samples.buffer));
      t.same(await client.expectError(), { code: 'LIVESTEM_ERR_NON_FINITE_SAMPLES', closeCode: 4422 }, `${bad} rejected`);
      t.equal(client.received('vocals'), 0, 'nothing of the rejected frame was processed');
    }

    const tooBig = await startedClient(main.url);
    tooBig.ws.send(new Uint8Array(MAX_MESSAGE + 8));
    t.same(await tooBig.expectError(), { code: 'LIVESTEM_ERR_PAYLOAD_TOO_LARGE', closeCode: 1009 });

    const tooFast = await startedClient(main.url, { sampleRateHz: 8000, channels: 1, format: 's16le' });
    // One message of 600 ms is fine (only the byte limit bounds a message); more sent at once, while the 500 ms
    // buffer is already full, is a client ignoring backpressure.
    for (let i = 0; i < 3; i++) tooFast.ws.send(new Uint8Array(2 * 8000 * 0.6));
    t.same(await tooFast.expectError(), { code: 'LIVESTEM_ERR_INPUT_OVERRUN', closeCode: 4429 });
  });
});

t.test('control misuse after start and resume of an unknown session', async (t) => {
  await withWitness(t, main, async () => {
    const twice = await startedClient(main.url);
    twice.sendJson({ type: 'start', ...okStart });
    t.same(await twice.expectError(), { code: 'LIVESTEM_ERR_BAD_MESSAGE', closeCode: 4400 }, 'second start');

    const resume = new StreamClient(main.url);
    await resume.opened;
    resume.sendJson({ type: 'resume', sessionId: 'no-such-session', resumeToken: 'x', lastSampleOffset: 0 });
    t.same(await resume.expectError(), { code: 'LIVESTEM_ERR_UNKNOWN_SESSION', closeCode: 4410 });
  });
});

t.test('admission: a start beyond max sessions is refused with 1013 and /readyz says 503', async (t) => {
  const small = await startTestServer(fixture.modelsDir, { maxSessions: 2 });
  t.teardown(() => small.server.close());
  await withWitness(t, small, async () => {
    const filler = await startedClient(small.url);
    const ready = await fetch(`${small.server.httpUrl}/readyz`);
    t.equal(ready.status, 503, '/readyz at capacity');
    await expectStartError(t, small.url, okStart, 'LIVESTEM_ERR_OVERLOADED', 1013);
    filler.ws.close();
    await filler.closed;
  });
});

t.test('idle timeout closes a silent session with 4408', async (t) => {
  const idle = await startTestServer(fixture.modelsDir, { idleTimeoutMs: 1000 });
  t.teardown(() => idle.server.close());
  await withWitness(t, idle, async () => {
    const silent = await startedClient(idle.url);
    t.same(await silent.expectError(), { code: 'LIVESTEM_ERR_IDLE_TIMEOUT', closeCode: 4408 });
  });
});

t.test('auth: API key, single-session tokens, Origin allow-list', async (t) => {
  const key = 'test-key-0123456789abcdef';
  const secured = await startTestServer(fixture.modelsDir, { apiKey: key, allowedOrigins: ['https://app.example'] });
  t.teardown(() => secured.server.close());
  const auth = { authorization: `Bearer ${key}` };
  await withWitness(
    t,
    secured,
    async () => {
      const none = new StreamClient(secured.url);
      t.same(await none.expectError(), { code: 'LIVESTEM_ERR_UNAUTHORIZED', closeCode: 4401 }, 'no credentials');
      const wrong = new StreamClient(secured.url, { headers: { authorization: 'Bearer test-key-0123456789abcdeX' } });
      t.same(await wrong.expectError(), { code: 'LIVESTEM_ERR_UNAUTHORIZED', closeCode: 4401 }, 'wrong key');
      const badOrigin = new StreamClient(secured.url, { headers: auth, origin: 'https://evil.example' });
      t.same(await badOrigin.expectError(), { code: 'LIVESTEM_ERR_ORIGIN_NOT_ALLOWED', closeCode: 4403 }, 'origin');

      const refused = await fetch(`${secured.server.httpUrl}/v1/tokens`, { method: 'POST' });
      t.equal(refused.status, 401, 'minting needs the key');
      t.equal(((await refused.json()) as { error: { code: string } }).error.code, 'LIVESTEM_ERR_UNAUTHORIZED');
      const minted = await fetch(`${secured.server.httpUrl}/v1/tokens`, { method: 'POST', headers: auth, body: JSON.stringify({ ttlMs: 5000 }) });
      t.equal(minted.status, 201);
      const { token } = (await minted.json()) as { token: string };
      const browser = new StreamClient(`${secured.url}?token=${encodeURIComponent(token)}`, { origin: 'https://app.example' });
      const ready = await browser.start(okStart);
      t.equal(ready.type, 'ready', 'a fresh token opens one session');
      const replay = new StreamClient(`${secured.url}?token=${encodeURIComponent(token)}`);
      t.same(await replay.expectError(), { code: 'LIVESTEM_ERR_UNAUTHORIZED', closeCode: 4401 }, 'the same token twice');
      browser.ws.close();
      await browser.closed;
    },
    auth,
  );
});
