/**
 * RealFft (PFFFT in wasm, direct DFT below 32 points) against a float64 direct DFT, for every entry point the STFT
 * uses: forward, forwardPair, inverse, inversePair and the masked overlapAdd.
 */
import t from 'tap';
import { RealFft } from '../server/dsp/fft.ts';
import { mulberry32 } from './helpers/signals.ts';

function randomArray(length: number, rand: () => number, scale = 1): Float32Array {
  return Float32Array.from({ length }, () => (rand() * 2 - 1) * scale);
}

function arrays(count: number, make: () => Float32Array): Float32Array[] {
  return Array.from({ length: count }, make);
}

/** X[k] = Σ x[t]·e^(−2πikt/n), k ≤ n/2, in float64. */
function naiveForward(x: ArrayLike<number>): { re: Float64Array; im: Float64Array } {
  const n = x.length;
  const re = new Float64Array(n / 2 + 1);
  const im = new Float64Array(n / 2 + 1);
  for (let k = 0; k <= n / 2; k++) {
    for (let j = 0; j < n; j++) {
      const phi = (-2 * Math.PI * ((k * j) % n)) / n;
      re[k]! += x[j]! * Math.cos(phi);
      im[k]! += x[j]! * Math.sin(phi);
    }
  }
  return { re, im };
}

/** Real inverse of a Hermitian spectrum given by bins 0..n/2 (imaginary parts of DC and Nyquist ignored), 1/n scaled. */
function naiveInverse(re: ArrayLike<number>, im: ArrayLike<number>, n: number): Float64Array {
  const out = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    let s = re[0]! + re[n / 2]! * (j % 2 === 0 ? 1 : -1);
    for (let k = 1; k < n / 2; k++) {
      const phi = (2 * Math.PI * ((k * j) % n)) / n;
      s += 2 * (re[k]! * Math.cos(phi) - im[k]! * Math.sin(phi));
    }
    out[j] = s / n;
  }
  return out;
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

const SIZES = [4, 8, 16, 32, 64, 256, 512, 1024, 2048];

t.test('backend: PFFFT (wasm) from 32 points, direct DFT below', async (t) => {
  for (const n of SIZES) t.equal(new RealFft(n).backend, n >= 32 ? 'pffft-wasm' : 'dft', `n = ${n}`);
  t.throws(() => new RealFft(1000), /power of two/);
  t.throws(() => new RealFft(2), /power of two/);
});

t.test('forward and forwardPair equal a float64 DFT (to float32 precision)', async (t) => {
  const rand = mulberry32(1);
  for (const n of SIZES) {
    const fft = new RealFft(n);
    const bins = n / 2 + 1;
    const a = randomArray(n, rand);
    const b = randomArray(n, rand);
    const window = Float32Array.from({ length: n }, () => rand());
    const aw = a.map((v, i) => v * window[i]!);
    const bw = b.map((v, i) => v * window[i]!);
    const refA = naiveForward(aw);
    const refB = naiveForward(bw);
    // Spectrum values grow like √n for noise: compare relative to that.
    const tol = 2e-6 * Math.sqrt(n) * Math.log2(n);
    const [re, im, re2, im2] = arrays(4, () => new Float32Array(bins)) as [Float32Array, Float32Array, Float32Array, Float32Array];
    fft.forward(aw, re, im);
    t.ok(Math.max(maxDiff(re, refA.re), maxDiff(im, refA.im)) < tol, `n = ${n}: forward`);
    fft.forward(a, re, im, window);
    t.ok(Math.max(maxDiff(re, refA.re), maxDiff(im, refA.im)) < tol, `n = ${n}: forward with window`);
    fft.forwardPair(a, b, re, im, re2, im2, window);
    const errPair = Math.max(maxDiff(re, refA.re), maxDiff(im, refA.im), maxDiff(re2, refB.re), maxDiff(im2, refB.im));
    t.ok(errPair < tol, `n = ${n}: forwardPair with window, max error ${errPair.toExponential(2)}`);
    fft.forwardPair(Float64Array.from(aw), Float64Array.from(bw), re, im, re2, im2);
    t.ok(Math.max(maxDiff(re, refA.re), maxDiff(re2, refB.re)) < tol, `n = ${n}: forwardPair, float64 input`);
    t.equal(im[0], 0, 'DC is real');
    t.equal(im[n / 2], 0, 'Nyquist is real');
  }
});

