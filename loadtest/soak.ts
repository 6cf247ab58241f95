/**
 * The soak benchmark, pure: a long run (10,000 hops per stream by default) at a fixed stream count below capacity,
 * judged by missed deadlines — hops whose server-added latency exceeded the per-hop budget. The number to beat is 0:
 * a real-time engine that misses one deadline in a million hops is audible once every few hours per stream.
 */
import type { ServerMetricsSummary } from './metrics/scraper.ts';
import type { DeadlineCount } from './stats/deadlines.ts';
import type { StepResult } from './step-result.ts';

/** Default share of the measured capacity a soak runs at: enough headroom that a pass means "stable", not "lucky". */
export const SOAK_CAPACITY_FRACTION = 0.8;
export const DEFAULT_SOAK_HOPS = 10_000;

export type SoakStreamsSource = 'flag' | 'capacity-flag' | 'ramp';

/**
 * The soak's stream count: `--streams` when given, else 80 % of a capacity (`--capacity`, or the ramp's), at least 1.
 * Null when no capacity is known (the ramp has to run first) or the ramp found none.
 */
export function soakStreams(args: { streams: number | null; capacity: number | null; source: SoakStreamsSource }): number | null {
  if (args.streams !== null) return args.streams;
  if (args.capacity === null || args.capacity <= 0) return null;
  return Math.max(1, Math.floor(args.capacity * SOAK_CAPACITY_FRACTION));
}

export interface SoakSummary {
  streams: number;
  /** Where the stream count came from: `--streams`, 80 % of `--capacity`, or 80 % of the ramp's capacity. */
  streamsSource: SoakStreamsSource;
  capacityStreams: number | null;
  hopsPerStream: number;
  budgetMs: number;
  /** Hops timed over all streams. */
  hops: number;
  missedDeadlines: number;
  /** missedDeadlines / hops (NaN with no hop). */
  missedFraction: number;
  /**
   * The server's own count over the step, from `livestem_hop_server_added_seconds` (every hop of every session on
   * that server, flush padding included); null when not scraped or the budget is not one of its bucket bounds.
   */
  serverCountedMissed: number | null;
  serverAddedMs: { p50: number; p99: number; max: number };
  e2eMs: { p50: number; p99: number; max: number };
  failedSessions: number;
  gaps: number;
  /** 0 missed deadlines, no failed session, no gap. */
  pass: boolean;
}

export function summarizeSoak(args: {
  step: StepResult;
  deadlines: DeadlineCount;
  streamsSource: SoakStreamsSource;
  capacityStreams: number | null;
  hopsPerStream: number;
}): SoakSummary {
  const { step, deadlines } = args;
  const gaps = step.continuity.gaps + step.continuity.missingSequences;
  return {
    streams: step.streams,
    streamsSource: args.streamsSource,
    capacityStreams: args.capacityStreams,
    hopsPerStream: args.hopsPerStream,
    budgetMs: deadlines.budgetMs,
    hops: deadlines.hops,
    missedDeadlines: deadlines.missed,
    missedFraction: deadlines.hops > 0 ? deadlines.missed / deadlines.hops : Number.NaN,
    serverCountedMissed: serverCountedMissed(step.server, deadlines.budgetMs),
    serverAddedMs: { p50: step.serverAddedMs.p50Ms, p99: step.serverAddedMs.p99Ms, max: step.serverAddedMs.maxMs },
    e2eMs: { p50: step.e2eMs.p50Ms, p99: step.e2eMs.p99Ms, max: step.e2eMs.maxMs },
    failedSessions: step.sessions.failed,
    gaps,
    pass: deadlines.missed === 0 && step.sessions.failed === 0 && gaps === 0 && deadlines.hops > 0,
  };
}

/** Hops the server's histogram holds above the budget, when the budget is one of its bucket bounds. */
export function serverCountedMissed(server: ServerMetricsSummary | null, budgetMs: number): number | null {
  const h = server?.histograms['livestem_hop_server_added_seconds'];
  if (!h) return null;
  const atBudget = h.buckets.find((b) => Math.abs(b.le * 1000 - budgetMs) < 1e-9);
  return atBudget ? h.count - atBudget.count : null;
}

const f1 = (v: number): string => (Number.isFinite(v) ? v.toFixed(1) : '–');

/** One line for the console. */
export function soakLine(s: SoakSummary): string {
  return (
    `soak: ${s.streams} streams × ${s.hopsPerStream} hops: ${s.missedDeadlines} missed deadlines of ${s.hops} hops (budget ${f1(s.budgetMs)} ms), ` +
    `server-added p50 ${f1(s.serverAddedMs.p50)} p99 ${f1(s.serverAddedMs.p99)} max ${f1(s.serverAddedMs.max)} ms, ` +
    `e2e p50 ${f1(s.e2eMs.p50)} p99 ${f1(s.e2eMs.p99)} max ${f1(s.e2eMs.max)} ms, failed ${s.failedSessions}, gaps ${s.gaps} → ${s.pass ? 'pass' : 'FAIL'}`
  );
}

/** The report's Markdown section. */
export function soakMarkdown(s: SoakSummary): string[] {
  const from =
    s.streamsSource === 'flag'
      ? 'given by --streams'
      : `${Math.round(100 * SOAK_CAPACITY_FRACTION)} % of a capacity of ${s.capacityStreams} (${s.streamsSource === 'ramp' ? 'measured by the ramp above' : 'given by --capacity'})`;
  return [
    '## Soak',
    '',
    `**${s.missedDeadlines} missed deadlines** in ${s.hops} hops (${s.streams} streams, ${from}; ${s.hopsPerStream} hops per stream; ` +
      `a deadline is missed when a hop's server-added latency exceeds ${f1(s.budgetMs)} ms) — ${s.pass ? 'PASS' : 'FAIL'}.`,
    '',
    '| latency per hop (ms) | p50 | p99 | max |',
    '|---|---:|---:|---:|',
    `| server-added | ${f1(s.serverAddedMs.p50)} | ${f1(s.serverAddedMs.p99)} | ${f1(s.serverAddedMs.max)} |`,
    `| end-to-end | ${f1(s.e2eMs.p50)} | ${f1(s.e2eMs.p99)} | ${f1(s.e2eMs.max)} |`,
    '',
    `Failed sessions ${s.failedSessions}, gaps ${s.gaps}. Server's own count of hops over the budget (/metrics, every hop of every session, flush padding included): ${s.serverCountedMissed ?? '– (not scraped, or the budget is not a bucket bound)'}. Details of the run: the last step below.`,
    '',
  ];
}
