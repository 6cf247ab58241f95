/**
 * The demo's latency figure is a sum of measured terms: each measurement moves it by exactly its own amount, the
 * jitter-buffer term is the mean over the last interval (not since the start), and nothing but the 20 ms packets
 * each way is a constant.
 */
import t from 'tap';
import { estimateLatency, jitterBufferMsSince, PACKET_MS, type LatencyInputs } from '../server/demo/static/latency-estimate.ts';

const base: LatencyInputs = { algorithmicMs: 20.375, serverProcessingMs: 2, pacerWaitMs: 4, networkRttMs: 1, jitterBufferMs: 40, playoutMs: 10 };

t.test('every measured term moves the total by its own amount', async (t) => {
  const total = estimateLatency(base).totalMs;
  t.equal(total, 2 * PACKET_MS + 20.375 + 2 + 4 + 1 + 40 + 10);
  for (const key of Object.keys(base) as (keyof LatencyInputs)[]) {
    t.equal(estimateLatency({ ...base, [key]: base[key] + 7 }).totalMs - total, 7, `${key} counts once`);
  }
  const zero = estimateLatency({ algorithmicMs: 0, serverProcessingMs: 0, pacerWaitMs: 0, networkRttMs: 0, jitterBufferMs: 0, playoutMs: 0 });
  t.equal(zero.totalMs, 2 * PACKET_MS, 'only the packet durations are fixed');
  t.same(
    estimateLatency(base).terms.map((x) => x.name),
    ['packetisation (in + out)', 'network round trip', 'model (algorithmic)', 'server processing', 'server pacer', 'browser jitter buffer', 'playout'],
  );
});

t.test('jitter buffer: the mean over the last interval, not since the start', async (t) => {
  // Start-up: 1 s of audio (48 000 samples) emitted with 200 ms average delay; then 48 000 more at 40 ms.
  const first = { jitterBufferDelaySec: 0.2 * 48000, jitterBufferEmittedCount: 48000 };
  const second = { jitterBufferDelaySec: first.jitterBufferDelaySec + 0.04 * 48000, jitterBufferEmittedCount: 96000 };
  t.equal(jitterBufferMsSince(undefined, first), 200);
  t.equal(Math.round(jitterBufferMsSince(first, second)! * 1e6) / 1e6, 40, 'the recent 40 ms, not the 120 ms cumulative mean');
  t.equal(jitterBufferMsSince(second, second), undefined, 'nothing emitted: no figure');
});
