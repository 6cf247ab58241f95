import { encodeAudioFrame } from "../../client-sdk/src/protocol/index.js";
import { OutputFramer } from "../pipeline/output-framer.js";
import { SeparationPipeline } from "../pipeline/separation-pipeline.js";
import { VadSmoother } from "../pipeline/vad-smoother.js";
import { InputQueue } from "./input-queue.js";
import { ReplayBuffer } from "./replay-buffer.js";
export class StreamProcessor {
    options;
    sink;
    onError;
    audio;
    manifest;
    pipeline;
    queue = new InputQueue();
    replay;
    /** Input not processed exactly as sent (the session counts it; stats and done report it). */
    adjustments = { inputClampedSamples: 0, inputDroppedSamples: 0, inputIgnoredSamples: 0 };
    model;
    framer;
    vad;
    frameDue = [];
    sequence = 0;
    pushedInput = 0;
    firstAudioMs;
    late = 0;
    latency = { last: 0, sum: 0, count: 0, max: 0 };
    pumping = false;
    stopped = false;
    pumpPromise = Promise.resolve();
    constructor(options, sink, onError) {
        this.options = options;
        this.sink = sink;
        this.onError = onError;
        const { audio, manifest } = options;
        this.audio = audio;
        this.manifest = manifest;
        this.model = options.model;
        this.pipeline = new SeparationPipeline({
            model: manifest,
            inputRateHz: audio.inputSampleRateHz,
            inputChannels: audio.inputChannels,
            outputRateHz: audio.outputSampleRateHz,
        });
        const hopMs = (manifest.stft.hopSamples / manifest.sampleRateHz) * 1000;
        this.vad = audio.vad ? new VadSmoother({ threshold: manifest.vadThreshold, hopMs }) : undefined;
        this.framer = new OutputFramer(audio.inputChannels, { outputs: audio.outputs, vocalGain: audio.vocalGain }, this.vad, this.pipeline.vadHopSamples);
        this.replay = new ReplayBuffer(Math.ceil((options.retainOutputMs / 1000) * audio.outputSampleRateHz));
    }
    get bufferedInputMs() {
        return (this.queue.bufferedSamples / this.audio.inputSampleRateHz) * 1000;
    }
    /** Input samples received (processed or queued): where a resuming client continues. */
    get inputSamplesReceived() {
        return this.pipeline.inputSamples + this.queue.bufferedSamples;
    }
    /** Output samples handed to the client side (sent or, while detached, retained). */
    get outputSamplesEmitted() {
        return this.pipeline.outputSamples - this.framer.pendingSamples;
    }
    get lateFrames() {
        return this.late;
    }
    get latencyStats() {
        const l = this.latency;
        return { last: l.last, mean: l.count > 0 ? l.sum / l.count : 0, max: l.max };
    }
    get outputConfig() {
        return this.framer.config;
    }
    nextSequence() {
        return this.sequence++;
    }
    pushAudio(samples, arrivalMs) {
        this.firstAudioMs ??= arrivalMs;
        this.queue.pushAudio(samples, arrivalMs);
        this.kick();
    }
    /**
     * Drops the oldest queued input until at most `keepMs` is queued; returns what was dropped (samples, and the input
     * offset of the first one). Output keeps counting contiguously: dropped input simply never reaches the pipeline.
     */
    dropOldestInput(keepMs) {
        const keepSamples = Math.floor((keepMs / 1000) * this.audio.inputSampleRateHz);
        const inputSampleOffset = this.pipeline.inputSamples + this.adjustments.inputDroppedSamples;
        const samples = this.queue.dropOldestAudio(Math.max(0, this.queue.bufferedSamples - keepSamples));
        this.adjustments.inputDroppedSamples += samples;
        return { samples, inputSampleOffset };
    }
    pushMarker(marker) {
        this.queue.pushMarker(marker);
        this.kick();
    }
    /** Applies from the first output sample not yet emitted; returns that offset. */
    configure(change) {
        this.framer.configure(change);
        return this.outputSamplesEmitted;
    }
    /** Restarts processing after a resume (output held while detached goes out now). */
    kick() {
        if (this.pumping || this.stopped)
            return;
        this.pumping = true;
        this.pumpPromise = this.pump().catch((err) => {
            this.pumping = false;
            this.onError(err);
        });
    }
    /** Resolves when the current processing loop has run out of work (benchmarks, tests). */
    idle() {
        return this.pumpPromise;
    }
    /** Stops processing; an in-flight model step still settles. Resolves when the loop has exited. */
    async stop() {
        this.stopped = true;
        this.model.close();
        await this.pumpPromise;
    }
    /** Runs until no frame can be made; the flag is cleared synchronously with that decision so no input strands. */
    async pump() {
        const { pipeline, queue, framer } = this;
        for (;;) {
            if (this.stopped)
                break;
            if (pipeline.framesPending === 0)
                this.feed();
            if (pipeline.framesPending > 0) {
                const out = await this.model.step(pipeline.nextFeatures());
                if (this.stopped)
                    break;
                const block = pipeline.completeFrame(out.mask, out.vadProb);
                framer.add(block, this.frameDue.shift() ?? this.options.now());
                this.options.metrics.modelFrames.inc();
                const moreReady = pipeline.framesPending > 0 || queue.peek()?.kind === 'audio';
                if (!moreReady || framer.pendingSamples >= this.options.maxFrameSamples)
                    this.emit();
                continue;
            }
            this.emit();
            const head = queue.peek();
            if (head?.kind !== 'marker')
                break;
            if (!pipeline.ended) {
                const before = pipeline.framesPending;
                pipeline.end();
                for (let i = before; i < pipeline.framesPending; i++)
                    this.frameDue.push(this.options.now());
                continue;
            }
            if (!pipeline.segmentComplete)
                throw new Error('segment ended without producing all of its output');
            queue.shift();
            if (head.marker === 'end') {
                this.pumping = false;
                this.sink.drained();
                return;
            }
            this.sink.flushed(pipeline.outputSamples);
            pipeline.startNextSegment();
            this.model.resetState();
            this.vad?.reset();
        }
        this.pumping = false;
    }
    /** Moves queued audio into the pipeline until it has a frame ready (or the queue has none / reaches a marker). */
    feed() {
        const { pipeline, queue, audio } = this;
        const ratio = audio.inputSampleRateHz / this.manifest.sampleRateHz;
        while (pipeline.framesPending === 0) {
            const piece = queue.takeAudio(Math.ceil(pipeline.samplesToNextFrame * ratio) + 1);
            if (!piece)
                break;
            const before = pipeline.framesPending;
            pipeline.push(piece.samples);
            this.pushedInput += piece.samples[0].length;
            // A hop is due when its input arrived and, for a client ahead of real time, when real time reaches it.
            const realTimeMs = this.firstAudioMs + (this.pushedInput / audio.inputSampleRateHz) * 1000;
            for (let i = before; i < pipeline.framesPending; i++)
                this.frameDue.push(Math.max(piece.arrivalMs, realTimeMs));
        }
        if (this.bufferedInputMs < this.options.lowWaterInputMs)
            this.sink.inputBelowLowWater();
    }
    emit() {
        const out = this.framer.take();
        if (!out)
            return;
        for (const s of out.streams)
            this.zeroNonFinite(s.samples);
        const frames = out.streams.map((s) => encodeAudioFrame({
            kind: s.kind,
            format: this.audio.outputFormat,
            sequence: this.sequence++,
            sampleOffset: out.sampleOffset,
            sampleRateHz: this.audio.outputSampleRateHz,
        }, s.samples));
        this.replay.add({ sampleOffset: out.sampleOffset, sampleCount: out.sampleCount, frames, vad: out.vad });
        const sending = this.sink.canSend();
        if (sending) {
            for (const [i, bytes] of frames.entries()) {
                this.sink.sendFrame(bytes);
                this.options.metrics.outputFrames.inc({ kind: out.streams[i].kind });
            }
            if (out.vad)
                this.sink.sendVad(out.vad);
        }
        this.account(out);
        if (sending)
            this.sink.afterSend();
    }
    /** Output is always finite: input is clamped, so a non-finite sample here is a model bug — counted, sent as 0. */
    zeroNonFinite(channels) {
        let bad = 0;
        for (const ch of channels) {
            for (let i = 0; i < ch.length; i++) {
                if (!Number.isFinite(ch[i])) {
                    ch[i] = 0;
                    bad++;
                }
            }
        }
        if (bad > 0)
            this.options.metrics.outputNonFiniteSamples.inc(bad);
    }
    account(out) {
        const now = this.options.now();
        for (const due of out.dueMs) {
            const latencyMs = Math.max(0, now - due);
            this.options.metrics.hopLatencySeconds.observe(latencyMs / 1000);
            const l = this.latency;
            l.last = latencyMs;
            l.sum += latencyMs;
            l.count++;
            l.max = Math.max(l.max, latencyMs);
            if (latencyMs > this.options.lateFrameMs) {
                this.late++;
                this.options.metrics.lateFrames.inc();
            }
        }
    }
}
//# sourceMappingURL=stream-processor.js.map