/**
 * Reference separations every model is judged against, all aligned with the mixture sample for sample:
 * - oracle IRM: the ideal ratio mask |V| / (|V| + |A|) from the true stems, applied to the mixture with OUR causal
 *   STFT/OLA (server/dsp/stft.ts), then latency-compensated — the ceiling of any mask model with this framing;
 * - center channel: what old karaoke machines do — the side signal (L−R)/2 on both channels as accompaniment (the
 *   centre-panned voice cancels, and so does everything else in the centre), the mid (L+R)/2 on both channels as
 *   vocals. The side goes out mono, as on those machines; the anti-phase pair ((L−R)/2, (R−L)/2) would also be
 *   "silent" to BSS-Eval, whose silence test sums the channels;
 * - mixture: the mixture as both estimates; half-mixture: 0.5·mixture for both (a constant 0.5 mask).
 */
import { emptyFrame, OlaSynthesizer, StftAnalyzer, stftLatencySamples, type StftConfig, type StftFrame } from '../../server/dsp/stft.ts';

export interface SeparationEstimate {
  vocals: Float32Array[];
  accompaniment: Float32Array[];
}

export const BASELINE_METHODS = ['oracle-irm', 'center-channel', 'mixture', 'half-mixture'] as const;
export type BaselineMethod = (typeof BASELINE_METHODS)[number];

const CHUNK_SAMPLES = 16384;

function slice(signal: Float32Array[], start: number, end: number): Float32Array[] {
  return signal.map((ch) => {
    const out = new Float32Array(end - start);
    if (start < ch.length) out.set(ch.subarray(start, Math.min(end, ch.length)));
    return out;
  });
}

/**
 * Masks the mixture frame by frame with `maskOf(mixFrame, vocFrame, accFrame)` → vocals mask per channel and bin,
 * resynthesises vocals and accompaniment (mixture × (1 − mask)), and removes the STFT latency so that the outputs
 * are as long as the input and aligned with it. Streams in chunks: memory stays flat for long tracks.
 */
export function maskSeparate(
  mixture: Float32Array[],
  vocals: Float32Array[],
  accompaniment: Float32Array[],
  cfg: StftConfig,
  maskOf: (mix: StftFrame, voc: StftFrame, acc: StftFrame, out: Float32Array[]) => void,
): SeparationEstimate {
  const channels = mixture.length;
  const length = mixture[0]?.length ?? 0;
  const latency = stftLatencySamples(cfg);
  const analyzers = [mixture, vocals, accompaniment].map(() => new StftAnalyzer(cfg, channels));
  const vocOla = new OlaSynthesizer(cfg, channels);
  const accOla = new OlaSynthesizer(cfg, channels);
  const bins = cfg.nFft / 2 + 1;
  const mask = Array.from({ length: channels }, () => new Float32Array(bins));
  // OlaSynthesizer.push consumes a frame before returning, so two frames are reused for the whole track
  const vocFrame = emptyFrame(bins, channels);
  const accFrame = emptyFrame(bins, channels);
  const out: SeparationEstimate = {
    vocals: Array.from({ length: channels }, () => new Float32Array(length)),
    accompaniment: Array.from({ length: channels }, () => new Float32Array(length)),
  };
  let produced = 0;
  const emit = (target: Float32Array[], block: Float32Array[], at: number): void => {
    for (let c = 0; c < block.length; c++) {
      const ch = block[c]!;
      const dst = target[c]!;
      for (let i = 0; i < ch.length; i++) {
        const t = at + i - latency;
        if (t >= 0 && t < length) dst[t] = ch[i]!;
      }
    }
  };
  // the padding flushes the last input samples through the latency
  const total = length + latency + cfg.hopSamples;
  for (let start = 0; start < total; start += CHUNK_SAMPLES) {
    const end = Math.min(total, start + CHUNK_SAMPLES);
    const [mixFrames, vocFrames, accFrames] = [mixture, vocals, accompaniment].map((s, k) => analyzers[k]!.push(slice(s, start, end)));
    mixFrames!.forEach((mf, f) => {
      maskOf(mf, vocFrames![f]!, accFrames![f]!, mask);
      for (let c = 0; c < channels; c++) {
        const m = mask[c]!;
        const re = mf.re[c]!;
        const im = mf.im[c]!;
        const vr = vocFrame.re[c]!;
        const vi = vocFrame.im[c]!;
        const ar = accFrame.re[c]!;
        const ai = accFrame.im[c]!;
        for (let k = 0; k < bins; k++) {
          const g = m[k]!;
          vr[k] = g * re[k]!;
          vi[k] = g * im[k]!;
          ar[k] = (1 - g) * re[k]!;
          ai[k] = (1 - g) * im[k]!;
        }
      }
      emit(out.vocals, vocOla.push(vocFrame), produced);
      emit(out.accompaniment, accOla.push(accFrame), produced);
      produced += cfg.hopSamples;
    });
  }
  return out;
}

