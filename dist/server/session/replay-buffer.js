/**
 * Output retained for resume: the last `retainSamples` of output (every kind, as the encoded frames that were sent,
 * plus their VAD message), so a client reconnecting after a drop can ask for everything from the offset it last
 * received completely. Bounded by samples; older spans are dropped as new ones arrive.
 */
import { decodeAudioFrame, encodeAudioFrame } from "../../client-sdk/src/protocol/index.js";
export class ReplayBuffer {
    retainSamples;
    spans = [];
    endOffset = 0;
    constructor(retainSamples) {
        this.retainSamples = retainSamples;
    }
    /** Offset after the newest retained (or produced) sample. */
    get producedSamples() {
        return this.endOffset;
    }
    get oldestOffset() {
        return this.spans[0]?.sampleOffset ?? this.endOffset;
    }
    add(span) {
        this.endOffset = span.sampleOffset + span.sampleCount;
        if (this.retainSamples <= 0)
            return;
        this.spans.push(span);
        const keepFrom = this.endOffset - this.retainSamples;
        let drop = 0;
        while (drop < this.spans.length - 1 && this.spans[drop].sampleOffset + this.spans[drop].sampleCount <= keepFrom)
            drop++;
        if (drop > 0)
            this.spans = this.spans.slice(drop);
    }
    check(fromOffset) {
        if (fromOffset > this.endOffset) {
            return { ok: false, detail: `lastSampleOffset ${fromOffset} is beyond the ${this.endOffset} samples produced` };
        }
        if (fromOffset < this.oldestOffset) {
            return { ok: false, detail: `lastSampleOffset ${fromOffset} is older than the oldest retained sample ${this.oldestOffset}` };
        }
        return { ok: true };
    }
    /**
     * Frames and VAD messages covering [fromOffset, produced), re-sequenced from `nextSequence`; a span straddling
     * `fromOffset` is cut there so no sample is sent twice.
     */
    replay(fromOffset, nextSequence) {
        const out = [];
        for (const span of this.spans) {
            const end = span.sampleOffset + span.sampleCount;
            if (end <= fromOffset && span.sampleCount > 0)
                continue;
            const cut = Math.max(0, fromOffset - span.sampleOffset);
            for (const bytes of span.frames) {
                const frame = decodeAudioFrame(bytes);
                out.push(encodeAudioFrame({ kind: frame.kind, format: frame.format, sequence: nextSequence(), sampleOffset: frame.sampleOffset + cut, sampleRateHz: frame.sampleRateHz }, frame.samples.map((ch) => ch.subarray(cut))));
            }
            if (span.vad) {
                const vad = cutVad(span.vad, fromOffset);
                if (vad)
                    out.push(vad);
            }
        }
        return out;
    }
}
function cutVad(vad, fromOffset) {
    let first = 0;
    while (first < vad.probs.length && Math.round(vad.sampleOffset + first * vad.hopSamples) < fromOffset)
        first++;
    if (first === vad.probs.length)
        return undefined;
    if (first === 0)
        return vad;
    return {
        ...vad,
        sampleOffset: vad.sampleOffset + first * vad.hopSamples,
        probs: vad.probs.slice(first),
        transitions: vad.transitions.filter((t) => t.sampleOffset >= fromOffset),
    };
}
//# sourceMappingURL=replay-buffer.js.map