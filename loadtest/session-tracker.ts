/**
 * Per-session measurement, pure (times are passed in, taken from one monotonic clock by the caller).
 *
 * Latency is taken per output HOP (a server that falls behind sends many hops in one frame; each counts): for every
 * hop whose newest sample lies in a received frame, end-to-end latency = the frame's receive time − the send time of
 * the input frame that carried the input sample aligned with the hop's NEWEST output sample. The protocol aligns output sample t with input time t
 * and emits it once input up to t + latency has arrived, so for the newest sample of a hop this is exactly the delay
 * a listener hears: algorithmic latency + client framing + transport + server time. Nothing is subtracted.
 *
 * Server-added latency = receive time − send time of the input frame that carried sample t + algorithmic latency
 * (the input that made the hop computable) − transport (min ping RTT: the input travelled one way, the output the
 * other). That is "e2e − algorithmic − transport", with the algorithmic part measured as it elapsed on the sender's
 * clock, so client framing is not blamed on the server: the client-side view of what the server measures as
 * `livestem_hop_server_added_seconds` (arrival of the completing input → output written). The minimum RTT is used
 * because queueing inside a loaded server is server time, not transport.
 *
 * A hop is timed once, by the frame of its span's last kind (`timedKind`: frames of one span are sent in
 * `ready.output.outputs` order, so the last kind's frame completes the hop for a listener).
 */
import { SampleBuffer } from './stats/percentiles.ts';

export interface OutputFrameInfo {
  kind: string;
  sequence: number;
  sampleOffset: number;
  sampleCount: number;
  sampleRateHz: number;
}

export interface ContinuityCounts {
  /** Places where a frame started after the end of the previous one of its kind (samples missing). */
  gaps: number;
  missingSamples: number;
  /** Frames that started before the end of the previous one (replayed or reordered audio). */
  overlaps: number;
  /** Binary frames whose sequence number skipped ahead (frames lost on the way). */
  sequenceGaps: number;
  missingSequences: number;
}

export interface KindCounts {
  frames: number;
  samples: number;
  /** End offset of the last frame (output-rate samples). */
  endOffset: number;
}

export interface SessionMeasurement {
  inputFramesSent: number;
  inputSamplesSent: number;
  outputFrames: number;
  outputSamplesByKind: Record<string, KindCounts>;
  continuity: ContinuityCounts;
  /** Output hops whose e2e latency exceeded the late threshold. */
  lateHops: number;
  /** Hops whose aligned input sample was never sent (cannot be timed; should be 0). */
  untimedHops: number;
  minRttMs: number;
  pings: number;
}

export interface TrackerConfig {
  inputSampleRateHz: number;
  /** Algorithmic latency the server announced in `ready` (ms). */
  algorithmicLatencyMs: number;
  /** Hops with e2e above this are counted late. */
  lateThresholdMs: number;
  /**
   * The model hop in output-rate samples (`ready.vadHopSamples`; fractional when rates differ), or null to time each
   * frame once by its newest sample (WebRTC packets, whose boundaries are the server pacer's, not hops).
   */
  outputHopSamples: number | null;
  /** Only frames of this kind are timed (one latency per hop); undefined: every frame is (WebRTC packet pairs). */
  timedKind?: string;
}

export class SessionTracker {
  /** Input send log: start sample of each input frame and its send time, ascending. */
  private sendStarts = new SampleBuffer(512);
  private sendTimes = new SampleBuffer(512);
  private inputSamples = 0;
  private inputFrames = 0;
  private endSentMs = Number.NaN;
  private lastSequence = -1;
  private readonly kinds = new Map<string, KindCounts>();
  private readonly continuity: ContinuityCounts = { gaps: 0, missingSamples: 0, overlaps: 0, sequenceGaps: 0, missingSequences: 0 };
  private outputFrames = 0;
  private lateHops = 0;
  private untimedHops = 0;
  private minRttMs = Number.POSITIVE_INFINITY;
  private pings = 0;
  private readonly latencyInputSamples: number;
  /** e2e latency per output hop (ms). */
  readonly e2eMs = new SampleBuffer(1024);
  /** Server-added latency per output hop (ms); filled by finish(), once the transport estimate is final. */
  readonly serverMs = new SampleBuffer(1024);
  private readonly pendingServerRawMs = new SampleBuffer(256);

  constructor(private readonly config: TrackerConfig) {
    this.latencyInputSamples = Math.round((config.algorithmicLatencyMs * config.inputSampleRateHz) / 1000);
  }

  get gapCount(): number {
    return this.continuity.gaps;
  }

  noteInputSent(sampleCount: number, sendTimeMs: number): void {
    this.sendStarts.push(this.inputSamples);
    this.sendTimes.push(sendTimeMs);
    this.inputSamples += sampleCount;
    this.inputFrames += 1;
  }

  noteEndSent(timeMs: number): void {
    this.endSentMs = timeMs;
  }

  notePong(rttMs: number): void {
    this.pings += 1;
    if (rttMs < this.minRttMs) this.minRttMs = rttMs;
  }

