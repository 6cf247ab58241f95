/**
 * Chooses the two resamplers' delays so the whole chain (client rate → model rate → STFT/ISTFT → output rate) delays
 * the signal by a whole number of output samples. Only then can latency compensation drop an integer count and
 * promise that output offset t lines up with input time t exactly.
 *
 * Delay of the chain in seconds: Da/Ri + (Db + L)/Rm, with Da the input resampler's delay in input samples, Db the
 * output resampler's delay in model samples and L = nFft − hop. Both delays are chosen together (each at least its
 * filter's minimum) to make Ro·(Da/Ri + (Db + L)/Rm) an integer with the smallest total.
 */
import { Resampler } from '../dsp/resampler.ts';

export interface RatePlan {
  inputRateHz: number;
  modelRateHz: number;
  outputRateHz: number;
  /** Input resampler delay in input samples (0 when no resampling is needed). */
  inputDelaySamples: number;
  /** Output resampler delay in model samples (0 when no resampling is needed). */
  outputDelaySamples: number;
  stftLatencySamples: number;
  /** Total delay in output samples (an integer by construction). */
  latencyOutputSamples: number;
}

const cache = new Map<string, RatePlan>();

/**
 * Smallest total delay over both resampler delays. For each admissible input delay Da the output delay Db is scanned
 * upwards; scans stop as soon as they cannot beat the best total found. Memoised: a handful of rate triples exist.
 */
export function planRates(inputRateHz: number, modelRateHz: number, outputRateHz: number, stftLatencySamples: number): RatePlan {
  const key = `${inputRateHz}/${modelRateHz}/${outputRateHz}/${stftLatencySamples}`;
  const cached = cache.get(key);
  if (cached) return cached;
  const [ri, rm, ro, l] = [inputRateHz, modelRateHz, outputRateHz, stftLatencySamples];
  const resampleIn = ri !== rm;
  const resampleOut = ro !== rm;
  const minA = resampleIn ? Resampler.minDelayInputSamples(ri, rm) : 0;
  const minB = resampleOut ? Resampler.minDelayInputSamples(rm, ro) : 0;
  // Whole output samples: ro·(Da·rm + (Db + L)·ri) ≡ 0 (mod ri·rm).
  const modulus = ri * rm;
  const whole = (da: number, db: number): boolean => (((da * rm + (db + l) * ri) % modulus) * ro) % modulus === 0;
  let best: { da: number; db: number; seconds: number } | undefined;
  const maxA = resampleIn ? minA + ri : minA + 1;
  const maxB = resampleOut ? minB + rm : minB + 1;
  for (let da = minA; da < maxA; da++) {
    if (best && da / ri >= best.seconds) break;
    for (let db = minB; db < maxB; db++) {
      const seconds = da / ri + (db + l) / rm;
      if (best && seconds >= best.seconds) break;
      if (whole(da, db)) best = { da, db, seconds };
    }
  }
  if (!best) throw new RangeError(`no resampler delays give a whole-sample latency for ${ri} → ${rm} → ${ro} Hz`);
  const plan: RatePlan = {
    inputRateHz: ri,
    modelRateHz: rm,
    outputRateHz: ro,
    inputDelaySamples: best.da,
    outputDelaySamples: best.db,
    stftLatencySamples: l,
    latencyOutputSamples: Math.round(best.seconds * ro),
  };
  cache.set(key, plan);
  return plan;
}

/** Computes (and memoises) the plans of every rate pair up front, so no session start pays for the search. */
export function warmRatePlans(rates: readonly number[], modelRateHz: number, stftLatencySamples: number): void {
  for (const ri of rates) for (const ro of rates) planRates(ri, modelRateHz, ro, stftLatencySamples);
}

/** Output samples that cover `inputSamples` input samples: output j covers time j/Ro < N/Ri. */
export function outputLengthFor(plan: RatePlan, inputSamples: number): number {
  return Math.ceil((inputSamples * plan.outputRateHz) / plan.inputRateHz - 1e-9);
}

