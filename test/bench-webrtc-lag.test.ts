/**
 * The lag finder behind `npm run bench:webrtc`: a delayed, scaled, filtered copy of a noise-like input is found at its
 * delay to a fraction of a sample, a lag that changes mid-recording is followed window by window, and an unrelated
 * signal does not correlate.
 */
import t from 'tap';
import { lagWindows, spread } from '../bench/webrtc-lag.ts';

const RATE = 48000;
function noise(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296) * 2 - 1);
}
const opts = { sampleRateHz: RATE, windowSamples: RATE / 2, stepSamples: RATE / 4, maxLagSamples: RATE / 2 };

t.test('a delayed copy is found at its delay; a delay change is followed', async (t) => {
  const x = noise(4 * RATE, 1);
  const y = new Float32Array(x.length);
  // 100 ms for the first 2 s, 117.5 ms after (half-sample steps are found by the parabolic refinement).
  for (let i = 0; i < y.length; i++) {
    const d = i < 2 * RATE ? 4800 : 5640;
    // A two-tap smoothing (zero phase about half a sample; peak correlation 1/√2) stands in for a mask and a codec.
    y[i] = i - d - 1 >= 0 ? 0.3 * (x[i - d]! + x[i - d - 1]!) : 0;
  }
  const ws = lagWindows(x, y, opts);
  const early = ws.filter((w) => w.atSec + 0.5 <= 2);
  const late = ws.filter((w) => w.atSec >= 2);
  t.ok(early.every((w) => Math.abs(w.lagMs - 100.0104) < 0.01 && w.corr > 0.65), `before the change: ${early.map((w) => w.lagMs.toFixed(3)).join(', ')} ms`);
  t.ok(late.every((w) => Math.abs(w.lagMs - 117.5104) < 0.01), `after: ${late.map((w) => w.lagMs.toFixed(3)).join(', ')} ms`);
  t.ok(noise(4 * RATE, 2).length > 0 && lagWindows(x, noise(4 * RATE, 2), opts).every((w) => w.corr < 0.1), 'an unrelated signal does not correlate');
});

t.test('spread: median, p90, p99, max', async (t) => {
  t.same(spread(Array.from({ length: 100 }, (_, i) => i + 1)), { n: 100, median: 51, p90: 91, p99: 100, max: 100 });
});
