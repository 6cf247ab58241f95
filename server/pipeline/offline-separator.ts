/**
 * Whole-signal separation through the SAME streaming path the server uses — SeparationPipeline fed in chunks, the
 * model stepped frame by frame through the Batcher on ONNX Runtime — so evaluation measures exactly what clients get.
 * No offline shortcut: the output equals a live stream's output (latency-compensated, same length as the input).
 */
import { Batcher } from '../inference/batcher.ts';
import type { FrameModelStream } from '../inference/frame-model.ts';
import type { ModelManifest } from '../inference/model-manifest.ts';
import { loadModelDir } from '../inference/model-registry.ts';
import type { ExecutionProvider } from '../inference/model-runtime.ts';
import { SeparationPipeline } from './separation-pipeline.ts';

export interface OfflineSeparation {
  /** Planar, same channel count and length as the mixture, aligned with it sample for sample. */
  vocals: Float32Array[];
  accompaniment: Float32Array[];
  /**
   * One VAD probability per STFT frame whose newest hop lies inside the input: vadProb[k] describes model-rate input
   * samples [k·hop, (k+1)·hop) — the same framing as training/data/vad-labels.ts `vocalActivityPerStftFrame`
   * (floor(length / hop) values when the mixture is at the model rate).
   */
  vadProb: Float32Array;
  /** The model's hop in model-rate samples. */
  hopSamples: number;
}

export interface OfflineSeparator {
  manifest: ModelManifest;
  separate(mixture: Float32Array[], sampleRateHz: number, chunkSamples?: number): Promise<OfflineSeparation>;
  close(): Promise<void>;
}

async function drain(pipeline: SeparationPipeline, stream: FrameModelStream, out: OfflineCollector): Promise<void> {
  while (pipeline.framesPending > 0) {
    const { mask, vadProb } = await stream.step(pipeline.nextFeatures());
    const block = pipeline.completeFrame(mask, vadProb);
    out.add(block.sampleOffset, block.vocals, block.accompaniment);
    if (block.vad) out.vad.push(block.vad.prob);
  }
}

class OfflineCollector {
  readonly vocals: Float32Array[];
  readonly accompaniment: Float32Array[];
  readonly vad: number[] = [];
  written = 0;
  constructor(channels: number, length: number) {
    this.vocals = Array.from({ length: channels }, () => new Float32Array(length));
    this.accompaniment = Array.from({ length: channels }, () => new Float32Array(length));
  }
  add(offset: number, vocals: Float32Array[], accompaniment: Float32Array[]): void {
    if (offset !== this.written) throw new Error(`output not contiguous: block at ${offset}, expected ${this.written}`);
    vocals.forEach((ch, c) => this.vocals[c]!.set(ch, offset));
    accompaniment.forEach((ch, c) => this.accompaniment[c]!.set(ch, offset));
    this.written += vocals[0]?.length ?? 0;
  }
}

export async function createOfflineSeparator(
  modelDir: string,
  options: { provider?: ExecutionProvider; intraOpThreads?: number } = {},
): Promise<OfflineSeparator> {
  const model = await loadModelDir(modelDir, { provider: options.provider ?? 'cpu', intraOpThreads: options.intraOpThreads ?? 1 });
  const { manifest } = model;
  const batcher = new Batcher(model.runtime, { maxBatch: 1, windowMs: 0 });
  return {
    manifest,
    async separate(mixture, sampleRateHz, chunkSamples = 4096) {
      if (mixture.length !== 1 && mixture.length !== 2) throw new RangeError(`mixture must have 1 or 2 channels, got ${mixture.length}`);
      if (!Number.isInteger(chunkSamples) || chunkSamples < 1) throw new RangeError(`chunkSamples must be a positive integer`);
      const length = mixture[0]!.length;
      if (mixture.some((ch) => ch.length !== length)) throw new RangeError('mixture channels differ in length');
      const pipeline = new SeparationPipeline({
        model: manifest,
        inputRateHz: sampleRateHz,
        inputChannels: mixture.length,
        outputRateHz: sampleRateHz,
      });
      const stream = batcher.createStream();
      const out = new OfflineCollector(mixture.length, length);
      try {
        for (let offset = 0; offset < length; offset += chunkSamples) {
          pipeline.push(mixture.map((ch) => ch.subarray(offset, Math.min(length, offset + chunkSamples))));
          await drain(pipeline, stream, out);
        }
        pipeline.end();
        await drain(pipeline, stream, out);
      } finally {
        stream.close();
      }
      if (out.written !== length) throw new Error(`separated ${out.written} samples, expected ${length}`);
      return {
        vocals: out.vocals,
        accompaniment: out.accompaniment,
        vadProb: Float32Array.from(out.vad),
        hopSamples: manifest.stft.hopSamples,
      };
    },
    close: () => model.runtime.close(),
  };
}
