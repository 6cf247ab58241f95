/** Performance report plumbing: capacity taken from a ramp report (and refused from the wrong one), table and fleet sizing. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { readCapacity } from '../loadtest/perf/capacity-from-report.ts';
import { renderPerformanceMarkdown, streamBandwidth } from '../loadtest/perf/perf-markdown.ts';
import type { PerfData } from '../loadtest/perf/perf-model.ts';
import type { LoadReport } from '../loadtest/report.ts';
import type { StepResult } from '../loadtest/step-result.ts';
import { summarize } from '../loadtest/stats/percentiles.ts';

function step(streams: number, p99: number, pass: boolean, webrtc = 0): StepResult {
  const e2e = summarize([p99 / 2, p99]);
  return {
    streams,
    byTransport: { websocket: streams - webrtc, webrtc },
    audioSeconds: 20,
    wallSeconds: 21,
    sessions: { started: streams, completed: streams, failed: 0, errors: {}, errorExamples: {} },
    sent: { frames: 0, samples: 0 },
    received: { frames: 0, samplesByKind: {} },
    serverTotals: { inputSamples: 0, outputSamples: 0, frames: 0, lateFrames: 0 },
    algorithmicLatencyMs: 17.4,
    models: ['lstm'],
    e2eMs: { ...e2e, p99Ms: p99 },
    e2eByTransportMs: { websocket: e2e, webrtc: summarize([]) },
    serverAddedMs: e2e,
    transportRttMs: 0.2,
    lateHops: 0,
    lateThresholdMs: 37.4,
    untimedHops: 0,
    continuity: { gaps: 0, missingSamples: 0, overlaps: 0, sequenceGaps: 0, missingSequences: 0 },
    generator: { eventLoopDelayP99Ms: 1, eventLoopDelayMaxMs: 2, sendLagP99Ms: 1, sendLagMaxMs: 2 },
    loadAverage1m: streams / 8,
    server: null,
    cdf: [],
    verdict: { pass, reasons: pass ? [] : ['p99'] },
  };
}

function report(steps: StepResult[], ramp: boolean): LoadReport {
  return {
    tool: 'livestem-loadtest',
    reportVersion: 1,
    date: '2026-11-23T15:00:00.000Z',
    command: 'npm run loadtest -- --url ws://127.0.0.1:8080/v1/stream --ramp 8:32:8 --duration 20',
    generator: { host: 'h', cpu: 'cpu', cores: 2, node: 'v20' },
    url: 'ws://127.0.0.1:8080/v1/stream',
    song: { name: 's', sampleRateHz: 44100, channels: 2 },
    config: { durationS: 20, frameSizesMs: [10, 20], staggerMs: 1000, format: 's16le', webrtcStreams: 0, client: 'ws-raw', lateThresholdMs: 37.4, sloP99Ms: 37.4 },
    ramp: ramp ? { capacityStreams: 16, firstFailStreams: 24, saturated: true, done: true, spec: { start: 8, end: 32, step: 8 }, sloP99Ms: 37.4 } : null,
    steps,
  } as LoadReport;
}

t.test('capacity comes from a ramp report of the same model, over WebSocket only', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'livestem-perf-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'report.json');
  await writeFile(path, JSON.stringify(report([step(8, 25, true), step(16, 33, true), step(24, 51, false)], true)));
  const cap = await readCapacity(path, 'lstm');
  t.equal(cap.streams, 16);
  t.equal(cap.saturated, true);
  t.equal(cap.p99AtCapacityMs, 33);
  t.equal(cap.sloP99Ms, 37.4);
  t.equal(cap.maxLoadAverage1m, 3, 'highest load average over the steps (24 / 8)');
  t.match(cap.command, /--ramp 8:32:8/);
  await t.rejects(readCapacity(path, 'unet'), /measured model\(s\) lstm, not unet/);
  await writeFile(path, JSON.stringify(report([step(8, 25, true)], false)));
  await t.rejects(readCapacity(path, 'lstm'), /not a ramp run/);
  await writeFile(path, JSON.stringify(report([step(8, 25, true, 2)], true)));
  await t.rejects(readCapacity(path, 'lstm'), /WebRTC/);
});

t.test('performance.md: one row per model, notes, fleet sizing from the measured capacity', async (t) => {
  const data: PerfData = {
    date: '2026-11-23',
    machine: { cpu: 'Xeon', cores: 2, node: 'v20', loadAverage1m: 0.5 },
    gpu: { available: false, note: 'empty — no GPU.' },
    song: 'song.wav',
    commands: ['npm run perf:report'],
    models: [
      {
        name: 'lstm',
        arch: 'lstm',
        description: '',
        parameters: 491_000,
        sampleRateHz: 44100,
        nFft: 1024,
        hopSamples: 256,
        algorithmicLatencyMs: 17.41,
        engine: {
          sessions: 128,
          unbatchedUsPerHop: 410,
          batchedUsPerHop: 150,
          batchSize: 127.6,
          scope: 'all but sockets',
          rows: [{ sessions: 128, batched: true, usPerSessionHop: 150, modelUsPerSessionHop: 40, meanBatchSize: 127.6, realTimeStreamsPerCore: 38.7 }],
          loadAverage1m: 0.4,
        },
        capacity: { streams: 40, saturated: true, sloP99Ms: 37.4, p99AtCapacityMs: 35.2, durationS: 20, maxLoadAverage1m: 3.5, command: 'npm run loadtest -- --ramp 8:64:8', date: 'd', reportPath: 'r.json',
          steps: [
            { streams: 40, e2eP50Ms: 21, e2eP99Ms: 35.2, serverAddedP50Ms: 3.1, serverAddedP99Ms: 9.5, serverAddedMaxMs: 20, serverSideP99Ms: 6.2, serverCpuMsPerSessionSecond: 27.5, generatorCpuMsPerSessionSecond: 12, missedDeadlines: 12, hops: 137600, passed: true },
            { streams: 48, e2eP50Ms: 24, e2eP99Ms: 41, serverAddedP50Ms: 4, serverAddedP99Ms: 15, serverAddedMaxMs: 31, serverSideP99Ms: null, serverCpuMsPerSessionSecond: null, generatorCpuMsPerSessionSecond: null, missedDeadlines: null, hops: 165120, passed: false },
          ] },
        offline: { audioSeconds: 60, computeSeconds: 9, rtf: 0.15, provider: 'cpu' },
      },
      { name: 'unet', arch: 'unet', description: '', parameters: 80_000, sampleRateHz: 44100, nFft: 1024, hopSamples: 256, algorithmicLatencyMs: 17.41, engine: null, capacity: null, capacityNote: 'no capacity measured', offline: null },
    ],
  };
  const md = renderPerformanceMarkdown(data);
  t.match(md, '| lstm | lstm, 491k params, 1024/256 @ 44.1 kHz | 17.4 | 410 (128 sessions) | 150 (mean batch 128) | 40 (SLO 37.4 ms) | 0.150 (9.00 s for 60 s) | |');
  t.match(md, '| unet | unet, 80k params, 1024/256 @ 44.1 kHz | 17.4 | – | – | – | – | |');
  t.match(md, 'GPU column: empty — no GPU.');
  t.match(md, '| 40 | 21.0 / 35.2 | 3.1 / 9.5 / 20.0 | 6.2 | 27.5 / 12.0 | 12 of 137600 | pass |', 'the ramp curve, step by step, with the server\'s own p99 and the CPU per session-second');
  t.match(md, '| 48 | 24.0 / 41.0 | 4.0 / 15.0 / 31.0 | – | – / – | — | fail |');
  t.match(md, '**unet**: no capacity measured.');
  // 0.7 × 40 = 28 sessions per pod → 1 000 streams need ceil(1000 / 28) = 36 pods
  t.match(md, 'HPA target to 28 sessions per pod');
  t.match(md, '1 000 → 36');
  t.match(md, /\*\*Caveat:\*\* the ramp ran while other work kept the 2 cores busy \(1-minute load average up to 3\.5\)/);
  t.match(md, 'a dedicated 2-core node is bounded by about 77 streams', '2 × 38.7 streams per core from the bench');
  const bw = streamBandwidth(44100, 2, 2);
  t.equal(bw.inMbps, 1.4112);
  t.equal(bw.outMbps, 2.8224);
});
