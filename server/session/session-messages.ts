/**
 * Builds the session's descriptive server messages (ready / resumed / stats / done) from its stream's state.
 * Pure functions of their arguments.
 */
import {
  PROTOCOL_VERSION,
  type DoneMessage,
  type ReadyMessage,
  type ResumedMessage,
  type SessionLimits,
  type StatsMessage,
} from '../../client-sdk/src/protocol/index.ts';
import type { SessionStream } from './session-stream.ts';

export interface SessionIdentity {
  id: string;
  resumeToken: string;
  streamId: string | undefined;
}

export function readyMessage(who: SessionIdentity, p: SessionStream, limits: SessionLimits): ReadyMessage {
  const m = p.manifest;
  const latency = p.timing.latencySamples;
  return {
    type: 'ready',
    protocolVersion: PROTOCOL_VERSION,
    sessionId: who.id,
    resumeToken: who.resumeToken,
    ...(who.streamId !== undefined ? { streamId: who.streamId } : {}),
    model: { name: m.name, arch: m.arch, sampleRateHz: m.sampleRateHz, nFft: m.stft.nFft, hopSamples: m.stft.hopSamples },
    input: { sampleRateHz: p.audio.inputSampleRateHz, channels: p.audio.inputChannels, format: p.audio.inputFormat },
    output: {
      sampleRateHz: p.audio.outputSampleRateHz,
      channels: p.audio.inputChannels,
      format: p.audio.outputFormat,
      ...p.outputConfig,
      framing: p.audio.outputFraming,
    },
    latency: { samples: latency, ms: (latency / p.audio.outputSampleRateHz) * 1000 },
    vadHopSamples: p.timing.vadHopSamples,
    limits,
  };
}

export function resumedMessage(who: SessionIdentity, p: SessionStream, limits: SessionLimits, fromOffset: number): ResumedMessage {
  const { type: _ready, ...fields } = readyMessage(who, p, limits);
  return { ...fields, type: 'resumed', inputSamples: p.ledger.inputSamplesReceived, outputSampleOffset: fromOffset };
}

export function statsMessage(
  who: SessionIdentity,
  p: SessionStream,
  extra: { id: string | number | null | undefined; state: string; sendBufferedBytes: number; uptimeMs: number },
): StatsMessage {
  return {
    type: 'stats',
    ...(extra.id !== undefined ? { id: extra.id } : {}),
    sessionId: who.id,
    state: extra.state,
    inputSamples: p.ledger.inputSamplesReceived,
    outputSamples: p.outputSamplesEmitted,
    frames: p.ledger.progress.framesProcessed,
    lateFrames: p.latency.lateFrames,
    bufferedInputMs: p.ledger.bufferedInputMs,
    sendBufferedBytes: extra.sendBufferedBytes,
    processingLatencyMs: p.latency.stats,
    serverAddedLatencyMs: p.latency.serverAddedStats,
    uptimeMs: extra.uptimeMs,
    ...p.ledger.adjustments,
  };
}

export function doneMessage(p: SessionStream | undefined, reason: 'end' | 'shutdown', durationMs: number): DoneMessage {
  const progress = p?.ledger.progress;
  return {
    type: 'done',
    reason,
    inputSamples: progress?.inputSamples ?? 0,
    outputSamples: progress?.outputSamples ?? 0,
    frames: progress?.framesProcessed ?? 0,
    lateFrames: p?.latency.lateFrames ?? 0,
    durationMs,
    inputClampedSamples: p?.ledger.adjustments.inputClampedSamples ?? 0,
    inputDroppedSamples: p?.ledger.adjustments.inputDroppedSamples ?? 0,
    inputIgnoredSamples: p?.ledger.adjustments.inputIgnoredSamples ?? 0,
  };
}