/**
 * Where a segment that starts after `inputOffsetSamples` input samples puts its output grid. `flush` keeps offsets
 * counting, so a segment's first output sample is global output B = ceil(I·Ro/Ri) (I = inputOffsetSamples), which
 * lies `leadOutputSamples` = B − I·Ro/Ri ∈ [0, 1) after the segment's first input sample. A segment that restarted
 * its output grid at its own first input would be early by that lead; because the lead changes from segment to
 * segment, the error is not even constant. Instead the lead is carried into the fresh resamplers as a phase offset,
 * so output offset t lines up with input time t exactly in every segment and the latency stays the same integer.
 *
 * The lead Φ (seconds) is split Φ = q/lcm(Ri, Rm) + p/lcm(Rm, Ro): q phases on the input resampler, p on the output
 * resampler, the only grids each can shift by. A solution in integers always exists (Φ is a multiple of
 * 1/lcm(Ri, Ro), and the two grids together reach 1/lcm(Ri, Rm, Ro)); taking the least q ≥ 0 (under one model sample) makes
 * p > −(output resampler's L), which that resampler accepts: it reads at most one model sample before the segment's
 * first, from its zero history, and the fresh segment's model-rate signal is zero there anyway. Without an input resampler q is 0, without an
 * output resampler p is 0: the equations force it.
 */
export interface SegmentPhase {
  /** Output sample B's distance after the segment's first input sample, in output samples, in [0, 1). */
  leadOutputSamples: number;
  /** Input resampler offset (Resampler `offsetPhases`, 1/L fractions of an input sample), ≥ 0. */
  inputOffsetPhases: number;
  /** Output resampler offset (Resampler `offsetPhases`, 1/L fractions of a model sample), > −L. */
  outputOffsetPhases: number;
}

function gcdBig(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a < 0n ? -a : a;
}

/** x with a·x ≡ 1 (mod m), for coprime a and m ≥ 1. */
function modInverse(a: bigint, m: bigint): bigint {
  let [r0, r1, s0, s1] = [((a % m) + m) % m, m, 1n, 0n];
  while (r1 !== 0n) {
    const k = r0 / r1;
    [r0, r1] = [r1, r0 - k * r1];
    [s0, s1] = [s1, s0 - k * s1];
  }
  return ((s0 % m) + m) % m;
}

export function segmentPhase(plan: RatePlan, inputOffsetSamples: number): SegmentPhase {
  // BigInt: the products below reach (rate)² · rate, past 2^53 for some rate triples.
  const [ri, rm, ro] = [BigInt(plan.inputRateHz), BigInt(plan.modelRateHz), BigInt(plan.outputRateHz)];
  // N = B·Ri − I·Ro ∈ [0, Ri): the lead is N/(Ri·Ro) seconds.
  const n = (ri - ((BigInt(inputOffsetSamples) % ri) * ro) % ri) % ri;
  if (n === 0n) return { leadOutputSamples: 0, inputOffsetPhases: 0, outputOffsetPhases: 0 };
  // q/lcm(Ri, Rm) + p/lcm(Rm, Ro) = N/(Ri·Ro)  ⇔  q·Ro·gcd(Ri, Rm) + p·Ri·gcd(Rm, Ro) = N·Rm.
  let a = ro * gcdBig(ri, rm);
  let b = ri * gcdBig(rm, ro);
  let c = n * rm;
  const g = gcdBig(a, b);
  if (c % g !== 0n) throw new Error(`no resampler phases give a lead of ${n}/(${ri}·${ro}) s`);
  [a, b, c] = [a / g, b / g, c / g];
  const q = b === 1n ? 0n : (((c % b) * modInverse(a, b)) % b + b) % b;
  const p = (c - a * q) / b;
  return {
    leadOutputSamples: Number(n) / plan.inputRateHz,
    inputOffsetPhases: Number(q),
    outputOffsetPhases: Number(p),
  };
}
