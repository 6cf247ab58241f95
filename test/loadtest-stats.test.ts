import t from 'tap';
import { empiricalCdf, percentileSorted, summarize } from '../loadtest/stats/percentiles.ts';
import {
  histogramDelta,
  histogramQuantile,
  parsePromText,
  PromParseError,
  readHistogram,
  sumSeries,
} from '../loadtest/metrics/prom-text.ts';
import { cpuBoundSessions, cpuLine, summarizeScrapes, metricsUrlFor, stageQuantilesMs } from '../loadtest/metrics/scraper.ts';
import { judgeStep, parseRampSpec, rampOutcome, rampSteps } from '../loadtest/ramp.ts';
import { SessionTracker } from '../loadtest/session-tracker.ts';

t.test('nearest-rank percentiles of 1..100 and of 1..1000', async (t) => {
  const hundred = Float64Array.from({ length: 100 }, (_, i) => i + 1);
  t.equal(percentileSorted(hundred, 50), 50);
  t.equal(percentileSorted(hundred, 90), 90);
  t.equal(percentileSorted(hundred, 99), 99);
  t.equal(percentileSorted(hundred, 99.9), 100, 'p99.9 of 100 samples is the maximum');
  t.equal(percentileSorted(hundred, 0), 1);
  t.equal(percentileSorted(hundred, 100), 100);
  const thousand = Float64Array.from({ length: 1000 }, (_, i) => i + 1);
  t.equal(percentileSorted(thousand, 99.9), 999);
  t.equal(percentileSorted(thousand, 99), 990);
  t.ok(Number.isNaN(percentileSorted(new Float64Array(0), 50)));
  t.throws(() => percentileSorted(hundred, 101), RangeError);
});

t.test('summarize sorts, and one outlier moves only max and p99.9', async (t) => {
  const values = Array.from({ length: 1000 }, (_, i) => 20 + (i % 10)); // 20..29, 100 of each
  const base = summarize(values.slice().reverse());
  t.equal(base.count, 1000);
  t.equal(base.minMs, 20);
  t.equal(base.p50Ms, 24);
  t.equal(base.p90Ms, 28);
  t.equal(base.p99Ms, 29);
  t.equal(base.maxMs, 29);
  t.equal(base.meanMs, 24.5);
  values[500] = 75;
  const withOutlier = summarize(values);
  t.equal(withOutlier.maxMs, 75);
  t.equal(withOutlier.p99Ms, 29);
  t.equal(withOutlier.p999Ms, 29, 'p99.9 of 1000 is the 999th value');
  values[501] = 76;
  t.equal(summarize(values).p999Ms, 75, 'two outliers reach p99.9');
});

t.test('empirical CDF ends at (max, 1) and stays within the point budget', async (t) => {
  const values = Array.from({ length: 10000 }, (_, i) => (i * 7919) % 10000);
  const cdf = empiricalCdf(values, 400);
  t.ok(cdf.length <= 400, `${cdf.length} points`);
  t.same(cdf[cdf.length - 1], { latencyMs: 9999, fraction: 1 });
  const monotonic = cdf.every((p, i) => i === 0 || (p.fraction > cdf[i - 1]!.fraction && p.latencyMs >= cdf[i - 1]!.latencyMs));
  t.ok(monotonic, 'fractions rise strictly, latencies never fall');
  t.same(empiricalCdf([3, 1, 2]), [
    { latencyMs: 1, fraction: 1 / 3 },
    { latencyMs: 2, fraction: 2 / 3 },
    { latencyMs: 3, fraction: 1 },
  ]);
});

const SCRAPE_A = `# HELP livestem_sessions_active Sessions streaming now
# TYPE livestem_sessions_active gauge
livestem_sessions_active{model="lstm"} 3
livestem_sessions_active{model="unet"} 1
# HELP livestem_hop_seconds Time per hop
# TYPE livestem_hop_seconds histogram
livestem_hop_seconds_bucket{le="0.001"} 10
livestem_hop_seconds_bucket{le="0.005"} 90
livestem_hop_seconds_bucket{le="0.01"} 100
livestem_hop_seconds_bucket{le="+Inf"} 100
livestem_hop_seconds_sum 0.3
livestem_hop_seconds_count 100
# TYPE livestem_late_frames_total counter
livestem_late_frames_total{reason="slow \\"model\\""} 2 1700000000000
process_cpu_seconds_total 1.5
`;

