/**
 * Scrapes the server's /metrics during a step and reduces the scrapes to what the report shows: counter increases
 * over the step, gauge peaks, and histogram quantiles of just the observations made during the step.
 */
import { authHeaders, type ClientAuth } from '../clients/types.ts';
import {
  histogramDelta,
  histogramQuantile,
  parsePromText,
  readHistogram,
  sumSeries,
  type PromScrape,
} from './prom-text.ts';

export interface TimedScrape {
  atMs: number;
  scrape: PromScrape;
  /** The load generator's own CPU time (user + system, all threads) when the scrape came back. */
  generatorCpuMs?: number;
}

/**
 * CPU spent between the first and last scrape of a step, and what that costs per session-second: divided into the
 * machine's cores, it bounds how many streams the box can carry at all, whatever the latency.
 */
export interface CpuSummary {
  windowMs: number;
  /** Server process (every thread: I/O, engine workers, GC), from its process_cpu_seconds_total. */
  serverCpuMs: number;
  /** Load generator process, when it recorded its own (null for hand-made scrapes). */
  generatorCpuMs: number | null;
  /** Sessions active over the window, integrated (livestem_sessions_active, trapezoids between scrapes). */
  sessionSeconds: number;
  serverMsPerSessionSecond: number;
  generatorMsPerSessionSecond: number | null;
}

export interface HistogramSummary {
  count: number;
  mean: number;
  p50: number;
  p99: number;
  /** Cumulative counts per upper bound of the step's observations (the last bound is +Inf). */
  buckets: Array<{ le: number; count: number }>;
}

export interface ServerMetricsSummary {
  url: string;
  scrapes: number;
  scrapeErrors: number;
  /** Increase of every counter family over the step (summed over labels). */
  counters: Record<string, number>;
  /** Peak and last value of every gauge family (summed over labels) across the step's scrapes. */
  gauges: Record<string, { max: number; last: number }>;
  /** Quantiles (in the metric's unit, usually seconds) of observations made during the step. */
  histograms: Record<string, HistogramSummary>;
  /** Absent when the server exports no process_cpu_seconds_total or fewer than two scrapes came back. */
  cpu?: CpuSummary;
}

/** Histograms whose series are summarized one per value of a label (summing them would mix unlike things). */
const SPLIT_HISTOGRAMS: Record<string, string> = { livestem_hop_stage_seconds: 'stage' };

/** The server's per-stage split of server-added latency over the step, in ms, in the server's stage order. */
export function stageQuantilesMs(summary: ServerMetricsSummary): Array<{ stage: string; p50: number; p99: number }> {
  const prefix = 'livestem_hop_stage_seconds{stage="';
  return Object.entries(summary.histograms)
    .filter(([name, h]) => name.startsWith(prefix) && h.count > 0)
    .map(([name, h]) => ({ stage: name.slice(prefix.length, -2), p50: h.p50 * 1000, p99: h.p99 * 1000 }));
}

/** ws://host:port/v1/stream → http://host:port/metrics (wss → https). */
export function metricsUrlFor(streamUrl: string): string {
  const u = new URL(streamUrl);
  u.protocol = u.protocol === 'wss:' ? 'https:' : 'http:';
  u.pathname = '/metrics';
  u.search = '';
  return u.toString();
}

export function summarizeScrapes(url: string, scrapes: TimedScrape[], scrapeErrors: number, prefix = 'livestem_'): ServerMetricsSummary {
  const summary: ServerMetricsSummary = { url, scrapes: scrapes.length, scrapeErrors, counters: {}, gauges: {}, histograms: {} };
  const first = scrapes[0]?.scrape;
  const last = scrapes[scrapes.length - 1]?.scrape;
  if (!first || !last) return summary;
  for (const family of last.families.values()) {
    if (!family.name.startsWith(prefix)) continue;
    if (family.type === 'counter') {
      // prom-client names the family without `_total` but the samples with it
      const sample = family.name.endsWith('_total') ? family.name : `${family.name}_total`;
      const before = sumSeries(first, sample);
      const after = sumSeries(last, sample);
      if (!Number.isNaN(after)) summary.counters[family.name] = after - (Number.isNaN(before) ? 0 : before);
    } else if (family.type === 'gauge') {
      let max = Number.NEGATIVE_INFINITY;
      let lastValue = Number.NaN;
      for (const s of scrapes) {
        const v = sumSeries(s.scrape, family.name);
        if (Number.isNaN(v)) continue;
        max = Math.max(max, v);
        lastValue = v;
      }
      if (!Number.isNaN(lastValue)) summary.gauges[family.name] = { max, last: lastValue };
    } else if (family.type === 'histogram') {
      const label = SPLIT_HISTOGRAMS[family.name];
      const values = label === undefined ? [undefined] : labelValues(last, `${family.name}_count`, label);
      for (const value of values) {
        const labels: Record<string, string> = label === undefined || value === undefined ? {} : { [label]: value };
        const after = readHistogram(last, family.name, labels);
        if (!after) continue;
        const delta = histogramDelta(readHistogram(first, family.name, labels), after);
        const key = label === undefined ? family.name : `${family.name}{${label}="${value}"}`;
        summary.histograms[key] = {
          count: delta.count,
          mean: delta.count > 0 ? delta.sum / delta.count : Number.NaN,
          p50: histogramQuantile(delta, 0.5),
          p99: histogramQuantile(delta, 0.99),
          buckets: delta.buckets,
        };
      }
    }
  }
  const cpu = cpuSummary(scrapes);
  if (cpu !== undefined) summary.cpu = cpu;
  return summary;
}

