/**
 * A causal gate on the vocals stem, driven by the model's own per-hop vocal-activity probability. Where the model
 * is sure nobody sings, the mask's residue (hi-hats, synth leads, reverb the mask half-takes) is moved from the vocals
 * to the accompaniment — the two stems still sum to the mixture — so a karaoke track keeps its intro and breaks
 * intact and an isolated vocal track is quiet between phrases. The gain follows the probability through a linear
 * ramp between two thresholds and a one-pole smoother with separate opening and closing time constants, so a
 * flickering probability does not modulate the audio hop by hop. No look-ahead: it adds no latency.
 * Settings are chosen per model on validation (`npm run calibrate:gate`) and shipped in its manifest. Pure.
 */
export interface VocalGateSettings {
  /** Probability at or below which the gain targets `floorGain`. */
  lowProb: number;
  /** Probability at or above which the gain targets 1 (> lowProb). */
  highProb: number;
  /** Gain applied where the model is sure nobody sings, in [0, 1]. */
  floorGain: number;
  /** Time constant of a rising gain. */
  openMs: number;
  /** Time constant of a falling gain. */
  closeMs: number;
}

export class VocalGate {
  private readonly openCoefficient: number;
  private readonly closeCoefficient: number;
  private gainNow = 1;

  constructor(
    private readonly settings: VocalGateSettings,
    hopMs: number,
  ) {
    if (!(hopMs > 0)) throw new RangeError(`hopMs must be positive, got ${hopMs}`);
    if (!(settings.highProb > settings.lowProb)) throw new RangeError(`highProb (${settings.highProb}) must exceed lowProb (${settings.lowProb})`);
    this.openCoefficient = settings.openMs > 0 ? Math.exp(-hopMs / settings.openMs) : 0;
    this.closeCoefficient = settings.closeMs > 0 ? Math.exp(-hopMs / settings.closeMs) : 0;
  }

  /** The gain for the hop whose probability is `prob`. A non-finite probability leaves the stem as it is. */
  next(prob: number): number {
    const { lowProb, highProb, floorGain } = this.settings;
    const ramp = Number.isFinite(prob) ? Math.min(1, Math.max(0, (prob - lowProb) / (highProb - lowProb))) : 1;
    const target = floorGain + (1 - floorGain) * ramp;
    const a = target > this.gainNow ? this.openCoefficient : this.closeCoefficient;
    this.gainNow = a * this.gainNow + (1 - a) * target;
    return this.gainNow;
  }

  reset(): void {
    this.gainNow = 1;
  }
}
