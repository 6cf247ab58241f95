/**
 * The engine-load estimate admission control uses: the larger of the event loop's utilisation (JS DSP, sockets)
 * and the fraction of wall time the model runtimes were busy, over the last sampling interval. Sampled on a timer
 * (unref'd) so the admission decision itself is a field read.
 */
import { performance } from 'node:perf_hooks';
export class LoadMonitor {
    modelBusyMs;
    intervalMs;
    lastElu = performance.eventLoopUtilization();
    lastBusyMs;
    lastSampleMs = performance.now();
    current = 0;
    timer;
    constructor(modelBusyMs, intervalMs = 1000) {
        this.modelBusyMs = modelBusyMs;
        this.intervalMs = intervalMs;
        this.lastBusyMs = modelBusyMs();
    }
    start() {
        this.timer ??= setInterval(() => this.sample(), this.intervalMs).unref();
    }
    stop() {
        if (this.timer)
            clearInterval(this.timer);
        this.timer = undefined;
    }
    get load() {
        return this.current;
    }
    sample() {
        const now = performance.now();
        const elu = performance.eventLoopUtilization(this.lastElu);
        this.lastElu = performance.eventLoopUtilization();
        const busy = this.modelBusyMs();
        const wallMs = Math.max(1, now - this.lastSampleMs);
        const modelFraction = (busy - this.lastBusyMs) / wallMs;
        this.lastBusyMs = busy;
        this.lastSampleMs = now;
        this.current = Math.max(elu.utilization, Math.min(1, modelFraction));
        return this.current;
    }
}
//# sourceMappingURL=load-monitor.js.map