const SCRAPE_B = SCRAPE_A.replace('livestem_sessions_active{model="lstm"} 3', 'livestem_sessions_active{model="lstm"} 7')
  .replace('{le="0.001"} 10', '{le="0.001"} 10')
  .replace('{le="0.005"} 90', '{le="0.005"} 90')
  .replace('{le="0.01"} 100', '{le="0.01"} 200')
  .replace('{le="+Inf"} 100', '{le="+Inf"} 200')
  .replace('_sum 0.3', '_sum 1.1')
  .replace('_count 100', '_count 200')
  .replace('"} 2 1700000000000', '"} 5');

t.test('Prometheus text: families, labels with escapes, timestamps, sums', async (t) => {
  const a = parsePromText(SCRAPE_A);
  t.equal(a.families.get('livestem_sessions_active')?.type, 'gauge');
  t.equal(a.families.get('livestem_hop_seconds')?.help, 'Time per hop');
  t.equal(sumSeries(a, 'livestem_sessions_active'), 4);
  t.equal(sumSeries(a, 'livestem_sessions_active', { model: 'unet' }), 1);
  t.equal(a.samples.find((s) => s.name === 'livestem_late_frames_total')?.labels['reason'], 'slow "model"');
  t.equal(sumSeries(a, 'livestem_late_frames_total'), 2);
  t.ok(Number.isNaN(sumSeries(a, 'nope')));
  t.throws(() => parsePromText('<html>not metrics</html>'), PromParseError);
  t.throws(() => parsePromText('x{a="1"} notanumber'), PromParseError);
  t.equal(parsePromText('x +Inf\ny NaN').samples[0]?.value, Number.POSITIVE_INFINITY);
  t.ok(Number.isNaN(parsePromText('summary_quantile{quantile="0.5"} Nan').samples[0]!.value), 'prom-client writes NaN as "Nan"');
});

t.test('histogram quantile follows histogram_quantile interpolation', async (t) => {
  const h = readHistogram(parsePromText(SCRAPE_A), 'livestem_hop_seconds')!;
  t.equal(h.count, 100);
  // rank 50 lies in (0.001, 0.005] holding ranks 10..90: 0.001 + 0.004 · 40/80
  t.equal(histogramQuantile(h, 0.5), 0.003);
  t.equal(histogramQuantile(h, 0.05), 0.0005, 'first bucket interpolates from 0');
  t.equal(histogramQuantile(h, 0.95), 0.0075);
  const inf = { buckets: [{ le: 0.01, count: 1 }, { le: Number.POSITIVE_INFINITY, count: 10 }], sum: 0, count: 10 };
  t.equal(histogramQuantile(inf, 0.99), 0.01, 'rank in +Inf returns the highest finite bound');
  const delta = histogramDelta(h, readHistogram(parsePromText(SCRAPE_B), 'livestem_hop_seconds')!);
  t.same(delta.buckets.map((b) => b.count), [0, 0, 100, 100]);
  t.equal(histogramQuantile(delta, 0.5), 0.0075, 'only the step\'s observations, all in (0.005, 0.01]');
});

t.test('scrape summary: counter increase, gauge peak, step histogram', async (t) => {
  const scrapes = [SCRAPE_A, SCRAPE_B, SCRAPE_A].map((text, i) => ({ atMs: i * 1000, scrape: parsePromText(text) }));
  const s = summarizeScrapes('http://x/metrics', scrapes.slice(0, 2), 0);
  t.equal(s.counters['livestem_late_frames_total'], 3);
  t.same(s.gauges['livestem_sessions_active'], { max: 8, last: 8 });
  t.equal(s.histograms['livestem_hop_seconds']?.count, 100);
  t.equal(s.histograms['livestem_hop_seconds']?.mean, 0.008);
  t.notOk('process_cpu_seconds_total' in s.counters, 'only livestem_ metrics');
  t.same(summarizeScrapes('u', scrapes, 0).gauges['livestem_sessions_active'], { max: 8, last: 4 });
  t.equal(metricsUrlFor('ws://10.0.0.5:8080/v1/stream?token=abc'), 'http://10.0.0.5:8080/metrics');
  t.equal(metricsUrlFor('wss://example.com/v1/stream'), 'https://example.com/metrics');
});

