/**
 * Per-hop latency of one session, measured where its output is written for the client (on the I/O thread's clock,
 * the same clock the input's arrival was stamped with, so nothing here depends on where the engine ran):
 * - processing latency: from when the hop was due (its input arrived and real time reached it) to the write; a hop
 *   later than the late-frame threshold is counted late (it is still sent). Also what admission watches (via
 *   `metrics.recentHopLatency`): a client sending faster than real time is not held against the others.
 * - server-added latency: from the arrival of the input message that completed the hop to the write.
 */
import { LatencyHistogram } from '../metrics/latency-histogram.ts';
import type { Metrics } from '../metrics/metrics.ts';

/** Hops of a new session (~1 s at 44.1 kHz / 256) that admission's recent-latency window does not see. */
export const ADMISSION_WARMUP_HOPS = 172;

export interface LatencyStats {
  last: number;
  mean: number;
  max: number;
}

export interface LatencyQuantiles {
  p50: number;
  p99: number;
  max: number;
}

/** The times a span of output carries per hop (EngineOutput), I/O-thread clock, ms. */
export interface HopTimes {
  dueMs: readonly number[];
  arrivalMs: readonly number[];
}

export class HopLatency {
  private lastMs = 0;
  private sumMs = 0;
  private count = 0;
  private maxMs = 0;
  private late = 0;
  private readonly serverAdded = new LatencyHistogram();

  constructor(
    private readonly lateFrameMs: number,
    private readonly metrics: Metrics,
  ) {}

  get lateFrames(): number {
    return this.late;
  }

  get stats(): LatencyStats {
    return { last: this.lastMs, mean: this.count > 0 ? this.sumMs / this.count : 0, max: this.maxMs };
  }

  /** Server-added latency over the session's hops so far (zeros before the first). */
  get serverAddedStats(): LatencyQuantiles {
    const h = this.serverAdded;
    if (h.count === 0) return { p50: 0, p99: 0, max: 0 };
    return { p50: h.quantile(0.5), p99: h.quantile(0.99), max: h.maxMs };
  }

  /** Accounts the hops of a span whose output was written to the transport at `writtenMs`. */
  account(hops: HopTimes, writtenMs: number): void {
    const { dueMs, arrivalMs } = hops;
    for (let i = 0; i < dueMs.length; i++) {
      const latencyMs = Math.max(0, writtenMs - dueMs[i]!);
      this.metrics.hopLatencySeconds.observe(latencyMs / 1000);
      // A session's first second includes its pipeline fill and, in a fresh worker, the model's first runs: a
      // transient that says nothing about the load, so admission (the recent window) skips it.
      if (this.count >= ADMISSION_WARMUP_HOPS) this.metrics.recentHopLatency.observe(latencyMs, writtenMs);
      this.lastMs = latencyMs;
      this.sumMs += latencyMs;
      this.count++;
      this.maxMs = Math.max(this.maxMs, latencyMs);
      if (latencyMs > this.lateFrameMs) {
        this.late++;
        this.metrics.lateFrames.inc();
      }
      const arrived = arrivalMs[i];
      if (arrived === undefined) continue;
      const addedMs = Math.max(0, writtenMs - arrived);
      this.serverAdded.observe(addedMs);
      this.metrics.hopServerAddedSeconds.observe(addedMs / 1000);
    }
  }
}
