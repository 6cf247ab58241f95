/**
 * Planar FIFO of samples (one growable buffer per channel, read/write indices, compacted in place). Used as the
 * model-rate delay line that lines the mixture up with the overlap-add output.
 */
export class SampleFifo {
    channels;
    buffers;
    read = 0;
    write = 0;
    constructor(channels, initialZeros = 0) {
        this.channels = channels;
        this.buffers = Array.from({ length: channels }, () => new Float32Array(Math.max(1024, 2 * initialZeros)));
        this.write = initialZeros;
    }
    get length() {
        return this.write - this.read;
    }
    push(chunk) {
        const n = chunk[0]?.length ?? 0;
        if (n === 0)
            return;
        if (this.write + n > this.buffers[0].length)
            this.makeRoom(n);
        chunk.forEach((ch, c) => this.buffers[c].set(ch, this.write));
        this.write += n;
    }
    /** Removes and returns the oldest `count` samples per channel (copies). */
    shift(count) {
        if (count > this.length)
            throw new RangeError(`fifo holds ${this.length} samples, ${count} requested`);
        const out = this.buffers.map((b) => b.slice(this.read, this.read + count));
        this.read += count;
        return out;
    }
    makeRoom(n) {
        const live = this.length;
        const size = Math.max(this.buffers[0].length, 2 * (live + n));
        this.buffers = this.buffers.map((b) => {
            if (size === b.length) {
                b.copyWithin(0, this.read, this.write);
                return b;
            }
            const next = new Float32Array(size);
            next.set(b.subarray(this.read, this.write), 0);
            return next;
        });
        this.read = 0;
        this.write = live;
    }
}
//# sourceMappingURL=sample-fifo.js.map