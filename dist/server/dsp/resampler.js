/**
 * Streaming rational-ratio resampler (polyphase Kaiser-windowed sinc).
 *
 * Written by hand rather than taken from a library (libsamplerate-js, wave-resampler) because the protocol
 * announces an exact algorithmic latency in samples and promises that output offsets line up with input
 * offsets: that needs (1) a delay known exactly and chosen by the caller, so the client-rate round trip
 * through the model rate can be made a whole number of samples, (2) bit-identical output whatever the chunking,
 * and (3) a synchronous, allocation-light stage that needs no async wasm start-up per session. The libraries we
 * looked at report no delay and process in their own internal blocks.
 *
 * Output sample j sits at input time (j·M + P)/L − D (L/M = outRate/inRate reduced, D = delayInputSamples, P =
 * offsetPhases, usually 0): it is a causal filter, so output j needs input up to floor((j·M + P)/L) only.
 */
const KAISER_BETA = 8.6; // ≈ 85 dB stop-band attenuation
const ZERO_CROSSINGS = 16; // half-width of the sinc, in periods of the lower rate
const ROLLOFF = 0.92; // passband edge as a fraction of the lower Nyquist frequency
function gcd(a, b) {
    while (b !== 0)
        [a, b] = [b, a % b];
    return a;
}
function besselI0(x) {
    let sum = 1;
    let term = 1;
    for (let k = 1; k < 50; k++) {
        term *= (x / (2 * k)) ** 2;
        sum += term;
        if (term < 1e-12 * sum)
            break;
    }
    return sum;
}
export class Resampler {
    inRateHz;
    outRateHz;
    channels;
    up;
    down;
    delayInputSamples;
    offsetPhases;
    taps;
    /** Only taps kFirst..kLast can be non-zero: a delay longer than the filter needs only shifts it. */
    kFirst;
    kLast;
    /** table[phase * taps + k] weights input sample floor(t) − k for output phase `phase`. */
    table;
    history;
    /** Reused scratch (history + chunk) so a steady stream allocates nothing here per push. */
    work = new Float32Array(0);
    inputCount = 0;
    outputCount = 0;
    static minDelayInputSamples(inRateHz, outRateHz) {
        if (inRateHz === outRateHz)
            return 0;
        return Math.ceil(ZERO_CROSSINGS * Math.max(1, inRateHz / outRateHz));
    }
    constructor(inRateHz, outRateHz, channels, options = {}) {
        if (!Number.isInteger(inRateHz) || !Number.isInteger(outRateHz) || inRateHz <= 0 || outRateHz <= 0) {
            throw new RangeError(`sample rates must be positive integers, got ${inRateHz} → ${outRateHz}`);
        }
        const g = gcd(inRateHz, outRateHz);
        this.inRateHz = inRateHz;
        this.outRateHz = outRateHz;
        this.channels = channels;
        this.up = outRateHz / g;
        this.down = inRateHz / g;
        const minDelay = Resampler.minDelayInputSamples(inRateHz, outRateHz);
        this.delayInputSamples = options.delayInputSamples ?? minDelay;
        if (!Number.isInteger(this.delayInputSamples) || this.delayInputSamples < minDelay) {
            throw new RangeError(`delayInputSamples must be an integer ≥ ${minDelay}, got ${this.delayInputSamples}`);
        }
        this.offsetPhases = options.offsetPhases ?? 0;
        if (!Number.isInteger(this.offsetPhases) || this.offsetPhases <= -this.up) {
            throw new RangeError(`offsetPhases must be an integer > ${-this.up}, got ${this.offsetPhases}`);
        }
        this.taps = 2 * this.delayInputSamples + 1;
        this.kFirst = Math.max(0, this.delayInputSamples - minDelay - 1);
        this.kLast = Math.min(this.taps - 1, this.delayInputSamples + minDelay);
        this.table = this.buildTable(minDelay);
        this.history = Array.from({ length: channels }, () => new Float32Array(this.taps));
    }
    /** Delay of the output relative to the input, in output samples (may be fractional). */
    get delayOutputSamples() {
        return (this.delayInputSamples * this.outRateHz) / this.inRateHz;
    }
    buildTable(halfWidth) {
        if (this.up === 1 && this.down === 1) {
            const delta = new Float32Array(this.taps);
            delta[this.delayInputSamples] = 1;
            return delta;
        }
        // Cutoff in cycles per input sample; the filter is as long as the quality needs (halfWidth), centred on D.
        const cutoff = 0.5 * ROLLOFF * Math.min(1, this.outRateHz / this.inRateHz);
        const norm = besselI0(KAISER_BETA);
        const table = new Float32Array(this.up * this.taps);
        for (let phase = 0; phase < this.up; phase++) {
            const frac = phase / this.up;
            let sum = 0;
            for (let k = 0; k < this.taps; k++) {
                const t = frac + k - this.delayInputSamples; // time from output instant to input sample, in input samples
                const r = t / halfWidth;
                let w = 0;
                if (Math.abs(r) < 1) {
                    const sinc = t === 0 ? 1 : Math.sin(2 * Math.PI * cutoff * t) / (2 * Math.PI * cutoff * t);
                    w = 2 * cutoff * sinc * (besselI0(KAISER_BETA * Math.sqrt(1 - r * r)) / norm);
                }
                table[phase * this.taps + k] = w;
                sum += w;
            }
            // Exact unity DC gain for every phase removes phase-dependent ripple.
            for (let k = 0; k < this.taps; k++)
                table[phase * this.taps + k] /= sum;
        }
        return table;
    }
    push(chunk) {
        if (chunk.length !== this.channels)
            throw new RangeError(`expected ${this.channels} channels, got ${chunk.length}`);
        const length = chunk[0]?.length ?? 0;
        const lastInput = this.inputCount + length - 1;
        // Output j needs input floor((j·down + P)/up) but is emitted once input ceil((j·down + P)/up) has arrived: at most
        // one sample late, and SeparationPipeline.end computes its padding from exactly this rule.
        const firstJ = this.outputCount;
        const endJ = Math.floor((lastInput * this.up - this.offsetPhases) / this.down) + 1;
        const count = Math.max(0, endJ - firstJ);
        const out = Array.from({ length: this.channels }, () => new Float32Array(count));
        for (let c = 0; c < this.channels; c++) {
            // Work buffer: the previous `taps` input samples, then this chunk.
            const hist = this.history[c];
            const work = this.workBuffer(this.taps + length);
            work.set(hist, 0);
            work.set(chunk[c], this.taps);
            const o = out[c];
            for (let i = 0; i < count; i++) {
                const j = firstJ + i;
                // > −up, so base ≥ −1 and `at − k` stays inside the zero-initialised history.
                const pos = j * this.down + this.offsetPhases;
                const base = Math.floor(pos / this.up);
                const phase = pos - base * this.up;
                const at = base - this.inputCount + this.taps; // index of input `base` in work
                const row = phase * this.taps;
                let acc = 0;
                for (let k = this.kFirst; k <= this.kLast; k++)
                    acc += this.table[row + k] * work[at - k];
                o[i] = acc;
            }
            hist.set(work.subarray(length, length + this.taps));
        }
        this.inputCount += length;
        this.outputCount += count;
        return out;
    }
    workBuffer(length) {
        if (this.work.length < length)
            this.work = new Float32Array(length);
        return this.work.subarray(0, length);
    }
    /** Pushes the zeros that bring every input sample's delayed image out. */
    flush() {
        const zeros = Array.from({ length: this.channels }, () => new Float32Array(this.delayInputSamples + 1));
        return this.push(zeros);
    }
}
//# sourceMappingURL=resampler.js.map