  /** Send time of the input frame holding input sample `index`; after the last sample, the time `end` was sent. */
  private sendTimeOf(index: number): number {
    if (index >= this.inputSamples) return this.endSentMs;
    const starts = this.sendStarts.view();
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= index) lo = mid;
      else hi = mid - 1;
    }
    return this.sendTimes.view()[lo]!;
  }

  noteOutputFrame(frame: OutputFrameInfo, recvTimeMs: number): void {
    this.outputFrames += 1;
    if (this.lastSequence >= 0 && frame.sequence > this.lastSequence + 1) {
      this.continuity.sequenceGaps += 1;
      this.continuity.missingSequences += frame.sequence - this.lastSequence - 1;
    }
    this.lastSequence = Math.max(this.lastSequence, frame.sequence);

    const counts = this.kinds.get(frame.kind) ?? { frames: 0, samples: 0, endOffset: 0 };
    if (frame.sampleOffset > counts.endOffset) {
      this.continuity.gaps += 1;
      this.continuity.missingSamples += frame.sampleOffset - counts.endOffset;
    } else if (frame.sampleOffset < counts.endOffset) {
      this.continuity.overlaps += 1;
    }
    counts.frames += 1;
    counts.samples += frame.sampleCount;
    counts.endOffset = Math.max(counts.endOffset, frame.sampleOffset + frame.sampleCount);
    this.kinds.set(frame.kind, counts);

    if (frame.sampleCount === 0) return;
    if (this.config.timedKind !== undefined && frame.kind !== this.config.timedKind) return;
    const first = frame.sampleOffset;
    const newest = first + frame.sampleCount - 1;
    const hop = this.config.outputHopSamples;
    if (hop === null) {
      this.timeHop(newest, frame.sampleRateHz, recvTimeMs);
      return;
    }
    // hop j covers [round(j·hop), round((j+1)·hop)); time the hops whose newest sample is in this frame
    let j = Math.max(0, Math.ceil((first + 1) / hop) - 1);
    while (Math.round((j + 1) * hop) - 1 < first) j++;
    let timedNewest = false;
    for (; Math.round((j + 1) * hop) - 1 <= newest; j++) {
      const hopEnd = Math.round((j + 1) * hop) - 1;
      this.timeHop(hopEnd, frame.sampleRateHz, recvTimeMs);
      timedNewest = hopEnd === newest;
    }
    // a partial hop (end of stream) still has a newest sample
    if (!timedNewest) this.timeHop(newest, frame.sampleRateHz, recvTimeMs);
  }

  private timeHop(newestOut: number, outputRateHz: number, recvTimeMs: number): void {
    const alignedInput = Math.floor((newestOut * this.config.inputSampleRateHz) / outputRateHz);
    if (alignedInput >= this.inputSamples) {
      this.untimedHops += 1;
      return;
    }
    const e2e = recvTimeMs - this.sendTimeOf(alignedInput);
    this.e2eMs.push(e2e);
    if (e2e > this.config.lateThresholdMs) this.lateHops += 1;
    // NaN only if the server sent a hop before the input that enables it (or `end`) was sent: not timed
    const enabling = this.sendTimeOf(alignedInput + this.latencyInputSamples);
    if (!Number.isNaN(enabling)) this.pendingServerRawMs.push(recvTimeMs - enabling);
  }

  /**
   * Records the session's final output ends from the server's `done` (output samples it produced): a kind that
   * stopped short lost its tail, which offsets alone cannot show.
   */
  noteDone(outputSamples: number, kinds: readonly string[]): void {
    for (const kind of kinds) {
      const counts = this.kinds.get(kind) ?? { frames: 0, samples: 0, endOffset: 0 };
      this.kinds.set(kind, counts);
      if (counts.endOffset < outputSamples) {
        this.continuity.gaps += 1;
        this.continuity.missingSamples += outputSamples - counts.endOffset;
        counts.endOffset = outputSamples;
      }
    }
  }

  /** Converts raw server times with the session's transport estimate; call once when the session ends. */
  finish(): SessionMeasurement {
    const transportMs = Number.isFinite(this.minRttMs) ? this.minRttMs : 0;
    const raw = this.pendingServerRawMs.view();
    for (let i = 0; i < raw.length; i++) this.serverMs.push(raw[i]! - transportMs);
    this.pendingServerRawMs.clear();
    return this.snapshot();
  }

  snapshot(): SessionMeasurement {
    const outputSamplesByKind: Record<string, KindCounts> = {};
    for (const [kind, c] of this.kinds) outputSamplesByKind[kind] = { ...c };
    return {
      inputFramesSent: this.inputFrames,
      inputSamplesSent: this.inputSamples,
      outputFrames: this.outputFrames,
      outputSamplesByKind,
      continuity: { ...this.continuity },
      lateHops: this.lateHops,
      untimedHops: this.untimedHops,
      minRttMs: this.minRttMs,
      pings: this.pings,
    };
  }
}
