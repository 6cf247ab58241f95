/**
 * Soft-mask application. Vocals = m · X; accompaniment = X − vocals, so the two spectra (and, after linear overlap-add,
 * the two waveforms) sum to the mixture whatever the mask — mixture consistency holds by construction.
 */
import type { StftFrame } from '../dsp/stft.ts';

/** `mask` is [channels, bins] flattened (the model's per-item layout); writes into the two preallocated frames. */
export function applyMask(mixture: StftFrame, mask: Float32Array, vocals: StftFrame, accompaniment: StftFrame): void {
  const channels = mixture.re.length;
  const bins = mixture.re[0]?.length ?? 0;
  if (mask.length !== channels * bins) throw new RangeError(`mask has ${mask.length} values, need ${channels * bins}`);
  for (let c = 0; c < channels; c++) {
    const xr = mixture.re[c]!;
    const xi = mixture.im[c]!;
    const vr = vocals.re[c]!;
    const vi = vocals.im[c]!;
    const ar = accompaniment.re[c]!;
    const ai = accompaniment.im[c]!;
    const base = c * bins;
    for (let k = 0; k < bins; k++) {
      const m = mask[base + k]!;
      vr[k] = m * xr[k]!;
      vi[k] = m * xi[k]!;
      ar[k] = xr[k]! - vr[k]!;
      ai[k] = xi[k]! - vi[k]!;
    }
  }
}

/** Model input features: |X| per channel and bin, [channels, bins] flattened. */
export function magnitudeFeatures(frame: StftFrame, out: Float32Array): Float32Array {
  const channels = frame.re.length;
  const bins = frame.re[0]?.length ?? 0;
  for (let c = 0; c < channels; c++) {
    const re = frame.re[c]!;
    const im = frame.im[c]!;
    const base = c * bins;
    for (let k = 0; k < bins; k++) out[base + k] = Math.hypot(re[k]!, im[k]!);
  }
  return out;
}
