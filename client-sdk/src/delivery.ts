/**
 * What output reached the caller, per kind, so that a resumed or replacement session never delivers a sample twice:
 *
 * - `delivered` (caller timeline): end of what each kind handed to listeners; anything older that comes again
 *   (a replay for a kind that was ahead of the others, a fallback session re-separating retained input) is cut off;
 * - `received` (this server session's timeline): end of the complete frames the session sent, which is what a
 *   `resume` may ask for (`lastSampleOffset`, the minimum over the requested kinds).
 *
 * The caller timeline is the session timeline shifted by `base` (0 until a fallback session starts mid-stream).
 */
import type { OutputChunk } from './output-chunk.ts';
import type { OutputKind, VadMessage } from './protocol/index.ts';

export class OutputDelivery {
  #kinds: OutputKind[];
  #delivered = new Map<OutputKind, number>();
  #received = new Map<OutputKind, number>();
  /** Caller-timeline position after the last delivered VAD hop. */
  #vadEnd = -Infinity;
  #base = 0;

  constructor(kinds: readonly OutputKind[]) {
    this.#kinds = [...kinds];
    for (const k of kinds) {
      this.#delivered.set(k, 0);
      this.#received.set(k, 0);
    }
  }

  /** Output offset (caller timeline) of this server session's offset 0. */
  get base(): number {
    return this.#base;
  }

  /** `lastSampleOffset` for a resume: complete frames of every requested kind end here (session timeline). */
  get resumeOffset(): number {
    return Math.min(...this.#kinds.map((k) => this.#received.get(k) ?? 0));
  }

  /** Every requested kind has been delivered up to here (caller timeline). */
  get deliveredEnd(): number {
    return Math.min(...this.#kinds.map((k) => this.#delivered.get(k) ?? this.#base));
  }

  /** Takes a decoded frame (session timeline); returns what is new for the caller (caller timeline), if anything. */
  frame(chunk: OutputChunk): OutputChunk | undefined {
    const count = chunk.samples[0]?.length ?? 0;
    this.#received.set(chunk.kind, chunk.sampleOffset + count);
    const offset = chunk.sampleOffset + this.#base;
    const delivered = this.#delivered.get(chunk.kind) ?? offset;
    const cut = Math.max(0, delivered - offset);
    if (cut >= count && count > 0) return undefined;
    this.#delivered.set(chunk.kind, Math.max(delivered, offset + count));
    if (cut === 0) return { ...chunk, sampleOffset: offset };
    return { ...chunk, sampleOffset: offset + cut, samples: chunk.samples.map((ch) => ch.subarray(cut)) };
  }

  /** Shifts a VAD message to the caller timeline and drops hops already delivered. */
  vad(msg: VadMessage): VadMessage | undefined {
    const start = msg.sampleOffset + this.#base;
    let first = 0;
    // hops sit at fractional offsets: compare with half a hop of slack so rounding never drops or repeats one
    while (first < msg.probs.length && start + first * msg.hopSamples < this.#vadEnd - msg.hopSamples / 2) first++;
    if (first === msg.probs.length) return undefined;
    const sampleOffset = start + first * msg.hopSamples;
    this.#vadEnd = start + msg.probs.length * msg.hopSamples;
    return {
      ...msg,
      sampleOffset,
      probs: first === 0 ? msg.probs : msg.probs.slice(first),
      transitions: msg.transitions.map((t) => ({ ...t, sampleOffset: t.sampleOffset + this.#base })).filter((t) => first === 0 || t.sampleOffset >= Math.round(sampleOffset)),
    };
  }

  /** `configured`: kinds added from `sampleOffset` on (session timeline) have nothing missing before it. */
  configured(outputs: readonly OutputKind[], sampleOffset: number): void {
    for (const k of outputs) {
      if (this.#kinds.includes(k)) continue;
      this.#received.set(k, sampleOffset);
      this.#delivered.set(k, Math.max(this.#delivered.get(k) ?? 0, sampleOffset + this.#base));
    }
    this.#kinds = [...outputs];
  }

  /** The same session continues on a new socket; the replay starts at `fromOffset` with the current outputs. */
  resumed(outputs: readonly OutputKind[], fromOffset: number): void {
    for (const k of outputs) {
      this.#received.set(k, fromOffset);
      if (!this.#delivered.has(k)) this.#delivered.set(k, fromOffset + this.#base);
    }
    this.#kinds = [...outputs];
  }

  /** A replacement session whose offset 0 is `base` on the caller timeline. */
  newSession(outputs: readonly OutputKind[], base: number): void {
    this.#base = base;
    for (const k of outputs) {
      this.#received.set(k, 0);
      if (!this.#delivered.has(k)) this.#delivered.set(k, base);
    }
    this.#kinds = [...outputs];
  }
}
