/**
 * The I/O thread's account of a session's input: what it handed to the engine, and what the engine last reported
 * it consumed or dropped. The engine reports cumulative counters with every event, so this view is never older than
 * the last event and errs on the side of more input still queued — pausing reading a little early, never late.
 * Every sample not processed as sent is counted here (reported in stats and done).
 */
import type { InputAdjustments } from '../../client-sdk/src/protocol/index.ts';
import type { EngineProgress } from '../engine/engine-protocol.ts';

export class InputLedger {
  readonly adjustments: InputAdjustments = { inputClampedSamples: 0, inputDroppedSamples: 0, inputIgnoredSamples: 0 };
  private sentSamples = 0;
  private reported: EngineProgress = { inputSamples: 0, droppedSamples: 0, outputSamples: 0, framesProcessed: 0 };
  /** A trim asked of the engine and not yet reported: assumed done, so one overflow asks only once. */
  private assumedDropSamples = 0;

  constructor(private readonly inputRateHz: number) {}

  get progress(): EngineProgress {
    return this.reported;
  }

  /** Input handed to the engine and not yet processed or dropped (per channel, input rate). */
  get bufferedSamples(): number {
    const r = this.reported;
    return Math.max(0, this.sentSamples - r.inputSamples - r.droppedSamples - this.assumedDropSamples);
  }

  get bufferedInputMs(): number {
    return (this.bufferedSamples / this.inputRateHz) * 1000;
  }

  /** Input samples received (processed or queued): where a resuming client continues. */
  get inputSamplesReceived(): number {
    return this.reported.inputSamples + this.bufferedSamples;
  }

  sent(samples: number): void {
    this.sentSamples += samples;
  }

  /** A trim down to `keepSamples` was asked of the engine. */
  trimming(keepSamples: number): void {
    this.assumedDropSamples += Math.max(0, this.bufferedSamples - keepSamples);
  }

  update(progress: EngineProgress): void {
    this.reported = progress;
    this.assumedDropSamples = 0;
    this.adjustments.inputDroppedSamples = progress.droppedSamples;
  }
}
