import t from 'tap';
import { createOfflineSeparator } from '../server/engine/offline-separator.ts';
import { StreamClient, exportTestModel, maxAbsDiffPlanar, randomSizes, startTestServer, streamSignal, testSong } from './helpers/server-harness.ts';

const RATE = 44100;
const fixture = await exportTestModel(13);
t.teardown(() => fixture.cleanup());
const offline = await createOfflineSeparator(fixture.modelDir);
t.teardown(() => offline.close());
const { server, url } = await startTestServer(fixture.modelsDir);
t.teardown(() => server.close());

function concatAt(first: Float32Array[], keep: number, second: Float32Array[]): Float32Array[] {
  return first.map((ch, c) => {
    const out = new Float32Array(keep + second[c]!.length);
    out.set(ch.subarray(0, keep));
    out.set(second[c]!, keep);
    return out;
  });
}

t.test('a dropped connection resumes with no lost or duplicated samples (replay cut mid-frame)', async (t) => {
  const length = 2 * RATE;
  const song = testSong(length, RATE, 2, 21);
  const expected = await offline.separate(song, RATE);

  const first = new StreamClient(url);
  const ready = await first.start({ sampleRateHz: RATE, channels: 2, format: 'f32le' });
  const half = RATE;
  await streamSignal(first, song.map((c) => c.subarray(0, half)), 'f32le', randomSizes(3, 50, 100, 4000));
  await first.until(() => first.received('accompaniment') >= 30000, 'some output before the drop');
  // More audio in flight as the connection dies: the server may or may not get it — `resumed` says what it has.
  first.ws.send(new Uint8Array(new Float32Array(2 * 2000).buffer));
  first.ws.terminate();
  await first.closed;
  const receivedBefore = Math.min(first.received('vocals'), first.received('accompaniment'));
  const lastSampleOffset = receivedBefore - 1234; // pretend the last frames were only partly kept

  const second = new StreamClient(url);
  await second.opened;
  second.sendJson({ type: 'resume', sessionId: ready['sessionId'], resumeToken: ready['resumeToken'], lastSampleOffset });
  const resumed = await second.waitFor('resumed');
  t.equal(resumed['outputSampleOffset'], lastSampleOffset);
  t.equal(resumed['sessionId'], ready['sessionId']);
  const inputSamples = resumed['inputSamples'] as number;
  t.ok(inputSamples >= half && inputSamples <= half + 2000, `server holds ${inputSamples} input samples`);
  // The zeros the server may have received were not part of the song: resend the song from where the server is,
  // treating any received zeros as the song's (so compare against a song with those samples zeroed).
  const truth = song.map((c) => {
    const copy = Float32Array.from(c);
    copy.fill(0, half, inputSamples);
    return copy;
  });
  await streamSignal(second, truth.map((c) => c.subarray(inputSamples)), 'f32le', randomSizes(4, 50, 100, 4000));
  const done = await second.finish();
  t.equal(done['inputSamples'], length);
  t.equal(second.frameHeaders[0]?.sampleOffset, lastSampleOffset, 'replay starts exactly at lastSampleOffset');
  t.ok(Math.min(...second.sequences) > Math.max(...first.sequences), 'sequence numbers continue after the resume');

  const reference = inputSamples === half ? expected : await offline.separate(truth, RATE);
  for (const kind of ['vocals', 'accompaniment'] as const) {
    const joined = concatAt(first.output(kind), lastSampleOffset, second.output(kind));
    t.equal(joined[0]!.length, length, `${kind}: total length == input length`);
    t.ok(maxAbsDiffPlanar(joined, reference[kind]) <= 1e-4, `${kind}: joined output equals offline (${maxAbsDiffPlanar(joined, reference[kind])})`);
  }
});

t.test('resume while the old connection still looks alive takes the session over', async (t) => {
  const song = testSong(RATE, RATE, 1, 22);
  const expected = await offline.separate(song, RATE);
  const first = new StreamClient(url);
  const ready = await first.start({ sampleRateHz: RATE, channels: 1, format: 'f32le' });
  await streamSignal(first, song.map((c) => c.subarray(0, 20000)), 'f32le', [5000]);
  await first.until(() => first.received('vocals') >= 19000, 'output');
  const last = first.received('vocals');

  const second = new StreamClient(url);
  await second.opened;
  second.sendJson({ type: 'resume', sessionId: ready['sessionId'], resumeToken: ready['resumeToken'], lastSampleOffset: last });
  const resumed = await second.waitFor('resumed');
  t.equal(await first.closed, 4000, 'the old connection is closed by the takeover');
  t.equal(resumed['inputSamples'], 20000);
  await streamSignal(second, song.map((c) => c.subarray(20000)), 'f32le', [7000]);
  await second.finish();
  const joined = concatAt(first.output('vocals'), last, second.output('vocals'));
  t.ok(maxAbsDiffPlanar(joined, expected.vocals) <= 1e-4, 'joined output equals offline');
});

t.test('resume errors: wrong token, offset not produced yet', async (t) => {
  const client = new StreamClient(url);
  const ready = await client.start({ sampleRateHz: RATE, channels: 2, format: 's16le' });
  const wrongToken = new StreamClient(url);
  await wrongToken.opened;
  wrongToken.sendJson({ type: 'resume', sessionId: ready['sessionId'], resumeToken: 'not-the-token', lastSampleOffset: 0 });
  t.same(await wrongToken.expectError(), { code: 'LIVESTEM_ERR_UNKNOWN_SESSION', closeCode: 4410 });
  const beyond = new StreamClient(url);
  await beyond.opened;
  beyond.sendJson({ type: 'resume', sessionId: ready['sessionId'], resumeToken: ready['resumeToken'], lastSampleOffset: 999999 });
  t.same(await beyond.expectError(), { code: 'LIVESTEM_ERR_RESUME_GAP', closeCode: 4416 });
  const done = await client.finish();
  t.equal(done['type'], 'done', 'failed resume attempts do not disturb the session');
});

t.test('a detached session ends when the grace period passes', async (t) => {
  const short = await startTestServer(fixture.modelsDir, { resumeGraceMs: 200, resumeBufferMs: 2000 });
  t.teardown(() => short.server.close());
  const client = new StreamClient(short.url);
  const ready = await client.start({ sampleRateHz: RATE, channels: 2, format: 'f32le' });
  client.ws.terminate();
  await client.closed;
  const deadline = Date.now() + 10_000;
  while (short.server.registry.activeCount > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  t.equal(short.server.registry.activeCount, 0, 'session released after the grace period');
  const late = new StreamClient(short.url);
  await late.opened;
  late.sendJson({ type: 'resume', sessionId: ready['sessionId'], resumeToken: ready['resumeToken'], lastSampleOffset: 0 });
  t.same(await late.expectError(), { code: 'LIVESTEM_ERR_UNKNOWN_SESSION', closeCode: 4410 });
});
