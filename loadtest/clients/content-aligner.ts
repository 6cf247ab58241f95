/**
 * Finds where a received WebRTC output packet sits in the input the client sent, by its content (pure).
 *
 * Over WebRTC the server paces Opus packets on its own clock and fills underruns with silence, so RTP timestamps do
 * not carry the protocol's sample offsets. Content does: vocals + accompaniment = the input (mixture consistency), so
 * the sum of the two decoded output packets is a copy of some 20 ms of input, shifted by everything on the way (Opus
 * coding delay both ways, algorithmic latency compensation, queueing). Matching it against the sent input by
 * normalised cross-correlation gives the input offset, hence the end-to-end latency of that packet, and shows
 * skipped content (dropped output) as a jump.
 */

export interface AlignMatch {
  /** Input sample index of the packet's first sample. */
  offset: number;
  /** Normalised correlation of the match, in [-1, 1]. */
  correlation: number;
}

const SILENCE_RMS = 1e-4;
const DECIMATE = 4;
/** A jump found by full search is moved onto the whole-packet grid when it is at most this far off it. */
const SNAP_SAMPLES = 16;

export class ContentAligner {
  private history: Float32Array;
  /** Absolute input index of history[0]. */
  private base = 0;
  private length = 0;
  private lastOffset: number | null = null;
  /** Exclusive end of the input a packet may come from during the current locate() (it cannot precede its input). */
  private limit = Number.POSITIVE_INFINITY;
  unmatched = 0;
  silent = 0;

  constructor(
    private readonly packetSamples: number,
    private readonly historySamples: number,
    private readonly minCorrelation = 0.9,
    /** Search half-width around the expected position once locked. */
    private readonly trackRadius = 48,
  ) {
    this.history = new Float32Array(historySamples);
  }

  /** Appends mono input as it is sent. */
  pushInput(mono: Float32Array): void {
    if (this.length + mono.length > this.history.length) {
      const keep = Math.max(0, this.historySamples - mono.length);
      const drop = this.length - keep;
      this.history.copyWithin(0, drop, this.length);
      this.base += drop;
      this.length -= drop;
    }
    this.history.set(mono, this.length);
    this.length += mono.length;
  }

  get inputEnd(): number {
    return this.base + this.length;
  }

  private correlationAt(packet: Float32Array, packetEnergy: number, offset: number): number {
    const start = offset - this.base;
    if (start < 0 || start + packet.length > this.length || offset + packet.length > this.limit) return Number.NEGATIVE_INFINITY;
    const h = this.history;
    let xy = 0;
    let yy = 0;
    for (let i = 0; i < packet.length; i++) {
      const y = h[start + i]!;
      xy += packet[i]! * y;
      yy += y * y;
    }
    return yy > 0 ? xy / Math.sqrt(packetEnergy * yy) : Number.NEGATIVE_INFINITY;
  }

  private bestIn(packet: Float32Array, energy: number, from: number, to: number, step: number): AlignMatch {
    let best: AlignMatch = { offset: from, correlation: Number.NEGATIVE_INFINITY };
    for (let offset = from; offset <= to; offset += step) {
      const c = this.correlationAt(packet, energy, offset);
      if (c > best.correlation) best = { offset, correlation: c };
    }
    return best;
  }

