/**
 * Latency compensation at the output rate: drops the chain's first `latencySamples` output samples so output t
 * aligns with input t, and once the segment has ended cuts the output at exactly the segment's output length.
 * Pure bookkeeping on planar slices (no copies).
 */
export class OutputAligner {
    latencySamples;
    toDrop;
    emitted = 0;
    limit = Infinity;
    constructor(latencySamples) {
        this.latencySamples = latencySamples;
        this.toDrop = latencySamples;
    }
    /** After the last real input: output stops at `totalSamples`. */
    end(totalSamples) {
        this.limit = totalSamples;
    }
    get emittedSamples() {
        return this.emitted;
    }
    get complete() {
        return this.emitted >= this.limit;
    }
    align(delayed) {
        const length = delayed[0]?.length ?? 0;
        const start = Math.min(length, this.toDrop);
        this.toDrop -= start;
        const end = Math.max(start, Math.min(length, start + (this.limit - this.emitted)));
        this.emitted += end - start;
        return delayed.map((ch) => ch.subarray(start, end));
    }
}
//# sourceMappingURL=output-aligner.js.map