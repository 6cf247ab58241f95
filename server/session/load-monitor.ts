/**
 * The engine-load estimate admission control uses: the larger of the event loop's utilisation (JS DSP, sockets)
 * and the fraction of wall time the model runtimes were busy, over the last sampling interval, with the mean number
 * of sessions over that interval (admission projects per-session cost from the pair: the load of sessions that left
 * during the interval must not be charged to the few still here — with the count at the end of the interval, a
 * ramp's churn refused sessions at a third of the capacity). Sampled on timers (unref'd) so the admission decision
 * itself is a field read.
 */
import { performance, type EventLoopUtilization } from 'node:perf_hooks';

/** Session counts averaged into each load sample. */
const SESSION_COUNTS_PER_SAMPLE = 10;

export class LoadMonitor {
  private lastElu: EventLoopUtilization = performance.eventLoopUtilization();
  private lastBusyMs: number;
  private lastSampleMs = performance.now();
  private current = 0;
  private currentSessions = 0;
  private sessionsSum = 0;
  private sessionsCount = 0;
  private timer: NodeJS.Timeout | undefined;
  private sessionsTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly modelBusyMs: () => number,
    private readonly sessions: () => number,
    private readonly intervalMs = 1000,
  ) {
    this.lastBusyMs = modelBusyMs();
  }

  start(): void {
    this.timer ??= setInterval(() => this.sample(), this.intervalMs).unref();
    this.sessionsTimer ??= setInterval(() => this.countSessions(), this.intervalMs / SESSION_COUNTS_PER_SAMPLE).unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.sessionsTimer) clearInterval(this.sessionsTimer);
    this.timer = undefined;
    this.sessionsTimer = undefined;
  }

  get load(): number {
    return this.current;
  }

  /** Mean number of sessions over the interval `load` was sampled over. */
  get loadSessions(): number {
    return this.currentSessions;
  }

  sample(): number {
    const now = performance.now();
    const elu = performance.eventLoopUtilization(this.lastElu);
    this.lastElu = performance.eventLoopUtilization();
    const busy = this.modelBusyMs();
    const wallMs = Math.max(1, now - this.lastSampleMs);
    const modelFraction = (busy - this.lastBusyMs) / wallMs;
    this.lastBusyMs = busy;
    this.lastSampleMs = now;
    this.current = Math.max(elu.utilization, Math.min(1, modelFraction));
    this.countSessions();
    this.currentSessions = this.sessionsSum / this.sessionsCount;
    this.sessionsSum = 0;
    this.sessionsCount = 0;
    return this.current;
  }

  private countSessions(): void {
    this.sessionsSum += this.sessions();
    this.sessionsCount++;
  }
}
