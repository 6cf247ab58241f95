/**
 * Streaming STFT analysis and overlap-add synthesis with an exact, declared latency.
 *
 * Framing (no centring, no future padding — a live stream has no future): frame k covers input samples
 * [(k+1)·hop − nFft, (k+1)·hop), samples before the stream start are zeros, and frame k is emitted as soon as
 * sample (k+1)·hop − 1 has arrived. Synthesis overlap-adds frame k and emits the hop samples that no later frame
 * touches, so analysis → synthesis reproduces the input delayed by exactly nFft − hop samples.
 */
import { RealFft } from "./fft.js";
import { makeWindow } from "./window.js";
export function stftLatencySamples(cfg) {
    return cfg.nFft - cfg.hopSamples;
}
export function stftBins(cfg) {
    return cfg.nFft / 2 + 1;
}
function validate(cfg) {
    if (!Number.isInteger(cfg.hopSamples) || cfg.hopSamples < 1 || cfg.hopSamples > cfg.nFft) {
        throw new RangeError(`hopSamples must be an integer in [1, nFft], got ${cfg.hopSamples}`);
    }
}
export function emptyFrame(bins, channels) {
    return {
        re: Array.from({ length: channels }, () => new Float32Array(bins)),
        im: Array.from({ length: channels }, () => new Float32Array(bins)),
    };
}
/** |X| per channel and bin; writes into `out` when given (reused buffers on the hot path). */
export function magnitude(frame, out) {
    const mags = out ?? frame.re.map((r) => new Float32Array(r.length));
    frame.re.forEach((re, c) => {
        const im = frame.im[c];
        const m = mags[c];
        for (let k = 0; k < re.length; k++)
            m[k] = Math.hypot(re[k], im[k]);
    });
    return mags;
}
export class StftAnalyzer {
    config;
    channels;
    bins;
    fft;
    window;
    /** Last nFft − hop samples followed by the `pending` newest ones, per channel. */
    history;
    windowed;
    windowedPair;
    pending = 0;
    frames = 0;
    constructor(config, channels) {
        validate(config);
        this.config = config;
        this.channels = channels;
        this.bins = stftBins(config);
        this.fft = new RealFft(config.nFft);
        this.window = makeWindow(config.window, config.nFft);
        this.history = Array.from({ length: channels }, () => new Float32Array(config.nFft));
        this.windowed = new Float64Array(config.nFft);
        this.windowedPair = new Float64Array(config.nFft);
    }
    get framesOut() {
        return this.frames;
    }
    /** Samples received since the last emitted frame (always < hop between calls). */
    get pendingSamples() {
        return this.pending;
    }
    push(chunk) {
        if (chunk.length !== this.channels) {
            throw new RangeError(`expected ${this.channels} channels, got ${chunk.length}`);
        }
        const { nFft, hopSamples } = this.config;
        const length = chunk[0]?.length ?? 0;
        const out = [];
        const base = nFft - hopSamples;
        let offset = 0;
        while (offset < length) {
            const take = Math.min(hopSamples - this.pending, length - offset);
            for (let c = 0; c < this.channels; c++) {
                this.history[c].set(chunk[c].subarray(offset, offset + take), base + this.pending);
            }
            this.pending += take;
            offset += take;
            if (this.pending === hopSamples) {
                out.push(this.analyse());
                for (const h of this.history)
                    h.copyWithin(0, hopSamples);
                this.pending = 0;
            }
        }
        return out;
    }
    reset() {
        for (const h of this.history)
            h.fill(0);
        this.pending = 0;
        this.frames = 0;
    }
    analyse() {
        const frame = emptyFrame(this.bins, this.channels);
        const { nFft } = this.config;
        let c = 0;
        for (; c + 1 < this.channels; c += 2) {
            const a = this.history[c];
            const b = this.history[c + 1];
            for (let n = 0; n < nFft; n++) {
                this.windowed[n] = a[n] * this.window[n];
                this.windowedPair[n] = b[n] * this.window[n];
            }
            this.fft.forwardPair(this.windowed, this.windowedPair, frame.re[c], frame.im[c], frame.re[c + 1], frame.im[c + 1]);
        }
        if (c < this.channels) {
            const h = this.history[c];
            for (let n = 0; n < nFft; n++)
                this.windowed[n] = h[n] * this.window[n];
            this.fft.forward(this.windowed, frame.re[c], frame.im[c]);
        }
        this.frames++;
        return frame;
    }
}
/**
 * Synthesis window scaled so that Σ_k analysis·synthesis over hop-shifted copies is exactly 1 at every sample
 * (per-position normalisation: works for any window pair that overlaps without gaps, not only COLA pairs).
 */
