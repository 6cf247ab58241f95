/**
 * Debounced vocal activity from per-hop model probabilities: an exponential moving average (time constant
 * `smoothingMs`) followed by hysteresis and a run-length debounce — on after `onMs` of consecutive smoothed values
 * ≥ threshold, off after `offMs` of values < offThreshold (≤ threshold, so a probability hovering near one
 * threshold cannot toggle the flag). A transition is reported at the offset of the FIRST hop of the run that caused
 * it, so the on/off offsets mark where activity changed, not when the debounce became sure. Pure and synchronous.
 */
export interface VadFlagSettings {
  /** Smoothed probability at or above which the flag turns on. */
  threshold: number;
  /** Smoothed probability below which the flag turns off (default: threshold). */
  offThreshold?: number;
  smoothingMs?: number;
  onMs?: number;
  offMs?: number;
}

/** The flag settings a model ships with (manifest `vadThreshold` + `vadFlag`): what the server and the eval both use. */
export function flagSettingsOf(manifest: { vadThreshold: number; vadFlag?: Omit<VadFlagSettings, 'threshold'> | undefined }): VadFlagSettings {
  return { threshold: manifest.vadThreshold, ...manifest.vadFlag };
}

export interface VadSmootherOptions extends VadFlagSettings {
  hopMs: number;
}

export interface VadTransitionEvent {
  active: boolean;
  sampleOffset: number;
}

export class VadSmoother {
  private readonly threshold: number;
  private readonly offThreshold: number;
  private readonly alpha: number;
  private readonly onHops: number;
  private readonly offHops: number;
  private smoothed = 0;
  private started = false;
  private activeState = false;
  private runLength = 0;
  private runStartOffset = 0;

  constructor(options: VadSmootherOptions) {
    if (!(options.hopMs > 0)) throw new RangeError(`hopMs must be positive, got ${options.hopMs}`);
    this.threshold = options.threshold;
    this.offThreshold = Math.min(options.threshold, options.offThreshold ?? options.threshold);
    const smoothingMs = options.smoothingMs ?? 20;
    this.alpha = smoothingMs > 0 ? Math.exp(-options.hopMs / smoothingMs) : 0;
    this.onHops = Math.max(1, Math.round((options.onMs ?? 30) / options.hopMs));
    this.offHops = Math.max(1, Math.round((options.offMs ?? 150) / options.hopMs));
  }

  get active(): boolean {
    return this.activeState;
  }

  /** Feeds one hop's probability; returns the transition it completes, if any. */
  push(prob: number, sampleOffset: number): VadTransitionEvent | undefined {
    this.smoothed = this.started ? this.alpha * this.smoothed + (1 - this.alpha) * prob : prob;
    this.started = true;
    // While on, "above" means not yet below the off threshold: the band between the two keeps the current state.
    const above = this.smoothed >= (this.activeState ? this.offThreshold : this.threshold);
    if (above === this.activeState) {
      this.runLength = 0;
      return undefined;
    }
    if (this.runLength === 0) this.runStartOffset = sampleOffset;
    this.runLength++;
    if (this.runLength < (above ? this.onHops : this.offHops)) return undefined;
    this.activeState = above;
    this.runLength = 0;
    return { active: above, sampleOffset: this.runStartOffset };
  }

  reset(): void {
    this.smoothed = 0;
    this.started = false;
    this.activeState = false;
    this.runLength = 0;
  }
}
