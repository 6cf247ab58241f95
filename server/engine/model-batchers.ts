/**
 * One batcher per loaded model, the way an engine thread serves them: every stream of the thread steps its model
 * through that model's batcher, so streams with a frame ready share one ONNX Runtime call.
 */
import type { ModelManifest } from '../inference/model-manifest.ts';
import type { LoadedModel } from '../inference/model-registry.ts';
import { warmRatePlans } from '../pipeline/rate-plan.ts';
import { SUPPORTED_SAMPLE_RATES_HZ } from '../../client-sdk/src/protocol/index.ts';
import { Batcher } from './batcher.ts';
import type { EngineModel } from './engine-core.ts';
import type { TelemetryHooks } from './engine-telemetry.ts';

export interface BatchingOptions {
  maxBatch: number;
  batchWindowMs: number;
}

export interface BatchedModels {
  models: Map<string, EngineModel>;
  busyTimeMs(): number;
  queueDepths(): Record<string, number>;
  /** Resolves once no model call is queued or running. */
  idle(): Promise<void>;
}

export function batchModels(loaded: readonly LoadedModel[], options: BatchingOptions, telemetry: TelemetryHooks): BatchedModels {
  const batchers = new Map<string, Batcher>();
  const models = new Map<string, EngineModel>();
  for (const m of loaded) {
    const batcher = new Batcher(m.runtime, { maxBatch: options.maxBatch, windowMs: options.batchWindowMs }, telemetry.batchObserver(m.name));
    batchers.set(m.name, batcher);
    models.set(m.name, { manifest: m.manifest, model: batcher });
  }
  return {
    models,
    busyTimeMs: () => [...batchers.values()].reduce((ms, b) => ms + b.busyTimeMs, 0),
    queueDepths: () => Object.fromEntries([...batchers].map(([name, b]) => [name, b.queueDepth])),
    idle: async () => {
      await Promise.all([...batchers.values()].map((b) => b.idle()));
    },
  };
}

/** Rate plans every stream of a model may need, computed once per thread at startup, not in a session's first hop. */
export function warmModelRatePlans(manifest: ModelManifest): void {
  warmRatePlans(SUPPORTED_SAMPLE_RATES_HZ, manifest.sampleRateHz, manifest.stft.nFft - manifest.stft.hopSamples);
}
