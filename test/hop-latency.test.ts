/**
 * Admission watches recent hop latency, but not a new session's first second: its pipeline fill and a fresh
 * worker's first model runs are a start-up transient (a ramp saw 12–19 ms there and refused sessions on a box
 * whose steady p99 was 7.7 ms). The session's own statistics still count every hop.
 */
import t from 'tap';
import { Metrics } from '../server/metrics/metrics.ts';
import { ADMISSION_WARMUP_HOPS, HopLatency } from '../server/session/hop-latency.ts';

t.test('the first second of hops is kept out of the admission window, not out of the session statistics', async (t) => {
  const metrics = new Metrics();
  const hops = new HopLatency(50, metrics);
  const nowMs = 10_000;
  for (let i = 0; i < ADMISSION_WARMUP_HOPS; i++) hops.account({ dueMs: [nowMs - 30], arrivalMs: [nowMs - 30] }, nowMs);
  t.equal(metrics.recentHopLatency.quantile(0.99, nowMs).count, 0, 'the warm-up transient is not in the window');
  t.equal(hops.stats.max, 30, 'the session still saw its 30 ms start-up hops');
  for (let i = 0; i < 10; i++) hops.account({ dueMs: [nowMs - 2], arrivalMs: [nowMs - 2] }, nowMs);
  const recent = metrics.recentHopLatency.quantile(0.99, nowMs);
  t.equal(recent.count, 10, 'steady hops are');
  t.ok(recent.latencyMs < 3, `and the window's p99 is theirs (${recent.latencyMs} ms)`);
});
