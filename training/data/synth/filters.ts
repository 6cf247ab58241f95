/** RBJ-cookbook biquads and a Klatt formant resonator: the small filters the voice synthesis needs. Pure. */

export class Biquad {
  private x1 = 0;
  private x2 = 0;
  private y1 = 0;
  private y2 = 0;

  private constructor(private b0: number, private b1: number, private b2: number, private a1: number, private a2: number) {}

  private static make(b0: number, b1: number, b2: number, a0: number, a1: number, a2: number): Biquad {
    return new Biquad(b0 / a0, b1 / a0, b2 / a0, a1 / a0, a2 / a0);
  }

  static lowpass(sampleRateHz: number, cutoffHz: number, q = Math.SQRT1_2): Biquad {
    const w = (2 * Math.PI * Math.min(cutoffHz, sampleRateHz * 0.49)) / sampleRateHz;
    const alpha = Math.sin(w) / (2 * q);
    const c = Math.cos(w);
    return Biquad.make((1 - c) / 2, 1 - c, (1 - c) / 2, 1 + alpha, -2 * c, 1 - alpha);
  }

  static highpass(sampleRateHz: number, cutoffHz: number, q = Math.SQRT1_2): Biquad {
    const w = (2 * Math.PI * Math.min(cutoffHz, sampleRateHz * 0.49)) / sampleRateHz;
    const alpha = Math.sin(w) / (2 * q);
    const c = Math.cos(w);
    return Biquad.make((1 + c) / 2, -(1 + c), (1 + c) / 2, 1 + alpha, -2 * c, 1 - alpha);
  }

  /** Band-pass with 0 dB peak gain. */
  static bandpass(sampleRateHz: number, centreHz: number, q: number): Biquad {
    const w = (2 * Math.PI * Math.min(centreHz, sampleRateHz * 0.49)) / sampleRateHz;
    const alpha = Math.sin(w) / (2 * q);
    const c = Math.cos(w);
    return Biquad.make(alpha, 0, -alpha, 1 + alpha, -2 * c, 1 - alpha);
  }

  process(x: number): number {
    const y = this.b0 * x + this.b1 * this.x1 + this.b2 * this.x2 - this.a1 * this.y1 - this.a2 * this.y2;
    this.x2 = this.x1;
    this.x1 = x;
    this.y2 = this.y1;
    this.y1 = y;
    return y;
  }

  processBuffer(x: Float32Array): Float32Array {
    const out = new Float32Array(x.length);
    for (let i = 0; i < x.length; i++) out[i] = this.process(x[i] ?? 0);
    return out;
  }
}

/** Klatt's digital resonator (unity gain at DC); frequency and bandwidth can change every few samples. */
export class Resonator {
  private a = 1;
  private b = 0;
  private c = 0;
  private y1 = 0;
  private y2 = 0;

  constructor(private readonly sampleRateHz: number) {}

  set(freqHz: number, bandwidthHz: number): void {
    const t = 1 / this.sampleRateHz;
    const f = Math.min(freqHz, this.sampleRateHz * 0.45);
    this.c = -Math.exp(-2 * Math.PI * bandwidthHz * t);
    this.b = 2 * Math.exp(-Math.PI * bandwidthHz * t) * Math.cos(2 * Math.PI * f * t);
    this.a = 1 - this.b - this.c;
  }

  process(x: number): number {
    const y = this.a * x + this.b * this.y1 + this.c * this.y2;
    this.y2 = this.y1;
    this.y1 = y;
    return y;
  }
}
