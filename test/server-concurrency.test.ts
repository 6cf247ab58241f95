import t from 'tap';
import type { SampleFormat } from '../client-sdk/src/protocol/index.ts';
import { StreamClient, exportTestModel, maxAbsDiffPlanar, randomSizes, startTestServer, streamSignal, testSong } from './helpers/server-harness.ts';
import { mulberry32 } from './helpers/signals.ts';

const fixture = await exportTestModel(9);
t.teardown(() => fixture.cleanup());

interface Case {
  index: number;
  sampleRateHz: number;
  outputSampleRateHz: number;
  channels: 1 | 2;
  format: SampleFormat;
  outputFormat: SampleFormat;
  signal: Float32Array[];
  startDelayMs: number;
  sizes: number[];
}

const rates = [8000, 16000, 22050, 24000, 32000, 44100, 48000];
const rand = mulberry32(42);
const cases: Case[] = Array.from({ length: 32 }, (_, index) => {
  const sampleRateHz = rates[index % rates.length]!;
  const outputSampleRateHz = index % 5 === 0 ? rates[(index + 3) % rates.length]! : sampleRateHz;
  const channels = (index % 3 === 0 ? 1 : 2) as 1 | 2;
  const lengthSamples = Math.round(sampleRateHz * (0.5 + 0.5 * rand()));
  return {
    index,
    sampleRateHz,
    outputSampleRateHz,
    channels,
    format: index % 2 === 0 ? 'f32le' : 's16le',
    outputFormat: index % 4 < 2 ? 'f32le' : 's16le',
    signal: testSong(lengthSamples, sampleRateHz, channels, 100 + index),
    startDelayMs: Math.floor(rand() * 300),
    sizes: randomSizes(200 + index, 40, 32, Math.round(sampleRateHz * 0.05)),
  };
});

interface Result {
  vocals: Float32Array[];
  accompaniment: Float32Array[];
  vad: number[];
  done: Record<string, unknown>;
}

async function runCase(url: string, c: Case, paced: boolean): Promise<Result> {
  const client = new StreamClient(url);
  await client.start({
    sampleRateHz: c.sampleRateHz,
    channels: c.channels,
    format: c.format,
    outputSampleRateHz: c.outputSampleRateHz,
    outputFormat: c.outputFormat,
    streamId: `case-${c.index}`,
  });
  await streamSignal(client, c.signal, c.format, c.sizes, { rateHz: c.sampleRateHz, realTime: paced });
  const done = await client.finish();
  return {
    vocals: client.output('vocals'),
    accompaniment: client.output('accompaniment'),
    vad: client.messages.filter((m) => m.type === 'vad').flatMap((m) => m['probs'] as number[]),
    done,
  };
}

t.test('32 concurrent sessions (mixed rates, channels, formats, staggered starts) equal each session run alone', async (t) => {
  const alone = await startTestServer(fixture.modelsDir, { maxBatch: 1 });
  const references: Result[] = [];
  for (const c of cases) references.push(await runCase(alone.url, c, false));
  await alone.server.close();

  const batched = await startTestServer(fixture.modelsDir, { maxBatch: 128, batchWindowMs: 3 });
  const results = await Promise.all(
    cases.map(async (c) => {
      await new Promise((r) => setTimeout(r, c.startDelayMs));
      return runCase(batched.url, c, true);
    }),
  );
  const batchSizes = await batched.server.metrics.batchSize.get();
  await batched.server.close();

  let worst = 0;
  results.forEach((r, i) => {
    const c = cases[i]!;
    const ref = references[i]!;
    const expectedLength = Math.ceil((c.signal[0]!.length * c.outputSampleRateHz) / c.sampleRateHz);
    t.equal(r.vocals[0]!.length, expectedLength, `case ${i}: output length`);
    t.equal(r.vocals.length, c.channels, `case ${i}: channels`);
    const diff = Math.max(maxAbsDiffPlanar(r.vocals, ref.vocals), maxAbsDiffPlanar(r.accompaniment, ref.accompaniment));
    worst = Math.max(worst, diff);
    // s16 output rounds to 1/32768; a batched/unbatched float difference may flip one rounding.
    const tolerance = c.outputFormat === 's16le' ? 1 / 32768 + 1e-6 : 1e-5;
    t.ok(diff <= tolerance, `case ${i} (${c.sampleRateHz}→${c.outputSampleRateHz} Hz, ${c.channels} ch, ${c.format}→${c.outputFormat}): batched vs alone ${diff}`);
    t.equal(r.vad.length, ref.vad.length, `case ${i}: VAD count`);
    t.ok(r.vad.every((p, k) => Math.abs(p - ref.vad[k]!) <= 1e-5), `case ${i}: VAD batched == alone`);
  });
  const sumCount = batchSizes.values.find((v) => v.metricName === 'livestem_batch_size_count')?.value ?? 0;
  const sumSize = batchSizes.values.find((v) => v.metricName === 'livestem_batch_size_sum')?.value ?? 0;
  t.ok(sumSize / Math.max(1, sumCount) > 1.5, `frames were really batched (mean batch ${(sumSize / Math.max(1, sumCount)).toFixed(2)})`);
  t.comment(`worst batched-vs-alone difference ${worst}`);
});
