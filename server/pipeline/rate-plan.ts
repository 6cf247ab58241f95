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
