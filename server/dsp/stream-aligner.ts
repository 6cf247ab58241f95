/**
 * Latency compensation and end-of-stream accounting for a stage that delays its input by a fixed number of
 * samples and emits output in blocks (the STFT/ISTFT pair: nFft − hop samples, hop-sized blocks).
 *
 * Output sample t of the aligned stream corresponds to input sample t: the first `latencySamples` delayed
 * samples are dropped, and after `flushPaddingSamples()` zeros have been pushed, the output is cut to exactly the
 * number of input samples. Pure bookkeeping: no buffers of audio besides the slices it returns.
 */
export class StreamAligner {
  readonly latencySamples: number;
  readonly blockSamples: number;
  private inputSamples = 0;
  private delayedSeen = 0;
  private alignedOut = 0;
  private ended = false;

  constructor(latencySamples: number, blockSamples: number) {
    this.latencySamples = latencySamples;
    this.blockSamples = blockSamples;
  }

  /** Records real input (not flush padding). */
  noteInput(samples: number): void {
    if (this.ended) throw new Error('input after end of stream');
    this.inputSamples += samples;
  }

  /**
   * Zeros to push after the last real sample so that every input sample reaches the output. Marks the stream as
   * ended: later `align` calls cut the output at the input length.
   */
  flushPaddingSamples(): number {
    this.ended = true;
    const needed = this.inputSamples + this.latencySamples;
    return Math.ceil(needed / this.blockSamples) * this.blockSamples - this.inputSamples;
  }

  /** Takes delayed output (planar) and returns the part that belongs to the aligned stream. */
  align(delayed: Float32Array[]): Float32Array[] {
    const length = delayed[0]?.length ?? 0;
    const start = Math.max(0, Math.min(length, this.latencySamples - this.delayedSeen));
    this.delayedSeen += length;
    let end = length;
    if (this.ended) end = Math.max(start, Math.min(length, start + this.inputSamples - this.alignedOut));
    this.alignedOut += end - start;
    return delayed.map((ch) => ch.subarray(start, end));
  }

  /** Samples of the aligned stream emitted so far (= offset of the next output sample). */
  get outputSamples(): number {
    return this.alignedOut;
  }

  get inputSamplesSeen(): number {
    return this.inputSamples;
  }
}
