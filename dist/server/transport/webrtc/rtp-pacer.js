/**
 * Sends the output tracks' 20 ms Opus packets on the wall clock. Frame n of every track leaves at t0 + n·20 ms
 * (t0 = when the first output arrived), whatever the rhythm in which the session produced the audio; when a track
 * has nothing ready at its slot, every track sends a silent frame (counted as underruns), which keeps the RTP
 * timelines continuous and the tracks aligned frame for frame. If the
 * event loop stalled, up to `maxBurstFrames` overdue slots are caught up at once and the rest skipped (counted).
 * A queue that stays above `targetQueuedFrames` for `trimAfterSlots` slots (output arrived in a burst after a stall)
 * is trimmed by one frame, so a hiccup does not leave a standing delay for the rest of the stream.
 */
import { RtpHeader, RtpPacket } from 'werift';
import { FRAME_SAMPLES, FrameQueue, OpusFrameEncoder } from "./opus-egress.js";
const FRAME_MS = 20;
export class RtpPacer {
    #lanes = new Map();
    #maxBurstFrames;
    #silence = [new Float32Array(FRAME_SAMPLES), new Float32Array(FRAME_SAMPLES)];
    #t0;
    #slotsSent = 0;
    #timer;
    #stopped = false;
    #stats = { sentPackets: 0, underrunFrames: 0, skippedSlots: 0, trimmedFrames: 0 };
    #targetQueuedFrames;
    #trimAfterSlots;
    #slotsOverTarget = 0;
    constructor(tracks, opts = {}) {
        this.#targetQueuedFrames = opts.targetQueuedFrames ?? 3;
        this.#trimAfterSlots = opts.trimAfterSlots ?? 25;
        for (const [kind, track] of tracks) {
            this.#lanes.set(kind, {
                track,
                queue: new FrameQueue(opts.maxQueuedFrames ?? 15),
                encoder: new OpusFrameEncoder(opts.bitrateBps),
                sequence: Math.floor(Math.random() * 0x10000),
                timestamp: Math.floor(Math.random() * 0x100000000),
            });
        }
        this.#maxBurstFrames = opts.maxBurstFrames ?? 10;
    }
    push(kind, block) {
        if (this.#stopped)
            return;
        const lane = this.#lanes.get(kind);
        if (lane === undefined)
            return;
        lane.queue.push(block);
        if (this.#t0 === undefined && lane.queue.queuedFrames > 0) {
            this.#t0 = performance.now();
            this.#tick();
        }
    }
    get stats() {
        let droppedFrames = 0;
        let queued = 0;
        for (const lane of this.#lanes.values()) {
            droppedFrames += lane.queue.droppedFrames;
            queued = Math.max(queued, lane.queue.queuedFrames);
        }
        return {
            sentPackets: this.#stats.sentPackets,
            underrunFrames: this.#stats.underrunFrames,
            skippedSlots: this.#stats.skippedSlots,
            droppedFrames: droppedFrames + this.#stats.trimmedFrames,
            queuedMs: queued * FRAME_MS,
        };
    }
    stop() {
        this.#stopped = true;
        clearTimeout(this.#timer);
        for (const lane of this.#lanes.values())
            lane.encoder.delete();
    }
    #tick() {
        if (this.#stopped || this.#t0 === undefined)
            return;
        const elapsedMs = performance.now() - this.#t0;
        const due = Math.floor(elapsedMs / FRAME_MS) + 1;
        let behind = due - this.#slotsSent;
        if (behind > this.#maxBurstFrames) {
            const skip = behind - this.#maxBurstFrames;
            this.#stats.skippedSlots += skip;
            this.#slotsSent += skip;
            for (const lane of this.#lanes.values()) {
                lane.timestamp = (lane.timestamp + skip * FRAME_SAMPLES) >>> 0;
                lane.sequence = (lane.sequence + skip) & 0xffff;
            }
            behind = this.#maxBurstFrames;
        }
        for (let i = 0; i < behind; i++)
            this.#sendSlot();
        const nextMs = this.#t0 + (this.#slotsSent) * FRAME_MS - performance.now();
        this.#timer = setTimeout(() => this.#tick(), Math.max(1, nextMs));
    }
    #sendSlot() {
        const first = this.#slotsSent === 0;
        let minQueued = Infinity;
        for (const lane of this.#lanes.values())
            minQueued = Math.min(minQueued, lane.queue.queuedFrames);
        this.#slotsOverTarget = minQueued > this.#targetQueuedFrames ? this.#slotsOverTarget + 1 : 0;
        if (this.#slotsOverTarget >= this.#trimAfterSlots) {
            for (const lane of this.#lanes.values())
                lane.queue.shift();
            this.#stats.trimmedFrames += this.#lanes.size;
            this.#slotsOverTarget = 0;
        }
        // The tracks are parts of one signal (vocals + accompaniment = input): a slot carries the same frame index on
        // every track, so when any track is short all of them send silence and keep their frames for the next slot.
        const ready = minQueued > 0;
        for (const lane of this.#lanes.values()) {
            let frame = ready ? lane.queue.shift() : undefined;
            if (frame === undefined) {
                this.#stats.underrunFrames++;
                frame = this.#silence;
            }
            const header = new RtpHeader({ payloadType: 111, sequenceNumber: lane.sequence, timestamp: lane.timestamp, marker: first });
            lane.track.writeRtp(new RtpPacket(header, lane.encoder.encode(frame)));
            lane.sequence = (lane.sequence + 1) & 0xffff;
            lane.timestamp = (lane.timestamp + FRAME_SAMPLES) >>> 0;
            this.#stats.sentPackets++;
        }
        this.#slotsSent++;
    }
}
//# sourceMappingURL=rtp-pacer.js.map