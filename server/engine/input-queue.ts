/**
 * A session's bounded FIFO of received audio (planar, client rate) interleaved with the `flush`/`end` markers that
 * must be applied exactly between the audio before and after them. Each audio item remembers when it arrived, so
 * the hops it completes can be timed against real time, and when the engine took it in (the per-stage breakdown).
 * The bound is enforced by the I/O thread's session, which refuses input (or has it trimmed) before it gets here.
 */
export type QueueItem =
  | { kind: 'audio'; samples: Float32Array[]; offset: number; arrivalMs: number; handledMs: number }
  | { kind: 'marker'; marker: 'flush' | 'end'; arrivalMs: number; handledMs: number };

export interface AudioPiece {
  samples: Float32Array[];
  arrivalMs: number;
  handledMs: number;
}

export class InputQueue {
  private readonly items: QueueItem[] = [];
  private head = 0;
  private audioSamples = 0;
  private spent: Float32Array[][] = [];

  /** Audio samples (per channel) queued and not yet taken. */
  get bufferedSamples(): number {
    return this.audioSamples;
  }

  pushAudio(samples: Float32Array[], arrivalMs: number, handledMs: number): void {
    const length = samples[0]?.length ?? 0;
    if (length === 0) return;
    this.items.push({ kind: 'audio', samples, offset: 0, arrivalMs, handledMs });
    this.audioSamples += length;
  }

  pushMarker(marker: 'flush' | 'end', arrivalMs: number, handledMs: number): void {
    this.items.push({ kind: 'marker', marker, arrivalMs, handledMs });
  }

  peek(): QueueItem | undefined {
    return this.items[this.head];
  }

  /** Takes up to `maxSamples` from the head audio item (never across items). */
  takeAudio(maxSamples: number): AudioPiece | undefined {
    const item = this.items[this.head];
    if (!item || item.kind !== 'audio') return undefined;
    const length = item.samples[0]!.length;
    const end = Math.min(length, item.offset + Math.max(1, maxSamples));
    const samples = item.samples.map((ch) => ch.subarray(item.offset, end));
    this.audioSamples -= end - item.offset;
    item.offset = end;
    if (end === length) this.retire(item.samples);
    return { samples, arrivalMs: item.arrivalMs, handledMs: item.handledMs };
  }

  /**
   * The arrays of audio items fully taken or dropped since the last call: the queue no longer holds them (a piece
   * just taken may still be in use by the caller, so call this once it is done with it).
   */
  takeSpent(): Float32Array[][] {
    const spent = this.spent;
    this.spent = [];
    return spent;
  }

  /**
   * Discards up to `maxSamples` of the oldest queued audio, never past a marker (a flush or end must still apply
   * exactly after the audio sent before it). Returns how many samples were discarded.
   */
  dropOldestAudio(maxSamples: number): number {
    let dropped = 0;
    for (let item = this.items[this.head]; item?.kind === 'audio' && dropped < maxSamples; item = this.items[this.head]) {
      const available = item.samples[0]!.length - item.offset;
      const take = Math.min(available, maxSamples - dropped);
      item.offset += take;
      dropped += take;
      if (take === available) this.retire(item.samples);
    }
    this.audioSamples -= dropped;
    return dropped;
  }

  private retire(samples: Float32Array[]): void {
    this.spent.push(samples);
    this.shift();
  }

  /** Drops the head item (a marker once it has been applied). */
  shift(): void {
    this.head++;
    if (this.head > 64 && this.head * 2 > this.items.length) {
      this.items.splice(0, this.head);
      this.head = 0;
    }
  }
}
