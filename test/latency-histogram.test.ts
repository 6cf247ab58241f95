/**
 * The fixed-bucket latency histogram and its time window (server/metrics/): the quantiles a session's `stats` and
 * the admission decision read, on hand-made series whose answers are known.
 */
import t from 'tap';
import { LatencyHistogram, logBucketsMs, SESSION_LATENCY_BOUNDS_MS } from '../server/metrics/latency-histogram.ts';
import { LatencyWindow } from '../server/metrics/latency-window.ts';

t.test('log buckets land on the decades and grow by a constant ratio', async (t) => {
  const b = logBucketsMs(0.1, 100, 10);
  t.equal(b.length, 31);
  t.same([b[0], b[10], b[20], b[30]], [0.1, 1, 10, 100]);
  t.ok(Math.abs(b[1]! / b[0]! - 10 ** 0.1) < 1e-3);
  t.ok(SESSION_LATENCY_BOUNDS_MS[0]! <= 0.05 && SESSION_LATENCY_BOUNDS_MS.at(-1)! >= 10_000, 'session bounds cover 0.05 ms … 10 s');
  t.throws(() => logBucketsMs(0, 1, 10));
});

t.test('quantiles of 1..100 ms are within one bucket of the exact values; p100 is the maximum', async (t) => {
  const h = new LatencyHistogram();
  for (let v = 1; v <= 100; v++) h.observe(v);
  t.equal(h.count, 100);
  t.equal(h.sumMs, 5050);
  t.equal(h.maxMs, 100);
  t.equal(h.quantile(1), 100);
  t.equal(h.quantile(0), 1, 'p0 is the minimum');
  // 24 buckets per decade: a bucket is 10 % wide, so an interpolated quantile is within 10 % of the exact one
  for (const [q, exact] of [[0.5, 50], [0.9, 90], [0.99, 99]] as const) {
    const v = h.quantile(q);
    t.ok(Math.abs(v - exact) / exact < 0.1, `p${q * 100} ${v.toFixed(2)} ≈ ${exact}`);
  }
});

t.test('one constant value: every quantile is that value (clamped to what was seen)', async (t) => {
  const h = new LatencyHistogram();
  for (let i = 0; i < 10; i++) h.observe(3.3);
  t.equal(h.quantile(0.5), 3.3);
  t.equal(h.quantile(0.99), 3.3);
});

t.test('empty is NaN; overflow beyond the last bound still counts and reports its maximum', async (t) => {
  const h = new LatencyHistogram([1, 2, 5]);
  t.ok(Number.isNaN(h.quantile(0.5)));
  t.ok(Number.isNaN(h.maxMs));
  h.observe(0.5);
  h.observe(70);
  h.observe(NaN);
  t.equal(h.count, 2, 'NaN is not an observation');
  t.equal(h.quantile(1), 70);
  t.ok(h.quantile(0.5) <= 1, 'the lower half is the 0.5 ms observation');
});

t.test('merge adds counts; clear empties; different bounds are refused', async (t) => {
  const a = new LatencyHistogram([1, 2, 5, 10]);
  const b = new LatencyHistogram([1, 2, 5, 10]);
  a.observe(1);
  b.observe(9);
  b.observe(9);
  a.merge(b);
  t.equal(a.count, 3);
  t.equal(a.maxMs, 9);
  t.ok(a.quantile(0.9) > 5);
  a.clear();
  t.equal(a.count, 0);
  t.throws(() => a.merge(new LatencyHistogram([1, 2])));
});

t.test('window: only observations of the last windowMs count; old slices are reused', async (t) => {
  const w = new LatencyWindow({ windowMs: 1000, slices: 4, boundsMs: [1, 2, 5, 10, 20, 50] });
  for (let i = 0; i < 100; i++) w.observe(40, 100); // a burst of slow hops at t = 100 ms
  for (let i = 0; i < 100; i++) w.observe(1, 600);
  const both = w.quantile(0.99, 700);
  t.equal(both.count, 200);
  t.ok(both.latencyMs > 20 && both.latencyMs <= 40, `p99 ${both.latencyMs} is in the slow burst's bucket`);
  // at t = 1100 the slice of t = 100 (0–250 ms) has left the window
  const later = w.quantile(0.99, 1100);
  t.equal(later.count, 100);
  t.equal(later.latencyMs, 1);
  w.observe(3, 5000);
  t.same(w.quantile(0.5, 5000), { latencyMs: 3, count: 1 }, 'after a long silence only the new observation counts');
  t.equal(w.quantile(0.5, 9000).count, 0);
  t.ok(Number.isNaN(w.quantile(0.5, 9000).latencyMs));
});
