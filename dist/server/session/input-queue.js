export class InputQueue {
    items = [];
    head = 0;
    audioSamples = 0;
    /** Audio samples (per channel) queued and not yet taken. */
    get bufferedSamples() {
        return this.audioSamples;
    }
    pushAudio(samples, arrivalMs) {
        const length = samples[0]?.length ?? 0;
        if (length === 0)
            return;
        this.items.push({ kind: 'audio', samples, offset: 0, arrivalMs });
        this.audioSamples += length;
    }
    pushMarker(marker) {
        this.items.push({ kind: 'marker', marker });
    }
    peek() {
        return this.items[this.head];
    }
    /** Takes up to `maxSamples` from the head audio item (never across items). */
    takeAudio(maxSamples) {
        const item = this.items[this.head];
        if (!item || item.kind !== 'audio')
            return undefined;
        const length = item.samples[0].length;
        const end = Math.min(length, item.offset + Math.max(1, maxSamples));
        const samples = item.samples.map((ch) => ch.subarray(item.offset, end));
        this.audioSamples -= end - item.offset;
        item.offset = end;
        if (end === length)
            this.shift();
        return { samples, arrivalMs: item.arrivalMs };
    }
    /**
     * Discards up to `maxSamples` of the oldest queued audio, never past a marker (a flush or end must still apply
     * exactly after the audio sent before it). Returns how many samples were discarded.
     */
    dropOldestAudio(maxSamples) {
        let dropped = 0;
        for (let item = this.items[this.head]; item?.kind === 'audio' && dropped < maxSamples; item = this.items[this.head]) {
            const available = item.samples[0].length - item.offset;
            const take = Math.min(available, maxSamples - dropped);
            item.offset += take;
            dropped += take;
            if (take === available)
                this.shift();
        }
        this.audioSamples -= dropped;
        return dropped;
    }
    /** Drops the head item (a marker once it has been applied). */
    shift() {
        this.head++;
        if (this.head > 64 && this.head * 2 > this.items.length) {
            this.items.splice(0, this.head);
            this.head = 0;
        }
    }
}
//# sourceMappingURL=input-queue.js.map