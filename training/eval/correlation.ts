/**
 * Cross-correlations at lags −maxLag..maxLag of long signals, without an FFT the size of the whole signal:
 * the signal is cut into blocks, each block's circular correlation (FFT size ≥ block + 2·maxLag, so no wrap-around
 * reaches the wanted lags) is accumulated in the frequency domain and one inverse FFT per pair ends it.
 * Exact (up to float64 rounding) linear correlation r[k] = Σ_n x[n]·y[n + k], signals zero outside their length.
 */
import { accumulateCrossSpectrum, nextPow2, RealFft64 } from './fft64.ts';

/**
 * For each pair [xi, yi] returns r of length 2·maxLag + 1 with r[maxLag + k] = Σ_n xs[xi][n]·ys[yi][n + k].
 * Every signal must have the same length.
 */
export function limitedCorrelations(
  xs: ArrayLike<number>[],
  ys: ArrayLike<number>[],
  pairs: [number, number][],
  maxLag: number,
): Float64Array[] {
  const length = xs[0]?.length ?? 0;
  const size = Math.max(8192, nextPow2(8 * maxLag + 2));
  const block = size - 2 * maxLag;
  const fft = new RealFft64(size);
  const specLength = size + 2;
  const usedX = [...new Set(pairs.map(([x]) => x))];
  const usedY = [...new Set(pairs.map(([, y]) => y))];
  const xSpec = new Map<number, Float64Array>(usedX.map((i) => [i, new Float64Array(specLength)]));
  const ySpec = new Map<number, Float64Array>(usedY.map((i) => [i, new Float64Array(specLength)]));
  const acc = pairs.map(() => new Float64Array(specLength));
  const buf = new Float64Array(size);
  for (let start = 0; start < length; start += block) {
    for (const i of usedX) {
      const x = xs[i]!;
      buf.fill(0);
      const n = Math.min(block, length - start);
      for (let m = 0; m < n; m++) buf[maxLag + m] = x[start + m]!;
      fft.forward(buf, xSpec.get(i)!);
    }
    for (const i of usedY) {
      const y = ys[i]!;
      buf.fill(0);
      const from = start - maxLag;
      const lo = Math.max(0, -from);
      const hi = Math.min(size, length - from);
      for (let q = lo; q < hi; q++) buf[q] = y[from + q]!;
      fft.forward(buf, ySpec.get(i)!);
    }
    pairs.forEach(([x, y], k) => accumulateCrossSpectrum(acc[k]!, xSpec.get(x)!, ySpec.get(y)!));
  }
  const time = new Float64Array(size);
  return acc.map((spec) => {
    fft.inverse(spec, time);
    const r = new Float64Array(2 * maxLag + 1);
    for (let k = -maxLag; k <= maxLag; k++) r[maxLag + k] = time[(k + size) % size]!;
    return r;
  });
}
