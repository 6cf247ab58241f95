/**
 * Gathers the pipeline's per-hop blocks into spans for the I/O thread: both stems as planar buffers covering the
 * same offsets, plus the hop VAD probabilities and debounced transitions of the same span. Which stems a client
 * receives (and the karaoke mix) is chosen where the span is sent, so a `configure` never waits for the engine.
 * Pure: due times are data handed in by the caller.
 */
import type { VadMessage } from '../../client-sdk/src/protocol/index.ts';
import type { SeparatedBlock } from './separation-pipeline.ts';
import type { VadSmoother } from './vad-smoother.ts';

export interface FramedOutput {
  sampleOffset: number;
  sampleCount: number;
  vocals: Float32Array[];
  accompaniment: Float32Array[];
  vad: VadMessage | undefined;
  /** When each hop in this span was due, for latency accounting. */
  dueMs: number[];
  /** When the input that completed each hop arrived, for server-added latency. */
  arrivalMs: number[];
  /** When the engine took that input in (its clock converted to the I/O thread's), for the per-stage breakdown. */
  handledMs: number[];
}

export class OutputFramer {
  private blocks: SeparatedBlock[] = [];
  private due: number[] = [];
  private arrival: number[] = [];
  private handled: number[] = [];
  private samples = 0;
  private firstOffset: number | undefined;

  constructor(
    private readonly channels: number,
    private readonly vad: VadSmoother | undefined,
    private readonly vadHopSamples: number,
  ) {}

  get pendingSamples(): number {
    return this.samples;
  }

  add(block: SeparatedBlock, dueMs: number, arrivalMs: number, handledMs: number): void {
    const expected = this.firstOffset === undefined ? undefined : this.firstOffset + this.samples;
    if (expected !== undefined && block.sampleOffset !== expected) {
      throw new Error(`blocks not contiguous: ${block.sampleOffset} after ${expected}`);
    }
    this.firstOffset ??= block.sampleOffset;
    this.blocks.push(block);
    this.due.push(dueMs);
    this.arrival.push(arrivalMs);
    this.handled.push(handledMs);
    this.samples += block.vocals[0]?.length ?? 0;
  }

  /** Everything added since the last take, or undefined when there is nothing (no audio and no VAD). */
  take(): FramedOutput | undefined {
    if (this.blocks.length === 0) return undefined;
    const blocks = this.blocks;
    const sampleOffset = this.firstOffset!;
    const sampleCount = this.samples;
    const dueMs = this.due;
    const arrivalMs = this.arrival;
    const handledMs = this.handled;
    this.blocks = [];
    this.due = [];
    this.arrival = [];
    this.handled = [];
    this.samples = 0;
    this.firstOffset = undefined;
    return {
      sampleOffset,
      sampleCount,
      vocals: this.concat(blocks, (b) => b.vocals, sampleCount),
      accompaniment: this.concat(blocks, (b) => b.accompaniment, sampleCount),
      vad: this.vadMessage(blocks),
      dueMs,
      arrivalMs,
      handledMs,
    };
  }

  private concat(blocks: SeparatedBlock[], pick: (b: SeparatedBlock) => Float32Array[], length: number): Float32Array[] {
    return Array.from({ length: this.channels }, (_, c) => {
      if (blocks.length === 1) return pick(blocks[0]!)[c]!;
      const out = new Float32Array(length);
      let o = 0;
      for (const b of blocks) {
        const part = pick(b)[c]!;
        out.set(part, o);
        o += part.length;
      }
      return out;
    });
  }

  private vadMessage(blocks: SeparatedBlock[]): VadMessage | undefined {
    if (!this.vad) return undefined;
    const hops = blocks.flatMap((b) => (b.vad ? [b.vad] : []));
    if (hops.length === 0) return undefined;
    const transitions = hops.flatMap((h) => {
      const t = this.vad!.push(h.prob, h.sampleOffset);
      return t ? [t] : [];
    });
    return {
      type: 'vad',
      sampleOffset: hops[0]!.sampleOffset,
      hopSamples: this.vadHopSamples,
      probs: hops.map((h) => h.prob),
      active: this.vad.active,
      transitions,
    };
  }
}
