export class OutputFramer {
    channels;
    vad;
    vadHopSamples;
    blocks = [];
    due = [];
    samples = 0;
    firstOffset;
    outputs;
    gain;
    constructor(channels, options, vad, vadHopSamples) {
        this.channels = channels;
        this.vad = vad;
        this.vadHopSamples = vadHopSamples;
        this.outputs = [...options.outputs];
        this.gain = options.vocalGain;
    }
    get pendingSamples() {
        return this.samples;
    }
    get config() {
        return { outputs: [...this.outputs], vocalGain: this.gain };
    }
    configure(change) {
        if (change.outputs)
            this.outputs = [...change.outputs];
        if (change.vocalGain !== undefined)
            this.gain = change.vocalGain;
    }
    add(block, dueMs) {
        const expected = this.firstOffset === undefined ? undefined : this.firstOffset + this.samples;
        if (expected !== undefined && block.sampleOffset !== expected) {
            throw new Error(`blocks not contiguous: ${block.sampleOffset} after ${expected}`);
        }
        this.firstOffset ??= block.sampleOffset;
        this.blocks.push(block);
        this.due.push(dueMs);
        this.samples += block.vocals[0]?.length ?? 0;
    }
    /** Everything added since the last take, or undefined when there is nothing (no audio and no VAD). */
    take() {
        if (this.blocks.length === 0)
            return undefined;
        const blocks = this.blocks;
        const sampleOffset = this.firstOffset;
        const sampleCount = this.samples;
        const dueMs = this.due;
        this.blocks = [];
        this.due = [];
        this.samples = 0;
        this.firstOffset = undefined;
        const vocals = this.concat(blocks, (b) => b.vocals, sampleCount);
        const accompaniment = this.concat(blocks, (b) => b.accompaniment, sampleCount);
        const streams = this.outputs.map((kind) => ({
            kind,
            samples: kind === 'vocals' ? vocals : kind === 'accompaniment' ? accompaniment : this.karaoke(vocals, accompaniment),
        }));
        return { sampleOffset, sampleCount, streams: sampleCount > 0 ? streams : [], vad: this.vadMessage(blocks), dueMs };
    }
    concat(blocks, pick, length) {
        return Array.from({ length: this.channels }, (_, c) => {
            if (blocks.length === 1)
                return pick(blocks[0])[c];
            const out = new Float32Array(length);
            let o = 0;
            for (const b of blocks) {
                const part = pick(b)[c];
                out.set(part, o);
                o += part.length;
            }
            return out;
        });
    }
    karaoke(vocals, accompaniment) {
        return accompaniment.map((a, c) => {
            const v = vocals[c];
            const out = new Float32Array(a.length);
            for (let i = 0; i < a.length; i++)
                out[i] = a[i] + this.gain * v[i];
            return out;
        });
    }
    vadMessage(blocks) {
        if (!this.vad)
            return undefined;
        const hops = blocks.flatMap((b) => (b.vad ? [b.vad] : []));
        if (hops.length === 0)
            return undefined;
        const transitions = hops.flatMap((h) => {
            const t = this.vad.push(h.prob, h.sampleOffset);
            return t ? [t] : [];
        });
        return {
            type: 'vad',
            sampleOffset: hops[0].sampleOffset,
            hopSamples: this.vadHopSamples,
            probs: hops.map((h) => h.prob),
            active: this.vad.active,
            transitions,
        };
    }
}
//# sourceMappingURL=output-framer.js.map