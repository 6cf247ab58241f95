export class VadSmoother {
    threshold;
    alpha;
    onHops;
    offHops;
    smoothed = 0;
    started = false;
    activeState = false;
    runLength = 0;
    runStartOffset = 0;
    constructor(options) {
        if (!(options.hopMs > 0))
            throw new RangeError(`hopMs must be positive, got ${options.hopMs}`);
        this.threshold = options.threshold;
        const smoothingMs = options.smoothingMs ?? 20;
        this.alpha = smoothingMs > 0 ? Math.exp(-options.hopMs / smoothingMs) : 0;
        this.onHops = Math.max(1, Math.round((options.onMs ?? 30) / options.hopMs));
        this.offHops = Math.max(1, Math.round((options.offMs ?? 150) / options.hopMs));
    }
    get active() {
        return this.activeState;
    }
    /** Feeds one hop's probability; returns the transition it completes, if any. */
    push(prob, sampleOffset) {
        this.smoothed = this.started ? this.alpha * this.smoothed + (1 - this.alpha) * prob : prob;
        this.started = true;
        const above = this.smoothed >= this.threshold;
        if (above === this.activeState) {
            this.runLength = 0;
            return undefined;
        }
        if (this.runLength === 0)
            this.runStartOffset = sampleOffset;
        this.runLength++;
        if (this.runLength < (above ? this.onHops : this.offHops))
            return undefined;
        this.activeState = above;
        this.runLength = 0;
        return { active: above, sampleOffset: this.runStartOffset };
    }
    reset() {
        this.smoothed = 0;
        this.started = false;
        this.activeState = false;
        this.runLength = 0;
    }
}
//# sourceMappingURL=vad-smoother.js.map