  /** Coarse search over the history from `fromOffset` on a decimated copy, refined at full rate. */
  private search(packet: Float32Array, energy: number, fromOffset: number): AlignMatch {
    const n = Math.floor(packet.length / DECIMATE);
    const pd = new Float32Array(n);
    for (let i = 0; i < n; i++) for (let k = 0; k < DECIMATE; k++) pd[i]! += packet[i * DECIMATE + k]!;
    let pdEnergy = 0;
    for (let i = 0; i < n; i++) pdEnergy += pd[i]! * pd[i]!;
    const usable = Math.min(this.length, this.limit - this.base);
    const hd = new Float32Array(Math.max(0, Math.floor(usable / DECIMATE)));
    for (let i = 0; i < hd.length; i++) for (let k = 0; k < DECIMATE; k++) hd[i]! += this.history[i * DECIMATE + k]!;
    let bestLag = 0;
    let bestC = Number.NEGATIVE_INFINITY;
    for (let lag = Math.max(0, Math.ceil((fromOffset - this.base) / DECIMATE)); lag + n <= hd.length; lag++) {
      let xy = 0;
      let yy = 0;
      for (let i = 0; i < n; i++) {
        const y = hd[lag + i]!;
        xy += pd[i]! * y;
        yy += y * y;
      }
      const c = yy > 0 ? xy / Math.sqrt(pdEnergy * yy) : Number.NEGATIVE_INFINITY;
      if (c > bestC) {
        bestC = c;
        bestLag = lag;
      }
    }
    if (bestC === Number.NEGATIVE_INFINITY) return { offset: fromOffset, correlation: bestC };
    const center = this.base + bestLag * DECIMATE;
    return this.bestIn(packet, energy, Math.max(fromOffset, center - 2 * DECIMATE), center + 2 * DECIMATE, 1);
  }

  /**
   * Where a packet (mono sum of the output tracks) sits in the input, without committing to it: null when it is
   * silence (an underrun filler, a silent passage) or matches nothing well enough. `sentBefore`: input samples sent
   * when the packet arrived — content after that cannot be in it, which rules out false locks on repeated music.
   */
  locate(packet: Float32Array, allowSearch = true, sentBefore = Number.POSITIVE_INFINITY): AlignMatch | null {
    this.limit = sentBefore;
    let energy = 0;
    for (let i = 0; i < packet.length; i++) energy += packet[i]! * packet[i]!;
    if (Math.sqrt(energy / packet.length) < SILENCE_RMS) return null;
    if (this.lastOffset !== null) {
      // usually the next packet of content; a dropped packet or two on the way shows as a jump of whole packets.
      // Never the same or earlier content: the server does not repeat output, so a match there would be a false
      // lock on repeated music (loops), and is not considered
      for (const skip of [1, 2, 3, 4, 5]) {
        const center = this.lastOffset + skip * this.packetSamples;
        const m = this.bestIn(packet, energy, center - this.trackRadius, center + this.trackRadius, 1);
        if (m.correlation < this.minCorrelation) continue;
        // lossy coding wobbles the peak by a sample or so: prefer the exact whole-packet step when it is as good,
        // so contiguous content never reads as a 1-sample gap or overlap
        const exact = this.correlationAt(packet, energy, center);
        return exact >= m.correlation - 0.05 ? { offset: center, correlation: exact } : m;
      }
    }
    if (!allowSearch) return null;
    const m = this.search(packet, energy, this.lastOffset === null ? this.base : this.lastOffset + 1);
    if (m.correlation < this.minCorrelation) return null;
    if (this.lastOffset !== null) {
      // output content moves in whole packets: snap a found jump onto the packet grid when that fits as well
      const packets = Math.round((m.offset - this.lastOffset) / this.packetSamples);
      const snapped = this.lastOffset + packets * this.packetSamples;
      if (packets >= 1 && Math.abs(snapped - m.offset) <= SNAP_SAMPLES) {
        const c = this.correlationAt(packet, energy, snapped);
        if (c >= m.correlation - 0.05) return { offset: snapped, correlation: c };
      }
    }
    return m;
  }

  /** Commits a located packet: the next search starts after it. */
  accept(match: AlignMatch): void {
    this.lastOffset = match.offset;
  }

  /** locate + accept, counting silent and unmatched packets. */
  match(packet: Float32Array): AlignMatch | null {
    const found = this.locate(packet);
    if (found === null) {
      if (isSilent(packet)) this.silent += 1;
      else this.unmatched += 1;
      return null;
    }
    this.accept(found);
    return found;
  }
}

export function isSilent(packet: Float32Array): boolean {
  let energy = 0;
  for (let i = 0; i < packet.length; i++) energy += packet[i]! * packet[i]!;
  return Math.sqrt(energy / packet.length) < SILENCE_RMS;
}
