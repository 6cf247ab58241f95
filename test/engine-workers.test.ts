/**
 * The engine in worker threads: sessions go to the least-loaded worker, output crossing the thread boundary equals
 * the offline separator's, the bundled framing carries exactly the samples and VAD of the per-kind one, and a worker
 * that dies fails only its own sessions (ENGINE_CRASHED, close 1011) and is replaced while the server carries on.
 */
import t from 'tap';
import type { EngineEvent } from '../server/engine/engine-protocol.ts';
import { createOfflineSeparator } from '../server/engine/offline-separator.ts';
import { WorkerPool } from '../server/engine/worker-pool.ts';
import { StreamClient, exportTestModel, maxAbsDiffPlanar, randomSizes, startTestServer, streamSignal, testSong } from './helpers/server-harness.ts';

const RATE = 16000;
const fixture = await exportTestModel(7);
t.teardown(() => fixture.cleanup());
const offline = await createOfflineSeparator(fixture.modelDir);
t.teardown(() => offline.close());
const { server, url, logs } = await startTestServer(fixture.modelsDir, { engineWorkers: 2 });
t.teardown(() => server.close());
const pool = server.engine;
if (!(pool instanceof WorkerPool)) throw new Error('engineWorkers 2 must give a worker pool');

const start = { sampleRateHz: RATE, channels: 2, format: 'f32le', outputs: ['vocals', 'accompaniment', 'karaoke'], vocalGain: 0.5 };

t.test('sessions spread over the workers; frames and bundles carry the same samples and VAD as the offline separator', async (t) => {
  const song = testSong(RATE, RATE, 2, 4);
  const expected = await offline.separate(song, RATE);
  const clients = [new StreamClient(url), new StreamClient(url), new StreamClient(url), new StreamClient(url)];
  const framings = ['frames', 'bundles', 'frames', 'bundles'] as const;
  for (const [i, c] of clients.entries()) {
    const ready = await c.start({ ...start, outputFraming: framings[i] });
    t.equal((ready['output'] as { framing: string }).framing, framings[i], 'ready confirms the framing');
  }
  t.same(pool.streamsPerWorker, [2, 2], 'four sessions, two per worker (least-loaded first)');
  await Promise.all(clients.map((c, i) => streamSignal(c, song, 'f32le', randomSizes(20 + i, 40, 100, 1500))));
  const done = await Promise.all(clients.map((c) => c.finish()));
  t.ok(done.every((d) => d['inputSamples'] === RATE && d['outputSamples'] === RATE), 'every session: all input in, all output out');
  for (const [i, c] of clients.entries()) {
    t.ok(maxAbsDiffPlanar(c.output('vocals'), expected.vocals) <= 1e-4, `session ${i} (${framings[i]}): vocals equal the offline separator's`);
    t.ok(maxAbsDiffPlanar(c.output('accompaniment'), expected.accompaniment) <= 1e-4, `session ${i}: accompaniment too`);
  }
  const [frames, bundles] = [clients[0]!, clients[1]!];
  for (const kind of ['vocals', 'accompaniment', 'karaoke'] as const) t.same(bundles.output(kind), frames.output(kind), `${kind}: bundles = frames, bit for bit`);
  const framesProbs = frames.messages.filter((m) => m.type === 'vad').flatMap((m) => m['probs'] as number[]);
  const bundleProbs = bundles.bundles.flatMap((b) => b.vad?.probs ?? []);
  t.equal(bundleProbs.length, expected.vadProb.length, 'one VAD probability per hop in the bundles');
  t.same(bundleProbs, framesProbs, 'the same probabilities as the JSON vad messages of the per-kind framing');
  const bundleJson = bundles.messages.filter((m) => m.type === 'vad');
  const framesJson = frames.messages.filter((m) => m.type === 'vad').length;
  t.ok(bundleJson.every((m) => (m['transitions'] as unknown[]).length > 0), `bundles: JSON vad only on transitions (${bundleJson.length} vs ${framesJson})`);
  t.ok(bundles.sequences.length < frames.sequences.length / 2, `fewer binary messages (${bundles.sequences.length} bundles vs ${frames.sequences.length} frames)`);
  t.same(bundles.sequences, bundles.sequences.map((_, i) => i), 'bundle sequence numbers count up from 0 without gaps');
});

