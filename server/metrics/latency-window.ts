/**
 * Latency observations of the recent past, pure (times are handed in): a ring of fixed time slices, each a
 * `LatencyHistogram`, so that "p99 over the last 2 s" costs one merge of a few histograms and no per-sample memory.
 * A slice is reused once its time has passed the window; the window therefore covers between
 * `windowMs − sliceMs` and `windowMs` of history.
 */
import { LatencyHistogram } from './latency-histogram.ts';

export interface LatencyWindowOptions {
  windowMs: number;
  /** How many slices the window is cut into (its time resolution). */
  slices: number;
  boundsMs: readonly number[];
}

export interface WindowQuantile {
  /** NaN when the window holds no observation. */
  latencyMs: number;
  /** Observations the quantile was computed from. */
  count: number;
}

export class LatencyWindow {
  private readonly sliceMs: number;
  private readonly histograms: LatencyHistogram[];
  /** The slice number (time / sliceMs) each ring entry currently holds; −∞ when unused. */
  private readonly sliceIds: number[];
  private readonly merged: LatencyHistogram;

  constructor(private readonly options: LatencyWindowOptions) {
    if (!(options.windowMs > 0 && Number.isInteger(options.slices) && options.slices >= 1)) throw new RangeError('LatencyWindow needs windowMs > 0 and slices ≥ 1');
    this.sliceMs = options.windowMs / options.slices;
    this.histograms = Array.from({ length: options.slices }, () => new LatencyHistogram(options.boundsMs));
    this.sliceIds = Array.from({ length: options.slices }, () => Number.NEGATIVE_INFINITY);
    this.merged = new LatencyHistogram(options.boundsMs);
  }

  observe(latencyMs: number, nowMs: number): void {
    const id = Math.floor(nowMs / this.sliceMs);
    const slot = ((id % this.options.slices) + this.options.slices) % this.options.slices;
    if (this.sliceIds[slot] !== id) {
      this.histograms[slot]!.clear();
      this.sliceIds[slot] = id;
    }
    this.histograms[slot]!.observe(latencyMs);
  }

  /** The q-quantile (0..1) of what was observed within the window ending at `nowMs`. */
  quantile(q: number, nowMs: number): WindowQuantile {
    const current = Math.floor(nowMs / this.sliceMs);
    this.merged.clear();
    for (let slot = 0; slot < this.options.slices; slot++) {
      const id = this.sliceIds[slot]!;
      if (id > current - this.options.slices && id <= current) this.merged.merge(this.histograms[slot]!);
    }
    return { latencyMs: this.merged.quantile(q), count: this.merged.count };
  }
}
