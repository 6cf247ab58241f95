/**
 * Turns the pipeline's per-hop blocks into what a client receives: one planar buffer per requested kind (vocals,
 * accompaniment, karaoke = accompaniment + vocalGain · vocals) covering the same offsets, plus the hop VAD
 * probabilities and debounced transitions for the same span. Outputs and gain are read when a span is taken, so a
 * `configure` applies from the first sample not yet taken. Pure: due times are data handed in by the caller.
 */
import type { OutputKind, VadMessage } from '../../client-sdk/src/protocol/index.ts';
import type { SeparatedBlock } from './separation-pipeline.ts';
import type { VadSmoother } from './vad-smoother.ts';

export interface FramedOutput {
  sampleOffset: number;
  sampleCount: number;
  streams: { kind: OutputKind; samples: Float32Array[] }[];
  vad: VadMessage | undefined;
  /** When each hop in this span was due, for latency accounting. */
  dueMs: number[];
}

export class OutputFramer {
  private blocks: SeparatedBlock[] = [];
  private due: number[] = [];
  private samples = 0;
  private firstOffset: number | undefined;
  private outputs: OutputKind[];
  private gain: number;

  constructor(
    private readonly channels: number,
    options: { outputs: OutputKind[]; vocalGain: number },
    private readonly vad: VadSmoother | undefined,
    private readonly vadHopSamples: number,
  ) {
    this.outputs = [...options.outputs];
    this.gain = options.vocalGain;
  }

  get pendingSamples(): number {
    return this.samples;
  }

  get config(): { outputs: OutputKind[]; vocalGain: number } {
    return { outputs: [...this.outputs], vocalGain: this.gain };
  }

  configure(change: { outputs?: OutputKind[] | undefined; vocalGain?: number | undefined }): void {
    if (change.outputs) this.outputs = [...change.outputs];
    if (change.vocalGain !== undefined) this.gain = change.vocalGain;
  }

  add(block: SeparatedBlock, dueMs: number): void {
    const expected = this.firstOffset === undefined ? undefined : this.firstOffset + this.samples;
    if (expected !== undefined && block.sampleOffset !== expected) {
      throw new Error(`blocks not contiguous: ${block.sampleOffset} after ${expected}`);
    }
    this.firstOffset ??= block.sampleOffset;
    this.blocks.push(block);
    this.due.push(dueMs);
    this.samples += block.vocals[0]?.length ?? 0;
  }

  /** Everything added since the last take, or undefined when there is nothing (no audio and no VAD). */
  take(): FramedOutput | undefined {
    if (this.blocks.length === 0) return undefined;
    const blocks = this.blocks;
    const sampleOffset = this.firstOffset!;
    const sampleCount = this.samples;
    const dueMs = this.due;
    this.blocks = [];
    this.due = [];
    this.samples = 0;
    this.firstOffset = undefined;
    const vocals = this.concat(blocks, (b) => b.vocals, sampleCount);
    const accompaniment = this.concat(blocks, (b) => b.accompaniment, sampleCount);
    const streams = this.outputs.map((kind) => ({
      kind,
      samples: kind === 'vocals' ? vocals : kind === 'accompaniment' ? accompaniment : this.karaoke(vocals, accompaniment),
    }));
    return { sampleOffset, sampleCount, streams: sampleCount > 0 ? streams : [], vad: this.vadMessage(blocks), dueMs };
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

  private karaoke(vocals: Float32Array[], accompaniment: Float32Array[]): Float32Array[] {
    return accompaniment.map((a, c) => {
      const v = vocals[c]!;
      const out = new Float32Array(a.length);
      for (let i = 0; i < a.length; i++) out[i] = a[i]! + this.gain * v[i]!;
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
