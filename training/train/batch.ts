/**
 * Turns audio excerpts into training tensors' data with the server's own STFT (offlineStft), so training and
 * serving see identical features: magnitudes of mixture / vocals / accompaniment, per-frame VAD labels (seed-004
 * rule on the newest hop), and — for the time-domain losses — the mixture STFT and the delayed time targets.
 * Pure and synchronous: runs in the main thread or a worker.
 */
import { offlineStft, stftLatencySamples, type StftConfig } from '../../server/dsp/stft.ts';
import { vocalActivityPerStftFrame } from '../data/vad-labels.ts';

export interface Excerpt {
  mixture: Float32Array[];
  vocals: Float32Array[];
  accompaniment: Float32Array[];
}

export interface BatchData {
  batch: number;
  frames: number;
  bins: number;
  /** [B, T, 2, bins] each. */
  mixMag: Float32Array;
  vocMag: Float32Array;
  accMag: Float32Array;
  /** [B, T] 0/1. */
  vad: Float32Array;
  /** Present when time-domain targets were requested. [B, T, 2, bins] and [B, 2, T·hop]. */
  mixRe?: Float32Array;
  mixIm?: Float32Array;
  vocTime?: Float32Array;
  accTime?: Float32Array;
}

function writeMagnitudes(signal: Float32Array[], cfg: StftConfig, out: Float32Array, base: number, frames: number, re?: Float32Array, im?: Float32Array): void {
  const stft = offlineStft(signal, cfg);
  const bins = cfg.nFft / 2 + 1;
  for (let t = 0; t < frames; t++) {
    const frame = stft[t]!;
    for (let c = 0; c < 2; c++) {
      const o = base + (t * 2 + c) * bins;
      magnitudeRow(frame.re[c]!, frame.im[c]!, out, o, bins);
      if (re !== undefined && im !== undefined) {
        re.set(frame.re[c]!.subarray(0, bins), o);
        im.set(frame.im[c]!.subarray(0, bins), o);
      }
    }
  }
}

/**
 * sqrt(r² + i²) of one frame into `out` at `offset`. Kept monomorphic and free of optional arguments: with the
 * complex copy in the same loop V8 ran it ~5× slower, and it runs 25 M times per batch. (Math.hypot is ~10× slower.)
 */
function magnitudeRow(fr: Float32Array, fi: Float32Array, out: Float32Array, offset: number, bins: number): void {
  for (let k = 0; k < bins; k++) {
    const r = fr[k]!;
    const i = fi[k]!;
    out[offset + k] = Math.sqrt(r * r + i * i);
  }
}

/** Target time signal delayed by the STFT latency, cut to T·hop samples (what a perfect mask reconstructs). */
function writeDelayed(signal: Float32Array[], cfg: StftConfig, out: Float32Array, base: number, samples: number): void {
  const delay = stftLatencySamples(cfg);
  for (let c = 0; c < 2; c++) {
    const x = signal[c]!;
    const o = base + c * samples;
    for (let n = delay; n < samples; n++) out[o + n] = x[n - delay] ?? 0;
  }
}

export function prepareBatch(items: Excerpt[], cfg: StftConfig, timeDomain: boolean): BatchData {
  const B = items.length;
  const length = items[0]?.mixture[0]?.length ?? 0;
  const frames = Math.floor(length / cfg.hopSamples);
  const bins = cfg.nFft / 2 + 1;
  const size = B * frames * 2 * bins;
  const data: BatchData = {
    batch: B,
    frames,
    bins,
    mixMag: new Float32Array(size),
    vocMag: new Float32Array(size),
    accMag: new Float32Array(size),
    vad: new Float32Array(B * frames),
  };
  const samples = frames * cfg.hopSamples;
  if (timeDomain) {
    data.mixRe = new Float32Array(size);
    data.mixIm = new Float32Array(size);
    data.vocTime = new Float32Array(B * 2 * samples);
    data.accTime = new Float32Array(B * 2 * samples);
  }
  items.forEach((item, b) => {
    if (item.mixture.length !== 2 || item.mixture[0]!.length !== length) {
      throw new RangeError('every excerpt in a batch must be stereo with the same length');
    }
    const base = b * frames * 2 * bins;
    writeMagnitudes(item.mixture, cfg, data.mixMag, base, frames, data.mixRe, data.mixIm);
    writeMagnitudes(item.vocals, cfg, data.vocMag, base, frames);
    writeMagnitudes(item.accompaniment, cfg, data.accMag, base, frames);
    const labels = vocalActivityPerStftFrame(item.vocals, cfg);
    for (let t = 0; t < frames; t++) data.vad[b * frames + t] = labels[t] ?? 0;
    if (data.vocTime !== undefined && data.accTime !== undefined) {
      writeDelayed(item.vocals, cfg, data.vocTime, b * 2 * samples, samples);
      writeDelayed(item.accompaniment, cfg, data.accTime, b * 2 * samples, samples);
    }
  });
  return data;
}

/**
 * Per-bin mean and standard deviation of f(|X|) over the cropped mixture bins, channel-major [2·crop]
 * (f = identity for the LSTM, log1p for the U-Net).
 */
export function magnitudeStatistics(batches: BatchData[], cropBins: number, f: (v: number) => number = (v) => v): { mean: Float32Array; std: Float32Array } {
  const n = 2 * cropBins;
  const sum = new Float64Array(n);
  const sumSq = new Float64Array(n);
  let count = 0;
  for (const d of batches) {
    for (let bt = 0; bt < d.batch * d.frames; bt++) {
      for (let c = 0; c < 2; c++) {
        const o = (bt * 2 + c) * d.bins;
        for (let k = 0; k < cropBins; k++) {
          const v = f(d.mixMag[o + k]!);
          sum[c * cropBins + k]! += v;
          sumSq[c * cropBins + k]! += v * v;
        }
      }
      count++;
    }
  }
  const mean = new Float32Array(n);
  const std = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const m = sum[i]! / Math.max(1, count);
    mean[i] = m;
    std[i] = Math.sqrt(Math.max(0, sumSq[i]! / Math.max(1, count) - m * m));
  }
  return { mean, std };
}