t.test('a worker that dies fails only its sessions (ENGINE_CRASHED, 1011) and is replaced', async (t) => {
  const song = testSong(RATE, RATE, 2, 5);
  const expected = await offline.separate(song, RATE);
  const onDoomed = new StreamClient(url);
  await onDoomed.start(start);
  t.same(pool.streamsPerWorker, [1, 0], 'first session on worker 0');
  const survivor = new StreamClient(url);
  await survivor.start(start);
  t.same(pool.streamsPerWorker, [1, 1], 'second on worker 1');
  await streamSignal(onDoomed, song.map((ch) => ch.subarray(0, 4000)), 'f32le', [4000]);
  await onDoomed.until(() => onDoomed.received('vocals') > 0, 'output from worker 0');

  await pool.threads[0]!.terminate();
  const { code, closeCode } = await onDoomed.expectError();
  t.equal(code, 'LIVESTEM_ERR_ENGINE_CRASHED');
  t.equal(closeCode, 1011);

  await streamSignal(survivor, song, 'f32le', randomSizes(9, 30, 200, 2000));
  const done = await survivor.finish();
  t.equal(done['outputSamples'], RATE, 'the session on the other worker finishes');
  t.ok(maxAbsDiffPlanar(survivor.output('vocals'), expected.vocals) <= 1e-4, 'with the right output');

  await pool.settled();
  t.same(pool.streamsPerWorker, [0, 0]);
  const next = new StreamClient(url);
  await next.start(start);
  await streamSignal(next, song, 'f32le', [RATE]);
  t.match(await next.finish(), { outputSamples: RATE }, 'the replacement worker serves new sessions');
  t.ok(logs.some((l) => l.includes('engine worker died')), 'the death is logged');
  t.ok(logs.some((l) => l.includes('engine worker replaced')), 'and the replacement');
});

t.test('audio crosses the thread boundary by transfer, not copy: typed events in, planar stems out', async (t) => {
  const events: EngineEvent[] = [];
  let drained!: () => void;
  const done = new Promise<void>((resolve) => (drained = resolve));
  const stream = pool.open(
    { model: 'lstm', inputSampleRateHz: RATE, inputChannels: 1, outputSampleRateHz: RATE, vad: true, maxFrameSamples: 8192, lowWaterInputSamples: 0 },
    (event) => {
      events.push(event);
      if (event.type === 'drained') drained();
    },
  );
  const input = pool.inputBuffers(1, 3000);
  const sent = input[0]!;
  sent.set(testSong(3000, RATE, 1, 8)[0]!);
  const pooledBefore = pool.pooledInputBuffers;
  stream.pushAudio(input, 0);
  stream.pushMarker('end', 0);
  await Promise.resolve(); // the commands of one turn are posted together, at its end
  t.equal(sent.byteLength, 0, 'the input array was moved to the worker (detached here)');
  await done;
  await stream.close();
  const outputs = events.flatMap((e) => (e.type === 'output' ? [e.output] : []));
  t.equal(outputs.reduce((n, o) => n + o.sampleCount, 0), 3000, 'every input sample comes back, as planar mono stems');
  t.ok(outputs.every((o) => o.vocals.length === 1 && o.accompaniment.length === 1 && o.vocals[0]! instanceof Float32Array));
  t.match(events.at(-1), { type: 'drained', progress: { inputSamples: 3000, outputSamples: 3000 } });
  t.equal(pool.pooledInputBuffers, pooledBefore + 1, 'the worker handed the input buffer back once its samples were in the pipeline');
});