t.test('inverse, inversePair and the masked overlapAdd equal a float64 inverse DFT', async (t) => {
  const rand = mulberry32(2);
  for (const n of SIZES) {
    const fft = new RealFft(n);
    const bins = n / 2 + 1;
    // Random spectra, including imaginary parts at DC and Nyquist (a mask may leave them there): they are dropped.
    const [reA, imA, reB, imB] = arrays(4, () => randomArray(bins, rand)) as [Float32Array, Float32Array, Float32Array, Float32Array];
    const gains = Float32Array.from({ length: 2 * bins }, () => rand());
    const window = Float32Array.from({ length: n }, () => rand());
    const refA = naiveInverse(reA, imA, n);
    const refB = naiveInverse(reB, imB, n);
    const tol = 1e-6;
    const outA = new Float64Array(n);
    const outB = new Float32Array(n);
    fft.inverse(reA, imA, outA);
    t.ok(maxDiff(outA, refA) < tol, `n = ${n}: inverse ${maxDiff(outA, refA).toExponential(2)}`);
    fft.inversePair(reA, imA, reB, imB, outA, outB);
    t.ok(Math.max(maxDiff(outA, refA), maxDiff(outB, refB)) < tol, `n = ${n}: inversePair`);
    const masked = (re: Float32Array, im: Float32Array, offset: number): Float64Array =>
      naiveInverse(
        re.map((v, k) => v * gains[offset + k]!),
        im.map((v, k) => v * gains[offset + k]!),
        n,
      );
    const refMB = masked(reB, imB, bins);
    // overlapAdd: out = acc[0..hop) + y[0..hop), acc ← (acc + y) shifted by hop, y = window · IFFT(gains · X).
    for (const hop of [n / 4, n / 2, (3 * n) / 4]) {
      const acc = new Float64Array(n);
      for (let i = 0; i < n - hop; i++) acc[i] = rand();
      const y = refMB.map((v, i) => v * window[i]!);
      const sum = acc.map((v, i) => v + y[i]!);
      const out = new Float32Array(hop);
      fft.overlapAdd(reB, imB, gains, bins, window, acc, out);
      const expectAcc = new Float64Array(n);
      expectAcc.set(sum.subarray(hop));
      const err = Math.max(maxDiff(out, sum.subarray(0, hop)), maxDiff(acc, expectAcc));
      t.ok(err < tol, `n = ${n}, hop ${hop}: masked overlapAdd ${err.toExponential(2)}`);
      const plain = new Float64Array(n);
      fft.overlapAdd(reA, imA, undefined, 0, window, plain, out);
      const expectPlain = refA.map((v, i) => v * window[i]!);
      t.ok(Math.max(maxDiff(out, expectPlain.subarray(0, hop)), maxDiff(plain.subarray(0, n - hop), expectPlain.subarray(hop))) < tol, `n = ${n}, hop ${hop}: overlapAdd without mask`);
    }
  }
});

t.test('round trip reproduces the input; instances of one size share scratch memory safely', async (t) => {
  const rand = mulberry32(3);
  const n = 1024;
  const f1 = new RealFft(n);
  const f2 = new RealFft(n);
  const bins = n / 2 + 1;
  const x = randomArray(n, rand, 0.5);
  const y = randomArray(n, rand, 0.5);
  const [re1, im1, re2, im2] = arrays(4, () => new Float32Array(bins)) as [Float32Array, Float32Array, Float32Array, Float32Array];
  f1.forward(x, re1, im1);
  f2.forward(y, re2, im2);
  const outX = new Float64Array(n);
  const outY = new Float64Array(n);
  f2.inverse(re1, im1, outX);
  f1.inverse(re2, im2, outY);
  const err = Math.max(maxDiff(outX, x), maxDiff(outY, y));
  t.ok(err < 1e-6, `max round-trip error ${err.toExponential(2)}`);
});