t.test('scrape summary: CPU per session-second of server and generator, and the CPU-bound ceiling', async (t) => {
  const at = (ms: number, cpuSeconds: number, sessions: number, generatorCpuMs?: number) => ({
    atMs: ms,
    scrape: parsePromText(`process_cpu_seconds_total ${cpuSeconds}\nlivestem_sessions_active ${sessions}\n`),
    ...(generatorCpuMs === undefined ? {} : { generatorCpuMs }),
  });
  // sessions 10 → 10 → 20 over 2 s: 10 + 15 = 25 session-seconds; the server spent 1 s of CPU, the generator 0.25 s
  const s = summarizeScrapes('u', [at(0, 5, 10, 100), at(1000, 5.4, 10, 200), at(2000, 6, 20, 350)], 0);
  t.same(s.cpu, { windowMs: 2000, serverCpuMs: 1000, generatorCpuMs: 250, sessionSeconds: 25, serverMsPerSessionSecond: 40, generatorMsPerSessionSecond: 10 });
  t.equal(cpuBoundSessions(s.cpu!, 2), 40, '2 cores / 50 ms per session-second');
  t.match(cpuLine(s.cpu!, true, 2), 'CPU per session-second: server 40.0 ms, load generator 10.0 ms → 2 cores carry at most 40 sessions');
  t.notMatch(cpuLine(s.cpu!, false, 2), 'carry', 'no ceiling for a server on another machine');
  const noGenerator = summarizeScrapes('u', [at(0, 5, 10), at(1000, 5.4, 10)], 0);
  t.equal(noGenerator.cpu?.generatorCpuMs, null);
  t.equal(cpuBoundSessions(noGenerator.cpu!, 2), null);
  t.equal(summarizeScrapes('u', [at(0, 5, 10)], 0).cpu, undefined, 'one scrape measures no interval');
});

t.test('ramp: steps, verdicts and capacity', async (t) => {
  const spec = parseRampSpec('8:32:8');
  t.same(rampSteps(spec), [8, 16, 24, 32]);
  t.throws(() => parseRampSpec('8:4:2'));
  t.throws(() => parseRampSpec('8:x:2'));
  t.same(judgeStep({ streams: 8, p99E2eMs: 30, gaps: 0, failedSessions: 0 }, 40), { pass: true, reasons: [] });
  const bad = judgeStep({ streams: 8, p99E2eMs: 41, gaps: 2, failedSessions: 1 }, 40);
  t.equal(bad.pass, false);
  t.equal(bad.reasons.length, 3);
  t.equal(judgeStep({ streams: 8, p99E2eMs: Number.NaN, gaps: 0, failedSessions: 0 }, 40).pass, false, 'no data never passes');
  t.same(rampOutcome([{ streams: 8, pass: true }, { streams: 16, pass: true }, { streams: 24, pass: false }], spec), {
    capacityStreams: 16,
    firstFailStreams: 24,
    saturated: true,
    done: true,
  });
  t.same(rampOutcome([{ streams: 8, pass: true }], spec), { capacityStreams: 8, firstFailStreams: null, saturated: false, done: false });
  t.equal(rampOutcome([8, 16, 24, 32].map((streams) => ({ streams, pass: true })), spec).done, true);
  t.equal(rampOutcome([{ streams: 8, pass: false }], spec).capacityStreams, 0);
});

