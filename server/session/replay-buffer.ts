/**
 * Output retained for resume: the last `retainSamples` of delivered output (every kind the client received, planar,
 * with the VAD of its hops), so a client reconnecting after a drop can ask for everything from the offset it last
 * received completely. Bounded by samples; older spans are dropped as new ones arrive. The transport encodes a replay
 * like live output (new sequence numbers, the session's framing).
 *
 * Samples are copied into one preallocated ring per kind and channel rather than kept as the delivered arrays: a
 * span held for seconds outlives two scavenges, so retaining the spans themselves promoted every output array (and
 * its ArrayBuffer) to the old generation — ~6 MB/s at 8 streams, a mark-compact of the I/O thread every ~1.2 s
 * (5–17 ms each) stalling every session's output. Only a small record per span (offset, count, kinds, VAD) is kept.
 */
import type { OutputKind, VadMessage } from '../../client-sdk/src/protocol/index.ts';
import type { DeliveredOutput } from './connection.ts';

export type ReplayCheck = { ok: true } | { ok: false; detail: string };

/** Ring room beyond `retainSamples`, so the span that straddles the retention boundary is still whole in the ring. */
const DEFAULT_SLACK_SAMPLES = 16_384;

interface SpanRecord {
  sampleOffset: number;
  sampleCount: number;
  /** The kinds the client received for this span (shared between consecutive spans with the same kinds). */
  kinds: readonly OutputKind[];
  vad: VadMessage | undefined;
}

export class ReplayBuffer {
  private readonly spans: SpanRecord[] = [];
  private head = 0;
  private endOffset = 0;
  /** Sample at offset `o` of a kind's channel is at `o % capacity` of that channel's ring. */
  private readonly rings = new Map<OutputKind, Float32Array[]>();
  private readonly capacity: number;
  private lastKinds: readonly OutputKind[] = [];

  constructor(
    private readonly retainSamples: number,
    slackSamples = DEFAULT_SLACK_SAMPLES,
  ) {
    this.capacity = retainSamples > 0 ? retainSamples + slackSamples : 0;
  }

  /** Offset after the newest retained (or produced) sample. */
  get producedSamples(): number {
    return this.endOffset;
  }

  get oldestOffset(): number {
    return this.spans[this.head]?.sampleOffset ?? this.endOffset;
  }

  add(span: DeliveredOutput): void {
    this.endOffset = span.sampleOffset + span.sampleCount;
    if (this.retainSamples <= 0) return;
    // A span longer than the ring keeps its newest samples only.
    const cut = Math.max(0, span.sampleCount - this.capacity);
    const sampleOffset = span.sampleOffset + cut;
    const sampleCount = span.sampleCount - cut;
    if (sampleCount > 0) for (const s of span.streams) this.write(s.kind, s.samples, cut, sampleOffset, sampleCount);
    const kinds = sampleCount > 0 ? this.internKinds(span.streams) : [];
    const vad = cut > 0 && span.vad ? cutVad(span.vad, sampleOffset) : span.vad;
    this.spans.push({ sampleOffset, sampleCount, kinds, vad });
    this.dropOld();
  }

  check(fromOffset: number): ReplayCheck {
    if (fromOffset > this.endOffset) {
      return { ok: false, detail: `lastSampleOffset ${fromOffset} is beyond the ${this.endOffset} samples produced` };
    }
    if (fromOffset < this.oldestOffset) {
      return { ok: false, detail: `lastSampleOffset ${fromOffset} is older than the oldest retained sample ${this.oldestOffset}` };
    }
    return { ok: true };
  }

  /**
   * Spans covering [fromOffset, produced); a span straddling `fromOffset` is cut there so no sample is sent twice.
   * Their samples are copies (a transport may hold them after the ring has moved on).
   */
  replay(fromOffset: number): DeliveredOutput[] {
    const out: DeliveredOutput[] = [];
    for (let i = this.head; i < this.spans.length; i++) {
      const span = this.spans[i]!;
      const end = span.sampleOffset + span.sampleCount;
      if (end <= fromOffset && span.sampleCount > 0) continue;
      const cut = Math.max(0, Math.min(span.sampleCount, fromOffset - span.sampleOffset));
      const vad = span.vad ? cutVad(span.vad, fromOffset) : undefined;
      if (cut === span.sampleCount && !vad) continue;
      const count = span.sampleCount - cut;
      out.push({
        sampleOffset: span.sampleOffset + cut,
        sampleCount: count,
        streams: count === 0 ? [] : span.kinds.map((kind) => ({ kind, samples: this.read(kind, span.sampleOffset + cut, count) })),
        vad,
      });
    }
    return out;
  }

  /** Keeps the spans overlapping the last `retainSamples` (at least the newest); cuts one the ring no longer holds. */
  private dropOld(): void {
    const keepFrom = this.endOffset - this.retainSamples;
    const last = this.spans.length - 1;
    while (this.head < last && this.spans[this.head]!.sampleOffset + this.spans[this.head]!.sampleCount <= keepFrom) this.head++;
    const first = this.spans[this.head]!;
    const ringStart = this.endOffset - this.capacity;
    if (first.sampleOffset < ringStart) {
      const cut = ringStart - first.sampleOffset;
      this.spans[this.head] = {
        sampleOffset: ringStart,
        sampleCount: first.sampleCount - cut,
        kinds: first.kinds,
        vad: first.vad ? cutVad(first.vad, ringStart) : undefined,
      };
    }
    if (this.head > 64 && this.head * 2 > this.spans.length) {
      this.spans.splice(0, this.head);
      this.head = 0;
    }
  }

  private internKinds(streams: DeliveredOutput['streams']): readonly OutputKind[] {
    const same = streams.length === this.lastKinds.length && streams.every((s, i) => s.kind === this.lastKinds[i]);
    if (!same) this.lastKinds = streams.map((s) => s.kind);
    return this.lastKinds;
  }

  private write(kind: OutputKind, channels: Float32Array[], from: number, offset: number, count: number): void {
    let ring = this.rings.get(kind);
    if (!ring || ring.length !== channels.length) {
      ring = channels.map(() => new Float32Array(this.capacity));
      this.rings.set(kind, ring);
    }
    const at = offset % this.capacity;
    const first = Math.min(count, this.capacity - at);
    channels.forEach((samples, c) => {
      const dst = ring[c]!;
      dst.set(samples.subarray(from, from + first), at);
      if (first < count) dst.set(samples.subarray(from + first, from + count), 0);
    });
  }

  private read(kind: OutputKind, offset: number, count: number): Float32Array[] {
    const ring = this.rings.get(kind) ?? [];
    const at = offset % this.capacity;
    const first = Math.min(count, this.capacity - at);
    return ring.map((src) => {
      const out = new Float32Array(count);
      out.set(src.subarray(at, at + first));
      if (first < count) out.set(src.subarray(0, count - first), first);
      return out;
    });
  }
}

function cutVad(vad: VadMessage, fromOffset: number): VadMessage | undefined {
  let first = 0;
  while (first < vad.probs.length && Math.round(vad.sampleOffset + first * vad.hopSamples) < fromOffset) first++;
  if (first === vad.probs.length) return undefined;
  if (first === 0) return vad;
  return {
    ...vad,
    sampleOffset: Math.round(vad.sampleOffset + first * vad.hopSamples),
    probs: vad.probs.slice(first),
    transitions: vad.transitions.filter((t) => t.sampleOffset >= fromOffset),
  };
}
