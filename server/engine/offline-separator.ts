/**
 * Whole-signal separation through the SAME engine code the server runs — an EngineCore stream fed in chunks, its
 * model stepped frame by frame through the Batcher on ONNX Runtime — so evaluation measures exactly what clients get.
 * No offline shortcut: the output equals a live stream's output (latency-compensated, same length as the input).
 */
import type { ModelManifest } from '../inference/model-manifest.ts';
import { loadModelDir } from '../inference/model-registry.ts';
import type { ExecutionProvider } from '../inference/model-runtime.ts';
import type { VocalGateSettings } from '../pipeline/vocal-gate.ts';
import { Batcher } from './batcher.ts';
import { EngineCore } from './engine-core.ts';
import type { EngineEvent, EngineOutput } from './engine-protocol.ts';

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

/** Output spans are large offline: nobody waits for them, and fewer spans means fewer copies. */
const OFFLINE_SPAN_SAMPLES = 1 << 16;

class OfflineCollector {
  readonly vocals: Float32Array[];
  readonly accompaniment: Float32Array[];
  readonly vad: number[] = [];
  written = 0;
  constructor(channels: number, length: number) {
    this.vocals = Array.from({ length: channels }, () => new Float32Array(length));
    this.accompaniment = Array.from({ length: channels }, () => new Float32Array(length));
  }
  add(out: EngineOutput): void {
    if (out.sampleOffset !== this.written) throw new Error(`output not contiguous: span at ${out.sampleOffset}, expected ${this.written}`);
    out.vocals.forEach((ch, c) => this.vocals[c]!.set(ch, out.sampleOffset));
    out.accompaniment.forEach((ch, c) => this.accompaniment[c]!.set(ch, out.sampleOffset));
    this.written += out.sampleCount;
    if (out.vad) this.vad.push(...out.vad.probs);
  }
}

export async function createOfflineSeparator(
  modelDir: string,
  /** `vocalGate` replaces the manifest's vocal gate (null: none) — what `calibrate:gate` compares candidates with. */
  options: { provider?: ExecutionProvider; intraOpThreads?: number; vocalGate?: VocalGateSettings | null } = {},
): Promise<OfflineSeparator> {
  const model = await loadModelDir(modelDir, { provider: options.provider ?? 'cpu', intraOpThreads: options.intraOpThreads ?? 1 });
  const manifest: ModelManifest = options.vocalGate === undefined ? model.manifest : { ...model.manifest, vocalGate: options.vocalGate ?? undefined };
  const batcher = new Batcher(model.runtime, { maxBatch: 1, windowMs: 0 });
  const listeners = new Map<number, (event: EngineEvent) => void>();
  const core = new EngineCore(new Map([[manifest.name, { manifest, model: batcher }]]), {
    emit: (event) => listeners.get(event.streamId)?.(event),
    countFrames: () => undefined,
    countNonFinite: () => undefined,
  });
  let nextId = 1;
  return {
    manifest,
    async separate(mixture, sampleRateHz, chunkSamples = 4096) {
      if (mixture.length !== 1 && mixture.length !== 2) throw new RangeError(`mixture must have 1 or 2 channels, got ${mixture.length}`);
      if (!Number.isInteger(chunkSamples) || chunkSamples < 1) throw new RangeError(`chunkSamples must be a positive integer`);
      const length = mixture[0]!.length;
      if (mixture.some((ch) => ch.length !== length)) throw new RangeError('mixture channels differ in length');
      const streamId = nextId++;
      const out = new OfflineCollector(mixture.length, length);
      const finished = new Promise<void>((resolve, reject) => {
        listeners.set(streamId, (event) => {
          if (event.type === 'output') out.add(event.output);
          else if (event.type === 'drained') resolve();
          else if (event.type === 'failed') reject(new Error(`offline separation failed: ${event.code}: ${event.message}`));
        });
      });
      const config = {
        model: manifest.name,
        inputSampleRateHz: sampleRateHz,
        inputChannels: mixture.length as 1 | 2,
        outputSampleRateHz: sampleRateHz,
        vad: true,
        maxFrameSamples: OFFLINE_SPAN_SAMPLES,
        lowWaterInputSamples: 0,
      };
      try {
        core.handle({ type: 'open', streamId, config });
        for (let offset = 0; offset < length; offset += chunkSamples) {
          const samples = mixture.map((ch) => ch.subarray(offset, Math.min(length, offset + chunkSamples)));
          core.handle({ type: 'audio', streamId, samples, arrivalMs: 0 });
        }
        core.handle({ type: 'marker', streamId, marker: 'end', arrivalMs: 0 });
        await finished;
      } finally {
        listeners.delete(streamId);
        await core.closeStream(streamId);
      }
      if (out.written !== length) throw new Error(`separated ${out.written} samples, expected ${length}`);
      return { vocals: out.vocals, accompaniment: out.accompaniment, vadProb: Float32Array.from(out.vad), hopSamples: manifest.stft.hopSamples };
    },
    close: async () => {
      await core.close();
      await model.runtime.close();
    },
  };
}