t.test('session tracker: e2e from aligned input send time, gaps, sequences, tail', async (t) => {
  // 1000 Hz rates for round numbers: input frames of 10 samples sent at t = 10·k ms (k = 0..9)
  const tr = new SessionTracker({ inputSampleRateHz: 1000, algorithmicLatencyMs: 15, lateThresholdMs: 30, outputHopSamples: 5 });
  for (let k = 0; k < 10; k++) tr.noteInputSent(10, 10 * k);
  tr.notePong(4);
  tr.notePong(2);
  const frame = (sequence: number, sampleOffset: number, kind = 'vocals') => ({ kind, sequence, sampleOffset, sampleCount: 5, sampleRateHz: 1000 });
  tr.noteOutputFrame(frame(0, 0), 22); // newest sample 4 → input frame 0 sent at 0
  tr.noteOutputFrame(frame(1, 5), 27); // newest 9 → frame 0; enabling sample 24 → frame 2 (20 ms)
  tr.noteOutputFrame(frame(2, 15), 60); // gap of 5 samples; newest 19 → frame 1 (10 ms): e2e 50 (late)
  tr.noteOutputFrame(frame(5, 20), 45); // 2 sequences missing; newest 24 → input frame 2 (20 ms)
  tr.noteOutputFrame(frame(6, 20), 46); // overlap
  t.same([...tr.e2eMs.view()], [22, 27, 50, 25, 26]);
  tr.noteDone(40, ['vocals', 'accompaniment']);
  const m = tr.finish();
  // minus the minimum RTT (2 ms): input one way, output the other
  t.same([...tr.serverMs.view()], [22 - 10 - 2, 27 - 20 - 2, 60 - 30 - 2, 45 - 30 - 2, 46 - 30 - 2]);
  t.equal(m.inputFramesSent, 10);
  t.equal(m.inputSamplesSent, 100);
  t.equal(m.outputFrames, 5);
  t.equal(m.lateHops, 1, 'only the 50 ms hop is over 30 ms');
  t.equal(m.untimedHops, 0);
  t.equal(m.minRttMs, 2);
  t.same(m.continuity, { gaps: 3, missingSamples: 5 + 15 + 40, overlaps: 1, sequenceGaps: 1, missingSequences: 2 });
  t.same(m.outputSamplesByKind['vocals'], { frames: 5, samples: 25, endOffset: 40 });
  t.same(m.outputSamplesByKind['accompaniment'], { frames: 0, samples: 0, endOffset: 40 });
});

t.test('session tracker: one latency per hop, also when a frame carries many hops', async (t) => {
  const tr = new SessionTracker({ inputSampleRateHz: 1000, algorithmicLatencyMs: 0, lateThresholdMs: 1e9, outputHopSamples: 256 });
  for (let k = 0; k < 20; k++) tr.noteInputSent(100, k); // sample i was sent at floor(i / 100) ms
  const frame = (sequence: number, sampleOffset: number, sampleCount: number) => ({ kind: 'vocals', sequence, sampleOffset, sampleCount, sampleRateHz: 1000 });
  tr.noteOutputFrame(frame(0, 0, 512), 100); // hops ending at 255, 511
  tr.noteOutputFrame(frame(1, 512, 768), 100); // a late burst: hops ending at 767, 1023, 1279
  tr.noteOutputFrame(frame(2, 1280, 20), 100); // a partial tail hop: newest sample 1299
  t.same([...tr.e2eMs.view()], [100 - 2, 100 - 5, 100 - 7, 100 - 10, 100 - 12, 100 - 12]);

  const fractional = new SessionTracker({ inputSampleRateHz: 1000, algorithmicLatencyMs: 0, lateThresholdMs: 1e9, outputHopSamples: 278.64 });
  fractional.noteInputSent(1000, 0);
  fractional.noteOutputFrame(frame(0, 0, 1000), 1);
  t.equal(fractional.e2eMs.length, 4, 'hops ending at 278, 556, 835, plus the partial hop ending at 999');
  const beyond = new SessionTracker({ inputSampleRateHz: 1000, algorithmicLatencyMs: 0, lateThresholdMs: 1e9, outputHopSamples: 10 });
  beyond.noteInputSent(10, 0);
  beyond.noteOutputFrame(frame(0, 0, 20), 1);
  t.equal(beyond.finish().untimedHops, 1, 'output beyond the sent input cannot be timed and is counted');
});

t.test('session tracker: with a timed kind, each hop is timed once, by the frame of the span\'s last kind', async (t) => {
  const tr = new SessionTracker({ inputSampleRateHz: 1000, algorithmicLatencyMs: 0, lateThresholdMs: 1e9, outputHopSamples: 10, timedKind: 'accompaniment' });
  tr.noteInputSent(40, 0);
  const frame = (kind: string, sequence: number, sampleOffset: number) => ({ kind, sequence, sampleOffset, sampleCount: 20, sampleRateHz: 1000 });
  tr.noteOutputFrame(frame('vocals', 0, 0), 5);
  tr.noteOutputFrame(frame('accompaniment', 1, 0), 6);
  tr.noteOutputFrame(frame('vocals', 2, 20), 7);
  tr.noteOutputFrame(frame('accompaniment', 3, 20), 8);
  t.same([...tr.e2eMs.view()], [6, 6, 8, 8], 'four hops of 10 samples, each timed by its accompaniment frame');
  t.equal(tr.finish().outputFrames, 4, 'every frame still counts for continuity');
});