function cpuSummary(scrapes: TimedScrape[]): CpuSummary | undefined {
  const first = scrapes[0];
  const last = scrapes[scrapes.length - 1];
  if (first === undefined || last === undefined || last.atMs <= first.atMs) return undefined;
  const before = sumSeries(first.scrape, 'process_cpu_seconds_total');
  const after = sumSeries(last.scrape, 'process_cpu_seconds_total');
  if (Number.isNaN(before) || Number.isNaN(after)) return undefined;
  let sessionSeconds = 0;
  for (let i = 1; i < scrapes.length; i++) {
    const a = sumSeries(scrapes[i - 1]!.scrape, 'livestem_sessions_active');
    const b = sumSeries(scrapes[i]!.scrape, 'livestem_sessions_active');
    if (Number.isNaN(a) || Number.isNaN(b)) continue;
    sessionSeconds += ((a + b) / 2) * ((scrapes[i]!.atMs - scrapes[i - 1]!.atMs) / 1000);
  }
  const serverCpuMs = (after - before) * 1000;
  const generatorCpuMs = first.generatorCpuMs !== undefined && last.generatorCpuMs !== undefined ? last.generatorCpuMs - first.generatorCpuMs : null;
  const perSession = (ms: number): number => (sessionSeconds > 0 ? ms / sessionSeconds : Number.NaN);
  return {
    windowMs: last.atMs - first.atMs,
    serverCpuMs,
    generatorCpuMs,
    sessionSeconds,
    serverMsPerSessionSecond: perSession(serverCpuMs),
    generatorMsPerSessionSecond: generatorCpuMs === null ? null : perSession(generatorCpuMs),
  };
}

/**
 * Sessions the machine could carry at 100 % CPU with the server and the generator sharing it (both per session-second
 * costs over `cores`); null when the generator's share is unknown or nothing was measured.
 */
export function cpuBoundSessions(cpu: CpuSummary, cores: number): number | null {
  if (cpu.generatorMsPerSessionSecond === null) return null;
  const perSession = cpu.serverMsPerSessionSecond + cpu.generatorMsPerSessionSecond;
  return Number.isFinite(perSession) && perSession > 0 ? Math.floor((cores * 1000) / perSession) : null;
}

/** One line for the step's console summary; the ceiling only when the server shares this machine. */
export function cpuLine(cpu: CpuSummary, serverOnThisMachine: boolean, cores: number): string {
  const gen = cpu.generatorMsPerSessionSecond;
  let line = `CPU per session-second: server ${cpu.serverMsPerSessionSecond.toFixed(1)} ms${gen === null ? '' : `, load generator ${gen.toFixed(1)} ms`}`;
  const ceiling = serverOnThisMachine ? cpuBoundSessions(cpu, cores) : null;
  if (ceiling !== null) line += ` → ${cores} cores carry at most ${ceiling} sessions at any latency`;
  return line;
}

function labelValues(scrape: PromScrape, sample: string, label: string): string[] {
  const out = new Set<string>();
  for (const s of scrape.samples) if (s.name === sample && s.labels[label] !== undefined) out.add(s.labels[label]);
  return [...out];
}

export class MetricsScraper {
  private readonly scrapes: TimedScrape[] = [];
  private errors = 0;
  private lastError = '';
  private timer: NodeJS.Timeout | null = null;
  private inFlight: Promise<void> = Promise.resolve();

  constructor(
    readonly url: string,
    private readonly clock: () => number,
    /** `/metrics` needs the API key itself when the server has one (docs/protocol.md §7); a token is refused there. */
    private readonly auth: ClientAuth = {},
    private readonly timeoutMs = 2000,
  ) {}

  async scrapeOnce(): Promise<void> {
    try {
      const res = await fetch(this.url, { headers: authHeaders(this.auth), signal: AbortSignal.timeout(this.timeoutMs) });
      if (!res.ok) {
        await res.body?.cancel(); // release the connection now rather than when the body is collected
        // a 401 is a setup error, not server trouble: say what is missing so the report's lastError explains itself
        if (res.status === 401) throw new Error(`HTTP 401: ${this.auth.apiKey === undefined ? 'the server needs its API key (LIVESTEM_API_KEY)' : 'the server refused the API key'}`);
        throw new Error(`HTTP ${res.status}`);
      }
      const text = await res.text();
      const cpu = process.cpuUsage();
      this.scrapes.push({ atMs: this.clock(), scrape: parsePromText(text), generatorCpuMs: (cpu.user + cpu.system) / 1000 });
    } catch (err) {
      this.errors += 1;
      this.lastError = (err as Error).message;
    }
  }

  /** Scrapes now and then every `intervalMs` until `stop()`. */
  start(intervalMs: number): Promise<void> {
    this.inFlight = this.scrapeOnce();
    this.timer = setInterval(() => {
      this.inFlight = this.inFlight.then(() => this.scrapeOnce());
    }, intervalMs);
    return this.inFlight;
  }

  /** Stops the interval, takes a final scrape, and summarizes the step. */
  async stop(): Promise<ServerMetricsSummary & { lastError?: string }> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.inFlight;
    await this.scrapeOnce();
    const summary = summarizeScrapes(this.url, this.scrapes, this.errors);
    return this.errors > 0 ? { ...summary, lastError: this.lastError } : summary;
  }
}
