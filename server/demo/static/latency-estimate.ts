/**
 * What the demo shows as "latency": the round trip a listener experiences — from a sample entering the microphone
 * track to the browser playing its separated output — summed from measured terms (docs/protocol.md §4 *End-to-end
 * latency budget*, WebRTC table). Pure, so a test can check that every term comes from a measurement.
 */

/** Opus packets are 20 ms each way (the browser's default ptime, the server's frame): a sample waits for its packet. */
export const PACKET_MS = 20;

/** The counters of one `inbound-rtp` report that the jitter-buffer term needs. */
export interface JitterCounters {
  jitterBufferDelaySec: number;
  jitterBufferEmittedCount: number;
}

export interface LatencyInputs {
  /** `ready.latency.ms`, announced by the server. */
  algorithmicMs: number;
  /** Last `stats.processingLatencyMs.mean` and `stats.rtc.pacerWaitMs.mean` from the server. */
  serverProcessingMs: number;
  pacerWaitMs: number;
  /** ICE `candidate-pair.currentRoundTripTime` in ms. */
  networkRttMs: number;
  /** Jitter-buffer delay of the output track over the last interval (`jitterBufferMsSince`). */
  jitterBufferMs: number;
  /** `AudioContext.baseLatency + outputLatency` in ms (0 where the browser reports none). */
  playoutMs: number;
}

export interface LatencyEstimate {
  totalMs: number;
  terms: { name: string; ms: number }[];
}

/**
 * Mean jitter-buffer delay of the samples emitted between two reports (the cumulative mean since the start would
 * still carry the start-up fill long after the buffer shrank). Undefined when nothing was emitted in between.
 */
export function jitterBufferMsSince(previous: JitterCounters | undefined, current: JitterCounters): number | undefined {
  const emitted = current.jitterBufferEmittedCount - (previous?.jitterBufferEmittedCount ?? 0);
  if (emitted <= 0) return undefined;
  return ((current.jitterBufferDelaySec - (previous?.jitterBufferDelaySec ?? 0)) / emitted) * 1000;
}

export function estimateLatency(m: LatencyInputs): LatencyEstimate {
  const terms = [
    { name: 'packetisation (in + out)', ms: 2 * PACKET_MS },
    { name: 'network round trip', ms: m.networkRttMs },
    { name: 'model (algorithmic)', ms: m.algorithmicMs },
    { name: 'server processing', ms: m.serverProcessingMs },
    { name: 'server pacer', ms: m.pacerWaitMs },
    { name: 'browser jitter buffer', ms: m.jitterBufferMs },
    { name: 'playout', ms: m.playoutMs },
  ];
  return { totalMs: terms.reduce((sum, t) => sum + t.ms, 0), terms };
}
