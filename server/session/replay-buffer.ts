/**
 * Output retained for resume: the last `retainSamples` of delivered output (every kind the client received, planar,
 * with the VAD of its hops), so a client reconnecting after a drop can ask for everything from the offset it last
 * received completely. Bounded by samples; older spans are dropped as new ones arrive. The transport encodes a replay
 * like live output (new sequence numbers, the session's framing).
 */
import type { VadMessage } from '../../client-sdk/src/protocol/index.ts';
import type { DeliveredOutput } from './connection.ts';

export type ReplayCheck = { ok: true } | { ok: false; detail: string };

export class ReplayBuffer {
  private spans: DeliveredOutput[] = [];
  private endOffset = 0;

  constructor(private readonly retainSamples: number) {}

  /** Offset after the newest retained (or produced) sample. */
  get producedSamples(): number {
    return this.endOffset;
  }

  get oldestOffset(): number {
    return this.spans[0]?.sampleOffset ?? this.endOffset;
  }

  add(span: DeliveredOutput): void {
    this.endOffset = span.sampleOffset + span.sampleCount;
    if (this.retainSamples <= 0) return;
    this.spans.push(span);
    const keepFrom = this.endOffset - this.retainSamples;
    let drop = 0;
    while (drop < this.spans.length - 1 && this.spans[drop]!.sampleOffset + this.spans[drop]!.sampleCount <= keepFrom) drop++;
    if (drop > 0) this.spans = this.spans.slice(drop);
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

  /** Spans covering [fromOffset, produced); a span straddling `fromOffset` is cut there so no sample is sent twice. */
  replay(fromOffset: number): DeliveredOutput[] {
    const out: DeliveredOutput[] = [];
    for (const span of this.spans) {
      const end = span.sampleOffset + span.sampleCount;
      if (end <= fromOffset && span.sampleCount > 0) continue;
      const cut = Math.max(0, Math.min(span.sampleCount, fromOffset - span.sampleOffset));
      const vad = span.vad ? cutVad(span.vad, fromOffset) : undefined;
      if (cut === span.sampleCount && !vad) continue;
      out.push({
        sampleOffset: span.sampleOffset + cut,
        sampleCount: span.sampleCount - cut,
        streams: cut === span.sampleCount ? [] : span.streams.map((s) => ({ kind: s.kind, samples: s.samples.map((ch) => ch.subarray(cut)) })),
        vad,
      });
    }
    return out;
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
