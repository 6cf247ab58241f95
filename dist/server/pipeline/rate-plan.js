/**
 * Chooses the two resamplers' delays so the whole chain (client rate → model rate → STFT/ISTFT → output rate) delays
 * the signal by a whole number of output samples. Only then can latency compensation drop an integer count and
 * promise that output offset t lines up with input time t exactly.
 *
 * Delay of the chain in seconds: Da/Ri + (Db + L)/Rm, with Da the input resampler's delay in input samples, Db the
 * output resampler's delay in model samples and L = nFft − hop. Both delays are chosen together (each at least its
 * filter's minimum) to make Ro·(Da/Ri + (Db + L)/Rm) an integer with the smallest total.
 */
import { Resampler } from "../dsp/resampler.js";
const cache = new Map();
/**
 * Smallest total delay over both resampler delays. For each admissible input delay Da the output delay Db is scanned
 * upwards; scans stop as soon as they cannot beat the best total found. Memoised: a handful of rate triples exist.
 */
export function planRates(inputRateHz, modelRateHz, outputRateHz, stftLatencySamples) {
    const key = `${inputRateHz}/${modelRateHz}/${outputRateHz}/${stftLatencySamples}`;
    const cached = cache.get(key);
    if (cached)
        return cached;
    const [ri, rm, ro, l] = [inputRateHz, modelRateHz, outputRateHz, stftLatencySamples];
    const resampleIn = ri !== rm;
    const resampleOut = ro !== rm;
    const minA = resampleIn ? Resampler.minDelayInputSamples(ri, rm) : 0;
    const minB = resampleOut ? Resampler.minDelayInputSamples(rm, ro) : 0;
    // Whole output samples: ro·(Da·rm + (Db + L)·ri) ≡ 0 (mod ri·rm).
    const modulus = ri * rm;
    const whole = (da, db) => (((da * rm + (db + l) * ri) % modulus) * ro) % modulus === 0;
    let best;
    const maxA = resampleIn ? minA + ri : minA + 1;
    const maxB = resampleOut ? minB + rm : minB + 1;
    for (let da = minA; da < maxA; da++) {
        if (best && da / ri >= best.seconds)
            break;
        for (let db = minB; db < maxB; db++) {
            const seconds = da / ri + (db + l) / rm;
            if (best && seconds >= best.seconds)
                break;
            if (whole(da, db))
                best = { da, db, seconds };
        }
    }
    if (!best)
        throw new RangeError(`no resampler delays give a whole-sample latency for ${ri} → ${rm} → ${ro} Hz`);
    const plan = {
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
export function warmRatePlans(rates, modelRateHz, stftLatencySamples) {
    for (const ri of rates)
        for (const ro of rates)
            planRates(ri, modelRateHz, ro, stftLatencySamples);
}
/** Output samples that cover `inputSamples` input samples: output j covers time j/Ro < N/Ri. */
export function outputLengthFor(plan, inputSamples) {
    return Math.ceil((inputSamples * plan.outputRateHz) / plan.inputRateHz - 1e-9);
}
function gcdBig(a, b) {
    while (b !== 0n)
        [a, b] = [b, a % b];
    return a < 0n ? -a : a;
}
/** x with a·x ≡ 1 (mod m), for coprime a and m ≥ 1. */
function modInverse(a, m) {
    let [r0, r1, s0, s1] = [((a % m) + m) % m, m, 1n, 0n];
    while (r1 !== 0n) {
        const k = r0 / r1;
        [r0, r1] = [r1, r0 - k * r1];
        [s0, s1] = [s1, s0 - k * s1];
    }
    return ((s0 % m) + m) % m;
}
export function segmentPhase(plan, inputOffsetSamples) {
    // BigInt: the products below reach (rate)² · rate, past 2^53 for some rate triples.
    const [ri, rm, ro] = [BigInt(plan.inputRateHz), BigInt(plan.modelRateHz), BigInt(plan.outputRateHz)];
    // N = B·Ri − I·Ro ∈ [0, Ri): the lead is N/(Ri·Ro) seconds.
    const n = (ri - ((BigInt(inputOffsetSamples) % ri) * ro) % ri) % ri;
    if (n === 0n)
        return { leadOutputSamples: 0, inputOffsetPhases: 0, outputOffsetPhases: 0 };
    // q/lcm(Ri, Rm) + p/lcm(Rm, Ro) = N/(Ri·Ro)  ⇔  q·Ro·gcd(Ri, Rm) + p·Ri·gcd(Rm, Ro) = N·Rm.
    let a = ro * gcdBig(ri, rm);
    let b = ri * gcdBig(rm, ro);
    let c = n * rm;
    const g = gcdBig(a, b);
    if (c % g !== 0n)
        throw new Error(`no resampler phases give a lead of ${n}/(${ri}·${ro}) s`);
    [a, b, c] = [a / g, b / g, c / g];
    const q = b === 1n ? 0n : (((c % b) * modInverse(a, b)) % b + b) % b;
    const p = (c - a * q) / b;
    return {
        leadOutputSamples: Number(n) / plan.inputRateHz,
        inputOffsetPhases: Number(q),
        outputOffsetPhases: Number(p),
    };
}
//# sourceMappingURL=rate-plan.js.map