/** Ideal ratio mask |V| / (|V| + |A|) (0 where both are 0, i.e. where the mixture bin is 0 too). */
export function oracleIrm(mixture: Float32Array[], vocals: Float32Array[], accompaniment: Float32Array[], cfg: StftConfig): SeparationEstimate {
  return maskSeparate(mixture, vocals, accompaniment, cfg, (_mix, voc, acc, out) => {
    out.forEach((m, c) => {
      const vr = voc.re[c]!;
      const vi = voc.im[c]!;
      const ar = acc.re[c]!;
      const ai = acc.im[c]!;
      for (let k = 0; k < m.length; k++) {
        const v = Math.sqrt(vr[k]! * vr[k]! + vi[k]! * vi[k]!);
        const a = Math.sqrt(ar[k]! * ar[k]! + ai[k]! * ai[k]!);
        m[k] = v + a > 0 ? v / (v + a) : 0;
      }
    });
  });
}

/** Centre-channel cancellation: accompaniment = (L−R)/2 on both channels, vocals = (L+R)/2 on both channels. */
export function centerChannel(mixture: Float32Array[]): SeparationEstimate {
  if (mixture.length !== 2) throw new RangeError('center-channel separation needs a stereo mixture');
  const [l, r] = mixture as [Float32Array, Float32Array];
  const mid = new Float32Array(l.length);
  const side = new Float32Array(l.length);
  for (let i = 0; i < l.length; i++) {
    mid[i] = (l[i]! + r[i]!) / 2;
    side[i] = (l[i]! - r[i]!) / 2;
  }
  return { vocals: [mid, Float32Array.from(mid)], accompaniment: [side, Float32Array.from(side)] };
}

export function mixtureAsEstimate(mixture: Float32Array[]): SeparationEstimate {
  return { vocals: mixture.map((ch) => Float32Array.from(ch)), accompaniment: mixture.map((ch) => Float32Array.from(ch)) };
}

export function halfMixture(mixture: Float32Array[]): SeparationEstimate {
  const half = (): Float32Array[] =>
    mixture.map((ch) => {
      const out = new Float32Array(ch.length);
      for (let i = 0; i < ch.length; i++) out[i] = 0.5 * ch[i]!;
      return out;
    });
  return { vocals: half(), accompaniment: half() };
}

export function runBaseline(
  method: BaselineMethod,
  mixture: Float32Array[],
  vocals: Float32Array[],
  accompaniment: Float32Array[],
  cfg: StftConfig,
): SeparationEstimate {
  switch (method) {
    case 'oracle-irm':
      return oracleIrm(mixture, vocals, accompaniment, cfg);
    case 'center-channel':
      return centerChannel(mixture);
    case 'mixture':
      return mixtureAsEstimate(mixture);
    case 'half-mixture':
      return halfMixture(mixture);
  }
}
