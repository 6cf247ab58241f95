/**
 * Builds the server's engine from its config: a pool of `engineWorkers` worker threads (each loads every model), or
 * with 0 the in-thread engine (models loaded here). Either way the I/O thread learns every model's manifest, and
 * which execution provider each model runs on for the startup log.
 */
import type { ModelManifest } from '../inference/model-manifest.ts';
import { ModelRegistry, readModelDirs } from '../inference/model-registry.ts';
import type { ExecutionProvider } from '../inference/model-runtime.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics/metrics.ts';
import type { Engine } from './engine.ts';
import { metricsTelemetry, recordTelemetry } from './engine-telemetry.ts';
import { InThreadEngine } from './in-thread-engine.ts';
import { batchModels, warmModelRatePlans } from './model-batchers.ts';
import { WorkerPool } from './worker-pool.ts';

export interface EngineConfig {
  engineWorkers: number;
  modelsDir: string;
  defaultModel: string;
  provider: ExecutionProvider | 'auto';
  ortThreads: number;
  maxBatch: number;
  batchWindowMs: number;
}

export interface ServedModel {
  manifest: ModelManifest;
  executionProvider: ExecutionProvider;
  /** Why `auto` fell back to CPU, if it did. */
  fallbackReason: string | undefined;
}

export async function createEngine(config: EngineConfig, metrics: Metrics, log: Logger): Promise<{ engine: Engine; models: ServedModel[] }> {
  if (config.engineWorkers === 0) {
    const registry = await ModelRegistry.load(config.modelsDir, config.defaultModel, { provider: config.provider, intraOpThreads: config.ortThreads });
    const telemetry = metricsTelemetry(metrics);
    const batched = batchModels(registry.list(), config, telemetry);
    const engine = new InThreadEngine({
      models: batched.models,
      telemetry,
      busyTimeMs: () => batched.busyTimeMs(),
      queueDepths: () => batched.queueDepths(),
      release: async () => {
        await batched.idle();
        await registry.close();
      },
    });
    for (const m of registry.list()) warmModelRatePlans(m.manifest);
    return {
      engine,
      models: registry.list().map((m) => ({ manifest: m.manifest, executionProvider: m.runtime.provider, fallbackReason: m.runtime.fallbackReason })),
    };
  }
  const dirs = await readModelDirs(config.modelsDir, config.defaultModel);
  const pool = await WorkerPool.start({
    workers: config.engineWorkers,
    workerData: {
      modelsDir: config.modelsDir,
      defaultModel: config.defaultModel,
      provider: config.provider,
      intraOpThreads: config.ortThreads,
      maxBatch: config.maxBatch,
      batchWindowMs: config.batchWindowMs,
    },
    log,
    onTelemetry: (telemetry) => recordTelemetry(metrics, telemetry),
  });
  for (const { manifest } of dirs) warmModelRatePlans(manifest);
  const models = dirs.map(({ manifest }) => {
    const loaded = pool.loadedModels.find((m) => m.name === manifest.name);
    return { manifest, executionProvider: loaded?.provider ?? 'cpu', fallbackReason: loaded?.fallbackReason };
  });
  return { engine: pool, models };
}
