/**
 * The load tester against a real in-process server (random small LSTM, port 0): its counts match what was sent and
 * what the server reports (done totals and /metrics), and faults injected by a WebSocket proxy show up — a dropped
 * output frame as exactly one gap of that frame's samples, a frame held back 50 ms in the latency maximum.
 */
import t from 'tap';
import { connectSdk } from '../loadtest/clients/sdk-client.ts';
import type { Connector } from '../loadtest/clients/types.ts';
import { connectWebRtc } from '../loadtest/clients/webrtc-client.ts';
import { connectWebSocket } from '../loadtest/clients/ws-client.ts';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { judgeStep, rampOutcome } from '../loadtest/ramp.ts';
import { generatorInfo, writeReport, type LoadReport } from '../loadtest/report.ts';
import { runStep, type StepOptions } from '../loadtest/run-step.ts';
import { toWebRtcSong, type Song } from '../loadtest/song.ts';
import { startWebrtcServer } from './helpers/browser.ts';
import { exportTestModel, startTestServer, testSong } from './helpers/server-harness.ts';
import { startFaultProxy } from './helpers/ws-fault-proxy.ts';

const RATE_HZ = 44100;
const DURATION_S = 2.5;
const FRAME_SIZES_MS = [10, 20, 40];

const model = await exportTestModel(11);
const { server } = await startTestServer(model.modelsDir);
t.teardown(async () => {
  await server.close();
  await model.cleanup();
});
const song: Song = { name: 'test song', sampleRateHz: RATE_HZ, channels: testSong(RATE_HZ * 2, RATE_HZ, 2, 5) };

function options(url: string, metricsUrl: string | null, websocket: Connector): StepOptions {
  return {
    url,
    streams: 4,
    webrtcStreams: 0,
    durationS: DURATION_S,
    song,
    frameSizesMs: FRAME_SIZES_MS,
    staggerMs: 200,
    format: 's16le',
    lateThresholdMs: 1000,
    metricsUrl,
    pingIntervalMs: 250,
    doneTimeoutMs: 20_000,
    connectors: { websocket, webrtc: null },
  };
}

/** Samples each session sends: whole frames covering the duration. */
function expectedSamples(frameMs: number): number {
  return Math.ceil((DURATION_S * 1000) / frameMs) * Math.round((RATE_HZ * frameMs) / 1000);
}
const sessionFrameMs = [0, 1, 2, 3].map((i) => FRAME_SIZES_MS[i % FRAME_SIZES_MS.length]!);
const expectedTotalSamples = sessionFrameMs.reduce((n, ms) => n + expectedSamples(ms), 0);
const expectedTotalFrames = sessionFrameMs.reduce((n, ms) => n + Math.ceil((DURATION_S * 1000) / ms), 0);

// the baseline goes through the client SDK, the faulted run through the header-only client: both are covered
const baseline = await runStep(options(server.streamUrl, `${server.httpUrl}/metrics`, connectSdk));

t.test('no faults: counts match what was sent and what the server reports', async (t) => {
  t.same(baseline.sessions, { started: 4, completed: 4, failed: 0, errors: {}, errorExamples: {} });
  t.same(baseline.models, ['lstm']);
  t.equal(baseline.sent.frames, expectedTotalFrames);
  t.equal(baseline.sent.samples, expectedTotalSamples);
  t.equal(baseline.serverTotals.inputSamples, expectedTotalSamples, 'server received every sample');
  // same rate in and out: output length == input length, per kind
  t.same(baseline.received.samplesByKind, { vocals: expectedTotalSamples, accompaniment: expectedTotalSamples });
  t.equal(baseline.serverTotals.outputSamples, expectedTotalSamples);
  t.same(baseline.continuity, { gaps: 0, missingSamples: 0, overlaps: 0, sequenceGaps: 0, missingSequences: 0 });
  t.equal(baseline.untimedHops, 0);
  // one latency per output hop (timed by the span's last kind): 4 sessions' hops, the last one partial
  const hops = sessionFrameMs.reduce((n, ms) => n + Math.ceil(expectedSamples(ms) / 256), 0);
  t.equal(baseline.e2eMs.count, hops);
  t.equal(baseline.serverAddedMs.count, hops);
  t.ok(baseline.algorithmicLatencyMs! > 0);
  const m = baseline.server!;
  t.equal(m.scrapeErrors, 0);
  t.equal(m.counters['livestem_input_frames_total'], expectedTotalFrames, '/metrics counted the same input messages');
  t.equal(m.counters['livestem_output_frames_total'], baseline.received.frames, '/metrics counted the same output frames');
  t.equal(m.counters['livestem_sessions_started_total'], 4);
  t.ok(m.gauges['livestem_sessions_active']!.max >= 1 && m.gauges['livestem_sessions_active']!.max <= 4);
  t.equal(m.histograms['livestem_batch_size']!.count > 0, true, 'model calls observed during the step');
  t.ok(baseline.transportRttMs !== null, 'ping RTT measured');
});