t.test('content aligner: finds a packet in the sent input, follows it, sees jumps and silence', async (t) => {
  const { ContentAligner } = await import('../loadtest/clients/content-aligner.ts');
  const { noise } = await import('./helpers/signals.ts');
  const input = noise(48000, 3, 0.5);
  const aligner = new ContentAligner(960, 48000);
  for (let i = 0; i < input.length; i += 960) aligner.pushInput(input.subarray(i, i + 960));
  t.equal(aligner.inputEnd, 48000);
  // a received packet = input delayed and slightly distorted (lossy coding): 0.9·x + small noise
  const packetAt = (offset: number, seed: number): Float32Array => {
    const wobble = noise(960, seed, 0.05);
    return Float32Array.from({ length: 960 }, (_, i) => 0.9 * input[offset + i]! + wobble[i]!);
  };
  t.equal(aligner.match(packetAt(12_345, 10))?.offset, 12_345, 'first packet found by a full search');
  t.equal(aligner.match(packetAt(12_345 + 960, 11))?.offset, 12_345 + 960, 'next packet tracked');
  t.equal(aligner.match(new Float32Array(960)), null, 'silence (an underrun filler) is not matched');
  t.equal(aligner.silent, 1);
  t.equal(aligner.match(packetAt(12_345 + 4 * 960, 12))?.offset, 12_345 + 4 * 960, 'two packets skipped: a jump');
  t.equal(aligner.match(noise(960, 99, 0.5)), null, 'content that was never sent matches nothing');
  t.equal(aligner.unmatched, 1);
  t.ok(aligner.match(packetAt(30_000, 13))!.correlation > 0.9, 'relocks after losing track');
  t.equal(aligner.match(packetAt(20_000, 16)), null, 'earlier content is never matched again (the server does not repeat output)');
  const fresh = new ContentAligner(960, 48000);
  for (let i = 0; i < input.length; i += 960) fresh.pushInput(input.subarray(i, i + 960));
  t.equal(fresh.locate(packetAt(20_000, 17), true, 20_959), null, 'content sent after the packet arrived is not a candidate');
  t.equal(fresh.locate(packetAt(20_000, 17), true, 20_960)?.offset, 20_000);
  // history is bounded: old input is forgotten
  const small = new ContentAligner(960, 4800);
  for (let i = 0; i < input.length; i += 960) small.pushInput(input.subarray(i, i + 960));
  t.equal(small.match(packetAt(1000, 14)), null, 'older than the history window');
  t.equal(small.match(packetAt(44_000, 15))?.offset, 44_000);
});

t.test('scrape summary: the server\'s hop stages are summarized one per stage, not summed', async (t) => {
  const stageScrape = (engineCount: number): string =>
    [
      '# TYPE livestem_hop_stage_seconds histogram',
      ...[
        ['to_engine', 10, 10],
        ['engine', 0, engineCount],
      ].flatMap(([stage, fast, all]) => [
        `livestem_hop_stage_seconds_bucket{le="0.001",stage="${stage}"} ${fast}`,
        `livestem_hop_stage_seconds_bucket{le="0.01",stage="${stage}"} ${all}`,
        `livestem_hop_stage_seconds_bucket{le="+Inf",stage="${stage}"} ${all}`,
        `livestem_hop_stage_seconds_sum{stage="${stage}"} 0`,
        `livestem_hop_stage_seconds_count{stage="${stage}"} ${all}`,
      ]),
    ].join('\n');
  const s = summarizeScrapes('u', [stageScrape(0), stageScrape(10)].map((text, i) => ({ atMs: i, scrape: parsePromText(text) })), 0);
  t.notOk('livestem_hop_stage_seconds' in s.histograms, 'no merged series');
  t.equal(s.histograms['livestem_hop_stage_seconds{stage="engine"}']?.count, 10, 'the step\'s engine observations');
  // to_engine saw nothing during the step; engine's 10 hops all fell in (1, 10] ms: p50 interpolates to 5.5 ms
  const stages = stageQuantilesMs(s);
  t.same(stages.map((x) => x.stage), ['engine'], 'only stages with hops in the step');
  t.ok(Math.abs(stages[0]!.p50 - 5.5) < 1e-9 && Math.abs(stages[0]!.p99 - 9.91) < 1e-9, `engine p50 ${stages[0]!.p50} / p99 ${stages[0]!.p99} ms`);
});
