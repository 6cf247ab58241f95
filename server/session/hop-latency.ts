/**
 * Per-hop latency of one session, measured where its output is written for the client (on the I/O thread's clock,
 * the same clock the input's arrival was stamped with, so nothing here depends on where the engine ran):
 * - processing latency: from when the hop was due (its input arrived and real time reached it) to the write; a hop
 *   later than the late-frame threshold is counted late (it is still sent). Also what admission watches (via
 *   `metrics.recentHopLatency`): a client sending faster than real time is not held against the others.
 * - server-added latency: from the arrival of the input message that completed the hop to the write, and its split
 *   into stages at the engine's stamps (hop-stages.ts).
 */
import { LatencyHistogram } from '../metrics/latency-histogram.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { HOP_STAGES, splitHop, type HopStamps } from './hop-stages.ts';

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
  /**
   * The stage stamps (EngineOutput): per hop when the engine took its input in; per span when it left the engine
   * and when it reached the I/O thread. Without them only the totals are accounted.
   */
  handledMs?: readonly number[];
  emittedMs?: number;
  receivedMs?: number;
}

type StageObserver = { observe(seconds: number): void };

export class HopLatency {
  private lastMs = 0;
  private sumMs = 0;
  private count = 0;
  private maxMs = 0;
  private late = 0;
  private readonly serverAdded = new LatencyHistogram();
  /** Scratch for one hop's split (no allocation per hop), and the histogram child of each stage, in HOP_STAGES order. */
  private readonly stageMs = new Float64Array(HOP_STAGES.length);
  private readonly stamps: HopStamps = { arrivalMs: 0, handledMs: 0, emittedMs: 0, receivedMs: 0, writtenMs: 0 };
  private readonly stages: readonly StageObserver[];

  constructor(
    private readonly lateFrameMs: number,
    private readonly metrics: Metrics,
  ) {
    this.stages = HOP_STAGES.map((stage) => metrics.hopStageSeconds.labels({ stage }));
  }

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
    const { dueMs, arrivalMs, handledMs, emittedMs, receivedMs } = hops;
    const stamps = this.stamps;
    stamps.writtenMs = writtenMs;
    stamps.emittedMs = emittedMs ?? 0;
    stamps.receivedMs = receivedMs ?? 0;
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
      const handled = handledMs?.[i];
      if (handled === undefined || emittedMs === undefined || receivedMs === undefined) continue;
      stamps.arrivalMs = arrived;
      stamps.handledMs = handled;
      splitHop(stamps, this.stageMs);
      for (let s = 0; s < this.stages.length; s++) this.stages[s]!.observe(this.stageMs[s]! / 1000);
    }
  }
}
