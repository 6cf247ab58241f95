import t from 'tap';
import {
  VAD_AMPLITUDE_THRESHOLD,
  vocalActivity,
  vocalActivityPerStftFrame,
} from '../training/data/vad-labels.ts';

const SR = 44100;

/** Stereo signal: frame f (441 samples) has constant |x| = levels[f] (alternating sign), left and right given. */
function stepped(levelsL: number[], levelsR: number[], frame = 441, tail = 0): Float32Array[] {
  const n = levelsL.length * frame + tail;
  const l = new Float32Array(n);
  const r = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const f = Math.min(Math.floor(i / frame), levelsL.length - 1);
    const sign = i % 2 === 0 ? 1 : -1;
    l[i] = sign * (levelsL[f] ?? 0);
    r[i] = sign * (levelsR[f] ?? 0);
  }
  return [l, r];
}

t.test('10 ms labels follow the mean |x| > 5e-4 rule over both channels', async (t) => {
  const th = VAD_AMPLITUDE_THRESHOLD;
  t.equal(th, 5e-4);
  // frame 0 silent, 1 loud, 2 just under (mean over channels 4.9e-4), 3 just over (mean 5.1e-4), 4 one-channel loud
  const left = [0, 0.1, 0.0009, 0.00052, 0.0012];
  const right = [0, 0.1, 0.00008, 0.0005, 0];
  const labels = vocalActivity(stepped(left, right), SR, 441);
  t.same([...labels], [0, 1, 0, 1, 1]);
});

t.test('a trailing partial frame counts, averaged over the samples it has', async (t) => {
  const sig = stepped([0, 0.01], [0, 0.01], 441, 100); // 100 extra samples at the last level
  const labels = vocalActivity(sig, SR, 441);
  t.equal(labels.length, 3);
  t.same([...labels], [0, 1, 1]);
  const quiet = [new Float32Array(441 + 10), new Float32Array(441 + 10)];
  t.same([...vocalActivity(quiet, SR, 441)], [0, 0]);
});

t.test('a short burst inside an otherwise silent 10 ms frame is judged by the frame mean', async (t) => {
  const x = new Float32Array(441 * 2);
  // 10 samples at 0.02 in frame 1: mean |x| = 0.2/441 = 4.5e-4 < 5e-4 → silent; 12 samples → 5.4e-4 → active
  for (let i = 441; i < 451; i++) x[i] = 0.02;
  t.same([...vocalActivity([x], SR, 441)], [0, 0]);
  x[451] = 0.02;
  x[452] = 0.02;
  t.same([...vocalActivity([x], SR, 441)], [0, 1]);
});

t.test('STFT-frame labels judge the newest hop of each frame', async (t) => {
  const cfg = { nFft: 1024, hopSamples: 256, window: 'hann' as const };
  const n = 256 * 10 + 100; // 10 full hops + a partial hop (no frame for it)
  const x = new Float32Array(n);
  // vocals only in hop 4 (samples 1024..1279)
  for (let i = 1024; i < 1280; i++) x[i] = 0.05;
  const labels = vocalActivityPerStftFrame([x, x], cfg);
  t.equal(labels.length, 10);
  // frame 4 covers [(4+1)·256 − 1024, 1280) = [256, 1280): its newest hop is [1024, 1280)
  t.same([...labels], [0, 0, 0, 0, 1, 0, 0, 0, 0, 0]);
});

t.test('STFT-frame labels equal the 10 ms rule when hop = 441', async (t) => {
  const left = [0, 0.1, 0.0009, 0.00052, 0.0012, 0, 0.3];
  const right = [0, 0.1, 0.00008, 0.0005, 0, 0, 0.3];
  const sig = stepped(left, right);
  const perFrame = vocalActivityPerStftFrame(sig, { nFft: 1764, hopSamples: 441, window: 'sqrt-hann' });
  t.same([...perFrame], [...vocalActivity(sig, SR, 441)]);
});

t.test('invalid arguments are rejected', async (t) => {
  t.throws(() => vocalActivity([], SR, 441), RangeError);
  t.throws(() => vocalActivity([new Float32Array(4)], SR, 0), RangeError);
  t.throws(() => vocalActivity([new Float32Array(4), new Float32Array(5)], SR, 2), RangeError);
});
