/**
 * Engine-side counts on their way to the I/O thread's Prometheus metrics: recorded directly for the in-thread
 * engine, accumulated per event-loop turn and posted with the events for a worker (metrics live on the I/O thread).
 */
import type { BatchObserver } from './batcher.ts';
import type { EngineTelemetry } from './engine-protocol.ts';
import type { Metrics } from '../metrics/metrics.ts';

export interface TelemetryHooks {
  countFrames(frames: number): void;
  countNonFinite(samples: number): void;
  batchObserver(model: string): BatchObserver;
}

/** Records engine telemetry straight into the metrics (the in-thread engine). */
export function metricsTelemetry(metrics: Metrics): TelemetryHooks {
  return {
    countFrames: (n) => metrics.modelFrames.inc(n),
    countNonFinite: (n) => metrics.outputNonFiniteSamples.inc(n),
    batchObserver: (model) => ({ onBatch: (size, runMs, maxWaitMs) => recordBatch(metrics, { model, size, runMs, maxWaitMs }) }),
  };
}

export function recordTelemetry(metrics: Metrics, telemetry: EngineTelemetry): void {
  if (telemetry.modelFrames > 0) metrics.modelFrames.inc(telemetry.modelFrames);
  if (telemetry.outputNonFiniteSamples > 0) metrics.outputNonFiniteSamples.inc(telemetry.outputNonFiniteSamples);
  for (const batch of telemetry.batches) recordBatch(metrics, batch);
}

function recordBatch(metrics: Metrics, b: EngineTelemetry['batches'][number]): void {
  metrics.batchSize.observe({ model: b.model }, b.size);
  metrics.inferenceSeconds.observe({ model: b.model }, b.runMs / 1000);
  metrics.batchWaitSeconds.observe({ model: b.model }, b.maxWaitMs / 1000);
}

/** Collects telemetry between posts (a worker). */
export class TelemetryAccumulator implements TelemetryHooks {
  private pending: EngineTelemetry = empty();
  private dirty = false;

  constructor(private readonly onDirty: () => void) {}

  countFrames(frames: number): void {
    this.pending.modelFrames += frames;
    this.mark();
  }

  countNonFinite(samples: number): void {
    this.pending.outputNonFiniteSamples += samples;
    this.mark();
  }

  batchObserver(model: string): BatchObserver {
    return {
      onBatch: (size, runMs, maxWaitMs) => {
        this.pending.batches.push({ model, size, runMs, maxWaitMs });
        this.mark();
      },
    };
  }

  /** What accumulated since the last take (undefined when nothing did), with the queue depths now. */
  take(queueDepth: Record<string, number>): EngineTelemetry | undefined {
    if (!this.dirty) return undefined;
    const out = { ...this.pending, queueDepth };
    this.pending = empty();
    this.dirty = false;
    return out;
  }

  private mark(): void {
    if (this.dirty) return;
    this.dirty = true;
    this.onDirty();
  }
}

function empty(): EngineTelemetry {
  return { modelFrames: 0, outputNonFiniteSamples: 0, batches: [], queueDepth: {} };
}
