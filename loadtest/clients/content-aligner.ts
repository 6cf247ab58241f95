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

export class ContentAligner {
  private history: Float32Array;
  /** Absolute input index of history[0]. */
  private base = 0;
  private length = 0;
  private lastOffset: number | null = null;
  unmatched = 0;
  silent = 0;

  constructor(
    private readonly packetSamples: number,
    private readonly historySamples: number,
    private readonly minCorrelation = 0.6,
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
    if (start < 0 || start + packet.length > this.length) return Number.NEGATIVE_INFINITY;
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

  /** Coarse search over the whole history on a decimated copy, refined at full rate. */
  private search(packet: Float32Array, energy: number): AlignMatch {
    const n = Math.floor(packet.length / DECIMATE);
    const pd = new Float32Array(n);
    for (let i = 0; i < n; i++) for (let k = 0; k < DECIMATE; k++) pd[i]! += packet[i * DECIMATE + k]!;
    let pdEnergy = 0;
    for (let i = 0; i < n; i++) pdEnergy += pd[i]! * pd[i]!;
    const hd = new Float32Array(Math.floor(this.length / DECIMATE));
    for (let i = 0; i < hd.length; i++) for (let k = 0; k < DECIMATE; k++) hd[i]! += this.history[i * DECIMATE + k]!;
    let bestLag = 0;
    let bestC = Number.NEGATIVE_INFINITY;
    for (let lag = 0; lag + n <= hd.length; lag++) {
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
    const center = this.base + bestLag * DECIMATE;
    return this.bestIn(packet, energy, center - 2 * DECIMATE, center + 2 * DECIMATE, 1);
  }

  /**
   * Input offset of one received packet (mono sum of the output tracks), or null when the packet is silence (an
   * underrun filler, or a silent passage) or matches nothing well enough.
   */
  match(packet: Float32Array): AlignMatch | null {
    let energy = 0;
    for (let i = 0; i < packet.length; i++) energy += packet[i]! * packet[i]!;
    if (Math.sqrt(energy / packet.length) < SILENCE_RMS) {
      this.silent += 1;
      return null;
    }
    let found: AlignMatch | null = null;
    if (this.lastOffset !== null) {
      // usually the next packet of content; a dropped packet or two on the way shows as a jump of whole packets
      for (const skip of [1, 2, 3, 0, 4]) {
        const center = this.lastOffset + skip * this.packetSamples;
        const m = this.bestIn(packet, energy, center - this.trackRadius, center + this.trackRadius, 1);
        if (m.correlation < this.minCorrelation) continue;
        // lossy coding wobbles the peak by a sample or so: prefer the exact whole-packet step when it is as good,
        // so contiguous content never reads as a 1-sample gap or overlap
        const exact = this.correlationAt(packet, energy, center);
        found = exact >= m.correlation - 0.05 ? { offset: center, correlation: exact } : m;
        break;
      }
    }
    if (found === null) {
      const m = this.search(packet, energy);
      if (m.correlation >= this.minCorrelation) found = m;
    }
    if (found === null) {
      this.unmatched += 1;
      return null;
    }
    this.lastOffset = found.offset;
    return found;
  }
}
