/**
 * Latency statistics, pure. Percentiles use the nearest-rank definition (the smallest sample with at least p% of
 * samples ≤ it), so every reported value is a latency that was actually observed and p100 is the maximum. With few
 * samples the high percentiles collapse onto the maximum, which is what an SLO check should see.
 */

export interface LatencySummary {
  count: number;
  minMs: number;
  meanMs: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
}

/** Nearest-rank percentile of an ascending array; p in [0, 100]. NaN for an empty array. */
export function percentileSorted(sorted: ArrayLike<number>, p: number): number {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be in [0, 100], got ${p}`);
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  // the epsilon keeps float noise (99.9 / 100 · 1000 = 999.0000000000001) from skipping a rank
  const rank = Math.min(n, Math.max(1, Math.ceil((p * n) / 100 - 1e-9)));
  return sorted[rank - 1]!;
}

export function sortedCopy(values: ArrayLike<number>): Float64Array {
  const out = Float64Array.from(values as ArrayLike<number>);
  out.sort();
  return out;
}

export function summarize(values: ArrayLike<number>): LatencySummary {
  const sorted = sortedCopy(values);
  const n = sorted.length;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += sorted[i]!;
  return {
    count: n,
    minMs: n > 0 ? sorted[0]! : Number.NaN,
    meanMs: n > 0 ? sum / n : Number.NaN,
    p50Ms: percentileSorted(sorted, 50),
    p90Ms: percentileSorted(sorted, 90),
    p99Ms: percentileSorted(sorted, 99),
    p999Ms: percentileSorted(sorted, 99.9),
    maxMs: n > 0 ? sorted[n - 1]! : Number.NaN,
  };
}

export interface CdfPoint {
  latencyMs: number;
  /** Fraction of samples ≤ latencyMs, in (0, 1]. */
  fraction: number;
}

/**
 * Empirical CDF thinned to at most `maxPoints` points for plotting; keeps the last point (fraction 1 = max) and the
 * tail at full resolution, because the tail is what a latency CDF is read for.
 */
export function empiricalCdf(values: ArrayLike<number>, maxPoints = 400): CdfPoint[] {
  const sorted = sortedCopy(values);
  const n = sorted.length;
  if (n === 0) return [];
  const points: CdfPoint[] = [];
  const tailStart = Math.max(0, n - Math.floor(maxPoints / 4));
  const bodyStep = Math.max(1, Math.ceil(tailStart / Math.max(1, maxPoints - (n - tailStart))));
  for (let i = 0; i < tailStart; i += bodyStep) points.push({ latencyMs: sorted[i]!, fraction: (i + 1) / n });
  for (let i = tailStart; i < n; i++) points.push({ latencyMs: sorted[i]!, fraction: (i + 1) / n });
  return points;
}

/** Growable float buffer: latency samples per run can reach millions, so no boxed-number arrays. */
export class SampleBuffer {
  private data: Float64Array;
  private n = 0;

  constructor(initialCapacity = 1024) {
    this.data = new Float64Array(Math.max(1, initialCapacity));
  }

  push(value: number): void {
    if (this.n === this.data.length) {
      const grown = new Float64Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.n++] = value;
  }

  pushAll(other: SampleBuffer): void {
    const view = other.view();
    for (let i = 0; i < view.length; i++) this.push(view[i]!);
  }

  clear(): void {
    this.n = 0;
  }

  get length(): number {
    return this.n;
  }

  view(): Float64Array {
    return this.data.subarray(0, this.n);
  }
}
