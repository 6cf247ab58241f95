/**
 * Builds the session's descriptive server messages (ready / resumed / stats / done) from its processor's state.
 * Pure functions of their arguments.
 */
import { PROTOCOL_VERSION, } from "../../client-sdk/src/protocol/index.js";
export function readyMessage(who, p, limits) {
    const m = p.manifest;
    const latency = p.pipeline.latencySamples;
    return {
        type: 'ready',
        protocolVersion: PROTOCOL_VERSION,
        sessionId: who.id,
        resumeToken: who.resumeToken,
        ...(who.streamId !== undefined ? { streamId: who.streamId } : {}),
        model: { name: m.name, arch: m.arch, sampleRateHz: m.sampleRateHz, nFft: m.stft.nFft, hopSamples: m.stft.hopSamples },
        input: { sampleRateHz: p.audio.inputSampleRateHz, channels: p.audio.inputChannels, format: p.audio.inputFormat },
        output: { sampleRateHz: p.audio.outputSampleRateHz, channels: p.audio.inputChannels, format: p.audio.outputFormat, ...p.outputConfig },
        latency: { samples: latency, ms: (latency / p.audio.outputSampleRateHz) * 1000 },
        vadHopSamples: p.pipeline.vadHopSamples,
        limits,
    };
}
export function resumedMessage(who, p, limits, fromOffset) {
    const { type: _ready, ...fields } = readyMessage(who, p, limits);
    return { ...fields, type: 'resumed', inputSamples: p.inputSamplesReceived, outputSampleOffset: fromOffset };
}
export function statsMessage(who, p, extra) {
    return {
        type: 'stats',
        ...(extra.id !== undefined ? { id: extra.id } : {}),
        sessionId: who.id,
        state: extra.state,
        inputSamples: p.inputSamplesReceived,
        outputSamples: p.outputSamplesEmitted,
        frames: p.pipeline.framesProcessed,
        lateFrames: p.lateFrames,
        bufferedInputMs: p.bufferedInputMs,
        sendBufferedBytes: extra.sendBufferedBytes,
        processingLatencyMs: p.latencyStats,
        uptimeMs: extra.uptimeMs,
        ...p.adjustments,
    };
}
export function doneMessage(p, reason, durationMs) {
    return {
        type: 'done',
        reason,
        inputSamples: p?.pipeline.inputSamples ?? 0,
        outputSamples: p?.pipeline.outputSamples ?? 0,
        frames: p?.pipeline.framesProcessed ?? 0,
        lateFrames: p?.lateFrames ?? 0,
        durationMs,
        inputClampedSamples: p?.adjustments.inputClampedSamples ?? 0,
        inputDroppedSamples: p?.adjustments.inputDroppedSamples ?? 0,
        inputIgnoredSamples: p?.adjustments.inputIgnoredSamples ?? 0,
    };
}
//# sourceMappingURL=session-messages.js.map