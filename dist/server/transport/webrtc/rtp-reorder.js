/**
 * Orders incoming RTP packets by sequence number (pure, no clock). In-order packets pass straight through, so the
 * common case adds no delay; a packet that arrives after a gap is held until the missing ones arrive or until
 * `maxHoldPackets` are waiting, then the gap is declared lost (`missing`, to be filled by the caller) and the held
 * packets are released. Packets older than what was already released are dropped and counted as late.
 */
/** Signed distance a − b on the 16-bit sequence circle. */
export function seqDiff(a, b) {
    return ((((a - b) & 0xffff) + 0x8000) & 0xffff) - 0x8000;
}
export class RtpReorderBuffer {
    #maxHoldPackets;
    /** A jump larger than this (peer restarted or paused for long) is filled with at most this many missing packets. */
    #maxGapPackets;
    #expected;
    #held = new Map();
    stats = { received: 0, reordered: 0, late: 0, missing: 0 };
    constructor(maxHoldPackets = 3, maxGapPackets = 50) {
        this.#maxHoldPackets = maxHoldPackets;
        this.#maxGapPackets = maxGapPackets;
    }
    get heldPackets() {
        return this.#held.size;
    }
    push(sequence, payload) {
        this.stats.received++;
        const out = [];
        if (this.#expected === undefined)
            this.#expected = sequence;
        const d = seqDiff(sequence, this.#expected);
        if (d < 0 || this.#held.has(sequence)) {
            this.stats.late++;
            return out;
        }
        if (d === 0) {
            this.#emit(sequence, payload, out);
            this.#drain(out);
            return out;
        }
        if (d > this.#maxGapPackets) {
            // Too far ahead to wait for: the peer skipped. Release what we hold, then resync on this packet.
            this.#releaseAll(out);
            this.#missing(Math.min(seqDiff(sequence, this.#expected), this.#maxGapPackets), out);
            this.#expected = sequence;
            this.#emit(sequence, payload, out);
            return out;
        }
        this.stats.reordered++;
        this.#held.set(sequence, payload);
        if (this.#held.size > this.#maxHoldPackets)
            this.#releaseOldest(out);
        return out;
    }
    /** Releases everything held (end of stream), gaps reported as missing. */
    flush() {
        const out = [];
        this.#releaseAll(out);
        return out;
    }
    #emit(sequence, payload, out) {
        out.push({ kind: 'packet', sequence, payload });
        this.#expected = (sequence + 1) & 0xffff;
    }
    #missing(count, out) {
        if (count <= 0)
            return;
        this.stats.missing += count;
        out.push({ kind: 'missing', count });
    }
    #drain(out) {
        for (;;) {
            const next = this.#expected;
            const payload = this.#held.get(next);
            if (payload === undefined)
                return;
            this.#held.delete(next);
            this.#emit(next, payload, out);
        }
    }
    #releaseOldest(out) {
        let oldest;
        for (const seq of this.#held.keys()) {
            if (oldest === undefined || seqDiff(seq, oldest) < 0)
                oldest = seq;
        }
        if (oldest === undefined)
            return;
        this.#missing(seqDiff(oldest, this.#expected), out);
        this.#expected = oldest;
        this.#drain(out);
    }
    #releaseAll(out) {
        while (this.#held.size > 0)
            this.#releaseOldest(out);
    }
}
//# sourceMappingURL=rtp-reorder.js.map