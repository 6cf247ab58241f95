/**
 * Turns audio excerpts into training tensors' data with the server's STFT (offlineStft's values bit for bit, computed
 * by batch-stft.ts without its per-frame overhead), so training and serving see identical features: magnitudes of
 * mixture / vocals / accompaniment, per-frame VAD labels (seed-004 rule on the newest hop), and — for the time-domain losses — the mixture STFT and the delayed time targets.
 * Pure and synchronous: runs in the main thread or a worker.
 */
import { stftLatencySamples, type StftConfig } from '../../server/dsp/stft.ts';
import { vocalActivityPerStftFrame } from '../data/vad-labels.ts';
import { BatchStft } from './batch-stft.ts';

export interface Excerpt {
  mixture: Float32Array[];
  vocals: Float32Array[];
  accompaniment: Float32Array[];
  /**
   * vocalActivityPerStftFrame(vocals, cfg) for the batch's framing when the source already computed it (the sampler
   * does, for its own framing: pass it only when that is the batch's); else computed here.
   */
  vad?: Uint8Array;
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

/** One BatchStft per framing: its PFFFT setup and wasm scratch live as long as the process (a handful of configs). */
const transforms = new Map<string, BatchStft>();

function batchStftFor(cfg: StftConfig): BatchStft {
  const key = `${cfg.nFft}/${cfg.hopSamples}/${cfg.window}`;
  let stft = transforms.get(key);
  if (stft === undefined) {
    stft = new BatchStft(cfg);
    transforms.set(key, stft);
  }
  return stft;
}

/**
 * Output arrays handed back by the consumer of earlier batches, by length. A fresh typed array costs a page fault per
 * 4 KiB on first touch, and a 64 × 1 s batch is ~70 MB of them: on the training VMs that was a quarter of the batch
 * worker's CPU. Reused arrays are fully overwritten (prepareBatch writes every element).
 */
export class BatchBufferPool {
  private readonly free = new Map<number, Float32Array[]>();
  /** Arrays kept per length: a few batches' worth. */
  private static readonly PER_LENGTH = 8;

  take(length: number): Float32Array {
    return this.free.get(length)?.pop() ?? new Float32Array(length);
  }

  give(arrays: Float32Array[]): void {
    for (const a of arrays) {
      if (a.byteOffset !== 0 || a.buffer.byteLength !== a.byteLength) continue; // a view: not ours to reuse
      const list = this.free.get(a.length) ?? [];
      if (list.length < BatchBufferPool.PER_LENGTH && !list.includes(a)) list.push(a);
      this.free.set(a.length, list);
    }
  }
}

/** The arrays of a batch (what a pool can take back). */
export function batchArrays(d: BatchData): Float32Array[] {
  return [d.mixMag, d.vocMag, d.accMag, d.vad, d.mixRe, d.mixIm, d.vocTime, d.accTime].filter((a): a is Float32Array => a !== undefined);
}

/** Target time signal delayed by the STFT latency, cut to T·hop samples (what a perfect mask reconstructs). */
function writeDelayed(signal: Float32Array[], cfg: StftConfig, out: Float32Array, base: number, samples: number): void {
  const delay = stftLatencySamples(cfg);
  for (let c = 0; c < 2; c++) {
    const x = signal[c]!;
    // out[n] = 0 before the delay (the array may be reused), x[n − delay] after; samples ≤ x.length.
    const o = base + c * samples;
    out.fill(0, o, o + Math.min(delay, samples));
    if (samples > delay) out.set(x.subarray(0, samples - delay), o + delay);
  }
}

/** `pool`: where to take the output arrays from (else fresh ones). */
export function prepareBatch(items: Excerpt[], cfg: StftConfig, timeDomain: boolean, pool?: BatchBufferPool): BatchData {
  const B = items.length;
  const length = items[0]?.mixture[0]?.length ?? 0;
  const frames = Math.floor(length / cfg.hopSamples);
  const bins = cfg.nFft / 2 + 1;
  const size = B * frames * 2 * bins;
  const array = (length: number): Float32Array => pool?.take(length) ?? new Float32Array(length);
  const data: BatchData = {
    batch: B,
    frames,
    bins,
    mixMag: array(size),
    vocMag: array(size),
    accMag: array(size),
    vad: array(B * frames),
  };
  const samples = frames * cfg.hopSamples;
  if (timeDomain) {
    data.mixRe = array(size);
    data.mixIm = array(size);
    data.vocTime = array(B * 2 * samples);
    data.accTime = array(B * 2 * samples);
  }
  const stft = batchStftFor(cfg);
  items.forEach((item, b) => {
    if (item.mixture.length !== 2 || item.mixture[0]!.length !== length) {
      throw new RangeError('every excerpt in a batch must be stereo with the same length');
    }
    const base = b * frames * 2 * bins;
    const complex = data.mixRe !== undefined && data.mixIm !== undefined ? { re: data.mixRe, im: data.mixIm } : undefined;
    stft.magnitudes(item.mixture, data.mixMag, base, frames, complex);
    stft.magnitudes(item.vocals, data.vocMag, base, frames);
    stft.magnitudes(item.accompaniment, data.accMag, base, frames);
    const labels = item.vad?.length === frames ? item.vad : vocalActivityPerStftFrame(item.vocals, cfg);
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