export function synthesisWindow(config) {
    const { nFft, hopSamples } = config;
    const analysis = makeWindow(config.window, nFft);
    const norm = new Float64Array(hopSamples);
    for (let n = 0; n < nFft; n++)
        norm[n % hopSamples] += analysis[n] * analysis[n];
    const out = new Float32Array(nFft);
    for (let n = 0; n < nFft; n++) {
        const s = norm[n % hopSamples];
        if (s < 1e-8)
            throw new RangeError(`window ${config.window} with hop ${hopSamples} leaves gaps (no reconstruction)`);
        out[n] = analysis[n] / s;
    }
    return out;
}
export class OlaSynthesizer {
    config;
    channels;
    fft;
    window;
    accumulator;
    frameTime;
    constructor(config, channels) {
        validate(config);
        this.config = config;
        this.channels = channels;
        this.fft = new RealFft(config.nFft);
        this.window = synthesisWindow(config);
        this.accumulator = Array.from({ length: channels }, () => new Float64Array(config.nFft));
        this.frameTime = Array.from({ length: channels }, () => new Float64Array(config.nFft));
    }
    get latencySamples() {
        return stftLatencySamples(this.config);
    }
    /** Adds one frame; returns the hop samples per channel that are now final. */
    push(frame) {
        const { nFft, hopSamples } = this.config;
        let c = 0;
        for (; c + 1 < this.channels; c += 2) {
            this.fft.inversePair(frame.re[c], frame.im[c], frame.re[c + 1], frame.im[c + 1], this.frameTime[c], this.frameTime[c + 1]);
        }
        if (c < this.channels)
            this.fft.inverse(frame.re[c], frame.im[c], this.frameTime[c]);
        const out = [];
        for (c = 0; c < this.channels; c++) {
            const acc = this.accumulator[c];
            const time = this.frameTime[c];
            for (let n = 0; n < nFft; n++)
                acc[n] += time[n] * this.window[n];
            out.push(Float32Array.from(acc.subarray(0, hopSamples)));
            acc.copyWithin(0, hopSamples);
            acc.fill(0, nFft - hopSamples);
        }
        return out;
    }
    reset() {
        for (const a of this.accumulator)
            a.fill(0);
    }
}
/**
 * STFT of a whole signal with the streaming framing (complete frames only: floor(length / hop)).
 * Written directly from the framing definition rather than through StftAnalyzer, so that tests comparing the two
 * check the streaming bookkeeping against an independent computation.
 */
export function offlineStft(signal, config) {
    validate(config);
    const { nFft, hopSamples } = config;
    const fft = new RealFft(nFft);
    const window = makeWindow(config.window, nFft);
    const length = signal[0]?.length ?? 0;
    const frameCount = Math.floor(length / hopSamples);
    const windowed = new Float64Array(nFft);
    const frames = [];
    for (let k = 0; k < frameCount; k++) {
        const start = (k + 1) * hopSamples - nFft;
        const frame = emptyFrame(stftBins(config), signal.length);
        signal.forEach((x, c) => {
            for (let n = 0; n < nFft; n++)
                windowed[n] = start + n < 0 ? 0 : x[start + n] * window[n];
            fft.forward(windowed, frame.re[c], frame.im[c]);
        });
        frames.push(frame);
    }
    return frames;
}
//# sourceMappingURL=stft.js.map