import { PcmDecodeError, bytesPerSample, decodePcm } from "../../client-sdk/src/protocol/index.js";
import { INPUT_SAMPLE_LIMIT, clampSamples } from "./input-clamp.js";
export function takeAudio(p, bytes, ctx) {
    const { audio, adjustments } = p;
    if (ctx.flushedForShutdown) {
        const samples = Math.floor(bytes.byteLength / (bytesPerSample(audio.inputFormat) * audio.inputChannels));
        adjustments.inputIgnoredSamples += samples;
        ctx.metrics.inputAdjustedSamples.inc({ reason: 'ignored-after-shutdown' }, samples);
        return { kind: 'ignored' };
    }
    let samples;
    try {
        samples = decodePcm(bytes, audio.inputFormat, audio.inputChannels);
    }
    catch (err) {
        const nonFinite = err instanceof PcmDecodeError && err.reason === 'non-finite';
        return { kind: 'refused', code: nonFinite ? 'LIVESTEM_ERR_NON_FINITE_SAMPLES' : 'LIVESTEM_ERR_MISALIGNED_FRAME', message: err.message };
    }
    if (audio.inputFormat === 'f32le') {
        const clamped = clampSamples(samples, INPUT_SAMPLE_LIMIT);
        if (clamped > 0) {
            adjustments.inputClampedSamples += clamped;
            ctx.metrics.inputAdjustedSamples.inc({ reason: 'clamped' }, clamped);
        }
    }
    const length = samples[0].length;
    ctx.metrics.inputMessages.inc();
    ctx.metrics.inputSeconds.inc(length / audio.inputSampleRateHz);
    const maxMs = ctx.maxBufferedInputMs;
    // Only a message arriving while the buffer is already full is refused: a single message may hold any duration the
    // byte limit allows, and TCP backpressure (reading pauses at half) keeps a well-behaved client below the limit.
    if (ctx.inputBackpressure && p.bufferedInputMs >= maxMs) {
        return { kind: 'refused', code: 'LIVESTEM_ERR_INPUT_OVERRUN', message: `${p.bufferedInputMs.toFixed(0)} ms of audio already waiting, limit ${maxMs} ms: send at most real time` };
    }
    p.pushAudio(samples, ctx.nowMs);
    if (!ctx.inputBackpressure) {
        if (p.bufferedInputMs <= maxMs)
            return { kind: 'queued', pauseInput: false, dropped: undefined };
        const dropped = p.dropOldestInput(maxMs / 2);
        if (dropped.samples > 0)
            ctx.metrics.inputAdjustedSamples.inc({ reason: 'dropped-overrun' }, dropped.samples);
        return { kind: 'queued', pauseInput: false, dropped: dropped.samples > 0 ? dropped : undefined };
    }
    return { kind: 'queued', pauseInput: p.bufferedInputMs > maxMs / 2, dropped: undefined };
}
//# sourceMappingURL=audio-intake.js.map