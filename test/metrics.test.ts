import t from 'tap';
import { auroc, detectionScores, mdxSdr, nonVocalLeakage, siSdr } from '../training/eval/metrics.ts';

const SR = 44100;
const sine = (n: number, f: number, a: number, phase = 0): Float32Array => Float32Array.from({ length: n }, (_, i) => a * Math.sin((2 * Math.PI * f * i) / SR + phase));

t.test('MDX SDR is 10·log10(Σs² / Σ(s−ŝ)²) over the whole track', async (t) => {
  const n = 44100;
  const s = [sine(n, 440, 0.5), sine(n, 550, 0.25)];
  // error orthogonal-ish and 1/100 of the reference energy → 20 dB
  const energy = s.reduce((acc, ch) => acc + ch.reduce((a, v) => a + v * v, 0), 0);
  const e = [sine(n, 1000, 1), sine(n, 1000, 1)];
  const eEnergy = e.reduce((acc, ch) => acc + ch.reduce((a, v) => a + v * v, 0), 0);
  const scale = Math.sqrt(energy / 100 / eEnergy);
  const est = s.map((ch, c) => Float32Array.from(ch, (v, i) => v + scale * e[c]![i]!));
  t.ok(Math.abs(mdxSdr(s, est) - 20) < 1e-3, `MDX SDR ${mdxSdr(s, est)} ≈ 20 dB`);
  t.ok(Math.abs(mdxSdr(s, s.map((ch) => new Float32Array(ch.length))) - 0) < 1e-6, 'silent estimate → 0 dB');
  const silent = [new Float32Array(10), new Float32Array(10)];
  t.equal(mdxSdr(silent, silent), 0, 'silent reference and estimate → 0 dB (δ keeps it finite)');
});

t.test('SI-SDR ignores the estimate scale and measures the orthogonal residual', async (t) => {
  const n = 44100;
  const s = [sine(n, 440, 0.5), sine(n, 330, 0.4)];
  const noise = [sine(n, 2000, 0.05), sine(n, 2100, 0.04)];
  const est = s.map((ch, c) => Float32Array.from(ch, (v, i) => v + noise[c]![i]!));
  const base = siSdr(s, est)!;
  const scaled = siSdr(s, est.map((ch) => Float32Array.from(ch, (v) => 3 * v)))!;
  t.ok(Math.abs(base - scaled) < 1e-6, `scale invariant (${base} vs ${scaled})`);
  // target energy over noise energy: (0.5² + 0.4²) / (0.05² + 0.04²) → 20 dB
  t.ok(Math.abs(base - 20) < 0.01, `SI-SDR ${base} ≈ 20 dB`);
  t.equal(siSdr([new Float32Array(5)], [new Float32Array(5)]), null, 'silent reference → undefined');
});

t.test('non-vocal leakage is the vocal estimate RMS where the true vocals are silent', async (t) => {
  const n = 441 * 200;
  const voc = [new Float32Array(n), new Float32Array(n)];
  for (let c = 0; c < 2; c++) voc[c]!.set(sine(n / 2, 220, 0.3), 0); // vocals in the first half only
  const est = [sine(n, 3000, 0.01), sine(n, 3000, 0.01)]; // constant bleed of RMS 0.01/√2
  const r = nonVocalLeakage(voc, est, SR);
  t.ok(Math.abs(r.silentFraction - 0.5) < 0.01, `silent fraction ${r.silentFraction}`);
  t.ok(Math.abs(r.rmsDbfs! - 20 * Math.log10(0.01 / Math.SQRT2)) < 0.05, `leakage ${r.rmsDbfs} dBFS ≈ −43 dBFS`);
  const clean = nonVocalLeakage(voc, voc, SR);
  t.equal(clean.rmsDbfs, -Infinity, 'a perfect estimate leaks nothing');
  t.equal(nonVocalLeakage([sine(4410, 300, 0.5)], [sine(4410, 300, 0.5)], SR).rmsDbfs, null, 'no silent frames → undefined');
});

t.test('AUROC and detection scores on hand-computed cases', async (t) => {
  t.equal(auroc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]), 0.75, 'the scikit-learn doc example');
  t.equal(auroc([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1]), 1);
  t.equal(auroc([0.9, 0.8, 0.2, 0.1], [0, 0, 1, 1]), 0);
  t.equal(auroc([0.5, 0.5, 0.5, 0.5], [0, 1, 0, 1]), 0.5, 'ties count half');
  t.equal(auroc([0.2, 0.3], [1, 1]), null, 'one class only → undefined');
  const d = detectionScores([0.9, 0.6, 0.4, 0.2, 0.7, 0.1], [1, 0, 1, 0, 1, 0], 0.5);
  // predicted 1,1,0,0,1,0 vs 1,0,1,0,1,0: tp 2, fp 1, fn 1, tn 2
  t.equal(d.accuracy, 4 / 6);
  t.equal(d.precision, 2 / 3);
  t.equal(d.recall, 2 / 3);
  t.ok(Math.abs(d.f1! - 2 / 3) < 1e-12);
  t.equal(d.positiveFraction, 0.5);
  t.equal(d.frames, 6);
});
