/**
 * A fixed-bucket latency histogram in milliseconds, pure. Fixed buckets rather than stored samples so that a
 * session of hours costs the same memory as one of seconds; quantiles interpolate linearly inside the bucket that
 * holds the rank (as Prometheus' `histogram_quantile` does) and are clamped to the observed minimum and maximum, so
 * a quantile is never outside what was seen and p100 is the maximum.
 */

/** Upper bounds growing by a constant ratio: `perDecade` buckets per factor of ten from `minMs` up to `maxMs`. */
export function logBucketsMs(minMs: number, maxMs: number, perDecade: number): number[] {
  if (!(minMs > 0 && maxMs > minMs && perDecade >= 1)) throw new RangeError('logBucketsMs needs 0 < minMs < maxMs and perDecade ≥ 1');
  const bounds: number[] = [];
  const steps = Math.ceil(Math.log10(maxMs / minMs) * perDecade);
  // rounded so that the bounds print cleanly and decades land exactly (0.1, 1, 10 …)
  for (let i = 0; i <= steps; i++) bounds.push(Number((minMs * 10 ** (i / perDecade)).toPrecision(4)));
  return bounds;
}

/** The bounds per-session statistics use: 0.05 ms … 10 s, ±5 % resolution. */
export const SESSION_LATENCY_BOUNDS_MS: readonly number[] = logBucketsMs(0.05, 10_000, 24);

export class LatencyHistogram {
  /** counts[i] holds observations ≤ boundsMs[i] (and > boundsMs[i − 1]); the last slot is the overflow bucket. */
  private readonly counts: Float64Array;
  private n = 0;
  private sum = 0;
  private min = Number.POSITIVE_INFINITY;
  private max = Number.NEGATIVE_INFINITY;

  constructor(readonly boundsMs: readonly number[] = SESSION_LATENCY_BOUNDS_MS) {
    for (let i = 1; i < boundsMs.length; i++) {
      if (!(boundsMs[i]! > boundsMs[i - 1]!)) throw new RangeError('histogram bounds must be strictly ascending');
    }
    this.counts = new Float64Array(boundsMs.length + 1);
  }

  get count(): number {
    return this.n;
  }

  get sumMs(): number {
    return this.sum;
  }

  /** NaN when empty. */
  get maxMs(): number {
    return this.n > 0 ? this.max : Number.NaN;
  }

  observe(latencyMs: number): void {
    if (Number.isNaN(latencyMs)) return;
    this.counts[this.bucketOf(latencyMs)]! += 1;
    this.n += 1;
    this.sum += latencyMs;
    if (latencyMs < this.min) this.min = latencyMs;
    if (latencyMs > this.max) this.max = latencyMs;
  }

  /** Adds another histogram's observations (same bounds). */
  merge(other: LatencyHistogram): void {
    if (other.boundsMs !== this.boundsMs && !sameBounds(other.boundsMs, this.boundsMs)) throw new RangeError('cannot merge histograms with different bounds');
    if (other.n === 0) return;
    for (let i = 0; i < this.counts.length; i++) this.counts[i]! += other.counts[i]!;
    this.n += other.n;
    this.sum += other.sum;
    this.min = Math.min(this.min, other.min);
    this.max = Math.max(this.max, other.max);
  }

  clear(): void {
    this.counts.fill(0);
    this.n = 0;
    this.sum = 0;
    this.min = Number.POSITIVE_INFINITY;
    this.max = Number.NEGATIVE_INFINITY;
  }

  /** The q-quantile (0..1), NaN when empty. */
  quantile(q: number): number {
    if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile must be in [0, 1], got ${q}`);
    if (this.n === 0) return Number.NaN;
    const rank = q * this.n;
    let below = 0;
    for (let i = 0; i < this.counts.length; i++) {
      const inBucket = this.counts[i]!;
      if (inBucket === 0 || below + inBucket < rank) {
        below += inBucket;
        continue;
      }
      const lower = Math.max(this.min, i === 0 ? 0 : this.boundsMs[i - 1]!);
      const upper = Math.min(this.max, i < this.boundsMs.length ? this.boundsMs[i]! : this.max);
      const value = lower + (upper - lower) * Math.max(0, (rank - below) / inBucket);
      return Math.min(this.max, Math.max(this.min, value));
    }
    return this.max;
  }

  private bucketOf(latencyMs: number): number {
    const b = this.boundsMs;
    let lo = 0;
    let hi = b.length; // b.length = overflow
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (latencyMs <= b[mid]!) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}

function sameBounds(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
