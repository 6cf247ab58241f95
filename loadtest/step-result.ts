/** One load step's numbers, aggregated from the per-session trackers (pure but for the load average it records). */
import { loadavg } from 'node:os';
import type { ServerMetricsSummary } from './metrics/scraper.ts';
import type { StepVerdict } from './ramp.ts';
import type { ContinuityCounts, SessionMeasurement } from './session-tracker.ts';
import { countMissedDeadlines, type DeadlineCount } from './stats/deadlines.ts';
import { empiricalCdf, SampleBuffer, summarize, type CdfPoint, type LatencySummary } from './stats/percentiles.ts';
import type { TransportKind } from './clients/types.ts';

export interface SessionOutcome {
  index: number;
  transport: TransportKind;
  frameMs: number;
  measurement: SessionMeasurement | null;
  /** Server's `done` totals, when it arrived. */
  done: { inputSamples: number; outputSamples: number; frames: number; lateFrames: number } | null;
  algorithmicLatencyMs: number | null;
  /** Model the server ran the session on (from `ready`). */
  modelName: string | null;
  /** Error code when the session failed (did not start, or did not end with done). */
  error: string | null;
  errorMessage?: string;
}

export interface GeneratorHealth {
  /** Event-loop delay of the load generator itself: when high, its timestamps are late and the figures pessimistic. */
  eventLoopDelayP99Ms: number;
  eventLoopDelayMaxMs: number;
  /** How late input frames left relative to their real-time schedule (p99 and max over all frames). */
  sendLagP99Ms: number;
  sendLagMaxMs: number;
}

export interface StepResult {
  streams: number;
  byTransport: Record<TransportKind, number>;
  audioSeconds: number;
  wallSeconds: number;
  /** `errors`: failed sessions per code; `errorExamples`: the first message seen for each code. */
  sessions: { started: number; completed: number; failed: number; errors: Record<string, number>; errorExamples: Record<string, string> };
  sent: { frames: number; samples: number };
  received: { frames: number; samplesByKind: Record<string, number> };
  /** Server `done` totals summed over sessions (what the server says it got and produced). */
  serverTotals: { inputSamples: number; outputSamples: number; frames: number; lateFrames: number };
  algorithmicLatencyMs: number | null;
  /** Distinct models the sessions ran on. */
  models: string[];
  e2eMs: LatencySummary;
  /** End-to-end latency per transport (WebRTC adds Opus coding and the server's packet pacing). */
  e2eByTransportMs: Record<TransportKind, LatencySummary>;
  serverAddedMs: LatencySummary;
  /** Hops whose server-added latency exceeded the budget, when the step was given one (`--budget-ms`, the soak). */
  deadlines?: DeadlineCount;
  /** Median over sessions of the minimum ping RTT. */
  transportRttMs: number | null;
  /** Output hops whose e2e exceeded lateThresholdMs. */
  lateHops: number;
  lateThresholdMs: number;
  untimedHops: number;
  continuity: ContinuityCounts;
  generator: GeneratorHealth;
  /** 1-minute load average of the generator's machine at the end of the step (the server's too, when local). */
  loadAverage1m: number;
  server: (ServerMetricsSummary & { lastError?: string }) | null;
  cdf: CdfPoint[];
  verdict?: StepVerdict;
}

function median(values: number[]): number | null {
  const finite = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (finite.length === 0) return null;
  return finite[Math.floor((finite.length - 1) / 2)]!;
}

export function aggregateStep(args: {
  outcomes: SessionOutcome[];
  e2e: SampleBuffer;
  e2eByTransport: Record<TransportKind, SampleBuffer>;
  serverAdded: SampleBuffer;
  audioSeconds: number;
  wallSeconds: number;
  lateThresholdMs: number;
  /** Per-hop server-added latency budget: counts missed deadlines when given. */
  budgetMs?: number;
  generator: GeneratorHealth;
  server: (ServerMetricsSummary & { lastError?: string }) | null;
}): StepResult {
  const { outcomes } = args;
  const errors: Record<string, number> = {};
  const errorExamples: Record<string, string> = {};
  const continuity: ContinuityCounts = { gaps: 0, missingSamples: 0, overlaps: 0, sequenceGaps: 0, missingSequences: 0 };
  const sent = { frames: 0, samples: 0 };
  const received = { frames: 0, samplesByKind: {} as Record<string, number> };
  const serverTotals = { inputSamples: 0, outputSamples: 0, frames: 0, lateFrames: 0 };
  const byTransport: Record<TransportKind, number> = { websocket: 0, webrtc: 0 };
  let lateHops = 0;
  let untimedHops = 0;
  let started = 0;
  let completed = 0;
  for (const o of outcomes) {
    byTransport[o.transport] += 1;
    if (o.error !== null) {
      errors[o.error] = (errors[o.error] ?? 0) + 1;
      errorExamples[o.error] ??= o.errorMessage ?? '';
    }
    const m = o.measurement;
    if (m) {
      started += 1;
      sent.frames += m.inputFramesSent;
      sent.samples += m.inputSamplesSent;
      received.frames += m.outputFrames;
      for (const [kind, c] of Object.entries(m.outputSamplesByKind)) {
        received.samplesByKind[kind] = (received.samplesByKind[kind] ?? 0) + c.samples;
      }
      for (const key of Object.keys(continuity) as Array<keyof ContinuityCounts>) continuity[key] += m.continuity[key];
      lateHops += m.lateHops;
      untimedHops += m.untimedHops;
    }
    if (o.done) {
      completed += o.error === null ? 1 : 0;
      serverTotals.inputSamples += o.done.inputSamples;
      serverTotals.outputSamples += o.done.outputSamples;
      serverTotals.frames += o.done.frames;
      serverTotals.lateFrames += o.done.lateFrames;
    }
  }
  return {
    streams: outcomes.length,
    byTransport,
    audioSeconds: args.audioSeconds,
    wallSeconds: args.wallSeconds,
    sessions: { started, completed, failed: outcomes.length - completed, errors, errorExamples },
    sent,
    received,
    serverTotals,
    algorithmicLatencyMs: median(outcomes.map((o) => o.algorithmicLatencyMs ?? Number.NaN)),
    models: [...new Set(outcomes.map((o) => o.modelName).filter((n): n is string => n !== null))].sort(),
    e2eMs: summarize(args.e2e.view()),
    e2eByTransportMs: { websocket: summarize(args.e2eByTransport.websocket.view()), webrtc: summarize(args.e2eByTransport.webrtc.view()) },
    serverAddedMs: summarize(args.serverAdded.view()),
    ...(args.budgetMs !== undefined ? { deadlines: countMissedDeadlines(args.serverAdded.view(), args.budgetMs) } : {}),
    transportRttMs: median(outcomes.map((o) => o.measurement?.minRttMs ?? Number.NaN)),
    lateHops,
    lateThresholdMs: args.lateThresholdMs,
    untimedHops,
    continuity,
    generator: args.generator,
    loadAverage1m: loadavg()[0] ?? Number.NaN,
    server: args.server,
    cdf: empiricalCdf(args.e2e.view()),
  };
}
