import t from 'tap';
import { createOfflineSeparator } from '../server/engine/offline-separator.ts';
import {
  StreamClient,
  exportTestModel,
  maxAbsDiffPlanar,
  quantizeS16,
  randomSizes,
  startTestServer,
  streamSignal,
  testSong,
} from './helpers/server-harness.ts';

const RATE = 44100;
const fixture = await exportTestModel(7);
t.teardown(() => fixture.cleanup());
const offline = await createOfflineSeparator(fixture.modelDir);
t.teardown(() => offline.close());
const { server, url } = await startTestServer(fixture.modelsDir);
t.teardown(() => server.close());

t.test('as fast as allowed, random-sized f32 frames: equals the offline separator, same length, mixture-consistent', async (t) => {
  const song = testSong(3 * RATE, RATE, 2, 1);
  const expected = await offline.separate(song, RATE);
  const client = new StreamClient(url);
  const ready = await client.start({ sampleRateHz: RATE, channels: 2, format: 'f32le' });
  t.same(ready['latency'], { samples: 768, ms: (768 / RATE) * 1000 }, 'announced latency = nFft − hop at the model rate');
  t.equal((ready['model'] as { hopSamples: number }).hopSamples, 256);
  await streamSignal(client, song, 'f32le', randomSizes(11, 200, 1, 5000));
  const done = await client.finish();
  t.equal(client.closeCode, 1000);
  t.equal(done['inputSamples'], 3 * RATE);
  t.equal(done['outputSamples'], 3 * RATE);
  const vocals = client.output('vocals');
  const accompaniment = client.output('accompaniment');
  t.equal(vocals[0]!.length, 3 * RATE, 'output length == input length');
  t.ok(maxAbsDiffPlanar(vocals, expected.vocals) <= 1e-4, `vocals vs offline: ${maxAbsDiffPlanar(vocals, expected.vocals)}`);
  t.ok(maxAbsDiffPlanar(accompaniment, expected.accompaniment) <= 1e-4, 'accompaniment vs offline');
  const sum = vocals.map((ch, c) => ch.map((v, i) => v + accompaniment[c]![i]!));
  t.ok(maxAbsDiffPlanar(sum, song) <= 1e-4, `vocals + accompaniment == input: ${maxAbsDiffPlanar(sum, song)}`);
  t.ok(maxAbsDiffPlanar(vocals, song) > 1e-2, 'the model really changed the signal');
  // VAD: one probability per input hop, the same as offline.
  const probs = client.messages.filter((m) => m.type === 'vad').flatMap((m) => m['probs'] as number[]);
  t.equal(probs.length, expected.vadProb.length);
  t.ok(probs.every((p, k) => Math.abs(p - expected.vadProb[k]!) < 1e-5), 'VAD probabilities match offline');
  const seq = client.sequences;
  t.same(seq, seq.map((_, i) => i), 'sequence numbers count up from 0 without gaps');
});

t.test('real-time paced: output offset t is released exactly when input t + latency has arrived (hop-quantised)', async (t) => {
  const length = Math.round(1.5 * RATE);
  const song = testSong(length, RATE, 2, 2);
  const expected = await offline.separate(song, RATE);
  const client = new StreamClient(url);
  const ready = await client.start({ sampleRateHz: RATE, channels: 2, format: 'f32le', outputs: ['vocals', 'accompaniment', 'karaoke'], vocalGain: 0.25 });
  const latency = (ready['latency'] as { samples: number }).samples;
  const sizes = randomSizes(5, 100, 64, 1400);
  let early = 0;
  await streamSignal(client, song, 'f32le', sizes, {
    rateHz: RATE,
    realTime: true,
    afterChunk: async (sent) => {
      const available = Math.max(0, Math.floor(sent / 256) * 256 - latency);
      if (client.received('vocals') > available) early++;
      // Output up to exactly `available` arrives; nothing beyond it can (the future is not known yet).
      await client.until(() => client.received('vocals') >= available, `output ${available}`);
      if (client.received('vocals') !== available) early++;
    },
  });
  t.equal(early, 0, 'never more output than floor(sent/hop)·hop − latency, and exactly that once processed');
  await client.finish();
  const vocals = client.output('vocals');
  t.equal(vocals[0]!.length, length);
  t.ok(maxAbsDiffPlanar(vocals, expected.vocals) <= 1e-4, `paced vocals vs offline: ${maxAbsDiffPlanar(vocals, expected.vocals)}`);
  const karaoke = client.output('karaoke');
  const mix = expected.accompaniment.map((a, c) => a.map((v, i) => v + 0.25 * expected.vocals[c]![i]!));
  t.ok(maxAbsDiffPlanar(karaoke, mix) <= 1e-4, 'karaoke = accompaniment + vocalGain · vocals');
  const stats = client.messages.find((m) => m.type === 'done')!;
  t.equal(stats['outputSamples'], length);
});

t.test('s16le in, s16le out, mono: equals offline on the quantised input to s16 precision', async (t) => {
  const length = RATE;
  const song = quantizeS16(testSong(length, RATE, 1, 3));
  const expected = await offline.separate(song, RATE);
  const client = new StreamClient(url);
  await client.start({ sampleRateHz: RATE, channels: 1, format: 's16le' });
  await streamSignal(client, song, 's16le', randomSizes(17, 50, 100, 3000));
  await client.finish();
  const vocals = client.output('vocals');
  t.equal(vocals.length, 1, 'mono out');
  t.equal(vocals[0]!.length, length);
  t.ok(maxAbsDiffPlanar(vocals, expected.vocals) <= 1e-4, `s16 vocals vs offline: ${maxAbsDiffPlanar(vocals, expected.vocals)}`);
});

t.test('configure mid-stream switches outputs sample-exactly; flush ends a segment without losing samples', async (t) => {
  const a = testSong(RATE, RATE, 2, 4);
  const b = testSong(Math.round(0.6 * RATE), RATE, 2, 5);
  const expectedA = await offline.separate(a, RATE);
  const expectedB = await offline.separate(b, RATE);
  const client = new StreamClient(url);
  await client.start({ sampleRateHz: RATE, channels: 2, format: 'f32le', outputs: ['vocals'] });
  await streamSignal(client, a, 'f32le', [4410]);
  client.sendJson({ type: 'flush' });
  const flushed = await client.waitFor('flushed');
  t.equal(flushed['sampleOffset'], RATE, 'flush emits everything up to the input so far');
  t.equal(client.received('vocals'), RATE);
  client.sendJson({ type: 'configure', outputs: ['vocals', 'accompaniment'] });
  const configured = await client.waitFor('configured');
  t.equal(configured['sampleOffset'], RATE);
  await streamSignal(client, b, 'f32le', [3000]);
  await client.finish();
  const vocals = client.output('vocals');
  t.equal(vocals[0]!.length, RATE + b[0]!.length);
  t.ok(maxAbsDiffPlanar(vocals.map((c) => c.subarray(0, RATE)), expectedA.vocals) <= 1e-4, 'segment 1 = offline(a)');
  t.ok(maxAbsDiffPlanar(vocals.map((c) => c.subarray(RATE)), expectedB.vocals) <= 1e-4, 'segment 2 = offline(b), fresh state');
  const acc = client.frameHeaders.filter((h) => h.kind === 'accompaniment');
  t.equal(acc[0]?.sampleOffset, RATE, 'accompaniment starts exactly at the configured offset');
});
