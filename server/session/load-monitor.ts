/**
 * The engine-load estimate admission control uses: the larger of the event loop's utilisation (JS DSP, sockets)
 * and the fraction of wall time the model runtimes were busy, over the last sampling interval, with the number of
 * sessions at the end of that interval (admission projects per-session cost from the pair: a sample taken while
 * sessions that have since left were streaming must not be charged to the few still here). Sampled on a timer
 * (unref'd) so the admission decision itself is a field read.
 */
import { performance, type EventLoopUtilization } from 'node:perf_hooks';

export class LoadMonitor {
  private lastElu: EventLoopUtilization = performance.eventLoopUtilization();
  private lastBusyMs: number;
  private lastSampleMs = performance.now();
  private current = 0;
  private currentSessions = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly modelBusyMs: () => number,
    private readonly sessions: () => number,
    private readonly intervalMs = 1000,
  ) {
    this.lastBusyMs = modelBusyMs();
  }

  start(): void {
    this.timer ??= setInterval(() => this.sample(), this.intervalMs).unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  get load(): number {
    return this.current;
  }

  /** Sessions when `load` was sampled. */
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
    this.currentSessions = this.sessions();
    return this.current;
  }
}