t.test('report: JSON, Markdown and PNG plots written from a real step', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'livestem-loadtest-report-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const slo = baseline.algorithmicLatencyMs! + 20;
  const step = { ...baseline, verdict: judgeStep({ streams: 4, p99E2eMs: baseline.e2eMs.p99Ms, gaps: 0, failedSessions: 0 }, slo) };
  const spec = { start: 4, end: 4, step: 1 };
  const report: LoadReport = {
    tool: 'livestem-loadtest',
    reportVersion: 1,
    date: new Date().toISOString(),
    command: 'test',
    generator: generatorInfo(),
    url: server.streamUrl,
    song: { name: song.name, sampleRateHz: RATE_HZ, channels: 2 },
    config: { durationS: DURATION_S, frameSizesMs: FRAME_SIZES_MS, staggerMs: 200, format: 's16le', webrtcStreams: 0, client: 'sdk', lateThresholdMs: 1000, sloP99Ms: slo },
    ramp: { ...rampOutcome([{ streams: 4, pass: step.verdict.pass }], spec), spec, sloP99Ms: slo },
    steps: [step],
  };
  const paths = await writeReport(report, dir);
  t.same(paths.map((p) => p.slice(dir.length + 1)), ['report.json', 'report.md', 'latency-cdf.png', 'capacity.png']);
  const json = JSON.parse(await readFile(paths[0]!, 'utf8')) as LoadReport;
  t.equal(json.steps[0]!.sent.samples, expectedTotalSamples);
  t.equal(json.steps[0]!.e2eMs.count, baseline.e2eMs.count);
  const md = await readFile(paths[1]!, 'utf8');
  t.match(md, `| end-to-end | ${baseline.e2eMs.count} |`);
  t.match(md, /## Capacity/);
  for (const png of paths.slice(2)) {
    const bytes = await readFile(png);
    t.same([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], `${png} is a PNG`);
    t.ok(bytes.readUInt32BE(16) >= 640, 'at least the spec width');
  }
});

t.test('fault proxy: a dropped frame is one gap, a frame held 50 ms shows in the maximum', async (t) => {
  const proxy = await startFaultProxy(server.streamUrl.replace(/\/v1\/stream$/, ''), [
    // early frames: a server that falls behind sends several hops per frame, so a session may send only a few dozen
    { connection: 0, binaryFrame: 6, action: 'drop' },
    { connection: 1, binaryFrame: 9, action: 'delay', delayMs: 50 },
  ]);
  t.teardown(() => proxy.close());
  const faulted = await runStep(options(`${proxy.baseUrl}/v1/stream`, null, connectWebSocket));
  t.equal(proxy.injected.dropped.length, 1);
  t.equal(proxy.injected.delayed.length, 1);
  const dropped = proxy.injected.dropped[0]!;
  t.same(faulted.sessions, { started: 4, completed: 4, failed: 0, errors: {}, errorExamples: {} });
  t.equal(faulted.sent.samples, expectedTotalSamples);
  t.same(faulted.continuity, {
    gaps: 1,
    missingSamples: dropped.sampleCount,
    overlaps: 0,
    sequenceGaps: 1,
    missingSequences: 1,
  });
  t.equal(faulted.received.samplesByKind[dropped.kind], expectedTotalSamples - dropped.sampleCount);
  t.ok(faulted.e2eMs.maxMs >= 50, `held frame seen: max ${faulted.e2eMs.maxMs.toFixed(1)} ms`);
  t.comment(
    `no-fault run: p99.9 ${baseline.e2eMs.p999Ms.toFixed(1)} / max ${baseline.e2eMs.maxMs.toFixed(1)} ms; ` +
      `with the held frame: p99.9 ${faulted.e2eMs.p999Ms.toFixed(1)} / max ${faulted.e2eMs.maxMs.toFixed(1)} ms`,
  );
});

t.test('WebRTC session: Opus in 20 ms packets, output packets located in the input by content', async (t) => {
  // main.ts mounts WebRTC as a plugin; this server gets it the same way, on the same small model
  const rtc = await startWebrtcServer({ modelsDir: model.modelsDir, name: 'lstm', trained: false });
  t.teardown(() => rtc.server.close());
  const webrtcSong = toWebRtcSong(song);
  const result = await runStep({
    ...options(rtc.server.streamUrl, null, connectWebSocket),
    streams: 1,
    webrtcStreams: 1,
    durationS: 2,
    webrtcSong,
    connectors: { websocket: null, webrtc: connectWebRtc },
  });
  t.same(result.byTransport, { websocket: 0, webrtc: 1 });
  t.same(result.sessions, { started: 1, completed: 1, failed: 0, errors: {}, errorExamples: {} });
  t.equal(result.sent.frames, 100, '2 s of 20 ms packets');
  t.equal(result.sent.samples, 96_000);
  t.equal(result.untimedHops, 0);
  const located = result.received.samplesByKind['webrtc'] ?? 0;
  t.ok(located >= 960 * 20, `${located / 960} output packets located in the sent input`);
  t.equal(result.e2eMs.count, located / 960, 'one latency per located packet');
  t.equal(result.e2eByTransportMs.webrtc.count, result.e2eMs.count);
  t.equal(result.e2eByTransportMs.websocket.count, 0);
  t.ok(result.e2eMs.minMs > 0, 'a packet never arrives before its input was sent');
  t.ok(result.transportRttMs !== null, 'ping over the DataChannel');
});
