/**
 * The engine on the calling thread (`--engine-workers 0`): the same EngineCore a worker runs, with events delivered
 * synchronously to the stream's listener. Used by unit tests (fake models, a manual clock), the offline separator,
 * and deployments that want one thread; model calls then share the thread with socket I/O.
 */
import type { Engine, EngineListener, EngineStream } from './engine.ts';
import { EngineCore, type EngineModel } from './engine-core.ts';
import type { EngineEvent, EngineStreamConfig } from './engine-protocol.ts';
import type { TelemetryHooks } from './engine-telemetry.ts';

export interface InThreadEngineOptions {
  models: ReadonlyMap<string, EngineModel>;
  telemetry: Omit<TelemetryHooks, 'batchObserver'>;
  busyTimeMs?: () => number;
  queueDepths?: () => Record<string, number>;
  /** Releases the models once every stream has stopped. */
  release?: () => Promise<void>;
}

export class InThreadEngine implements Engine {
  readonly workerCount = 0;
  private readonly core: EngineCore;
  private readonly listeners = new Map<number, EngineListener>();
  private nextId = 1;
  private closing: Promise<void> | undefined;

  constructor(private readonly options: InThreadEngineOptions) {
    this.core = new EngineCore(options.models, {
      emit: (event) => this.deliver(event),
      countFrames: (n) => options.telemetry.countFrames(n),
      countNonFinite: (n) => options.telemetry.countNonFinite(n),
    });
  }

  open(config: EngineStreamConfig, listener: EngineListener): EngineStream {
    const streamId = this.nextId++;
    this.listeners.set(streamId, listener);
    this.core.handle({ type: 'open', streamId, config });
    const core = this.core;
    let closed: Promise<void> | undefined;
    return {
      pushAudio: (samples, arrivalMs) => core.handle({ type: 'audio', streamId, samples, arrivalMs }),
      pushMarker: (marker, arrivalMs) => core.handle({ type: 'marker', streamId, marker, arrivalMs }),
      trimInput: (keepSamples) => core.handle({ type: 'trim-input', streamId, keepSamples }),
      close: () => {
        this.listeners.delete(streamId);
        return (closed ??= core.closeStream(streamId));
      },
    };
  }

  /** Nothing to hand back across threads: plain arrays, left to the garbage collector once processed. */
  inputBuffers(channels: number, frames: number): Float32Array[] {
    return Array.from({ length: channels }, () => new Float32Array(frames));
  }

  busyTimeMs(): number {
    return this.options.busyTimeMs?.() ?? 0;
  }

  queueDepth(model: string): number {
    return this.options.queueDepths?.()[model] ?? 0;
  }

  close(): Promise<void> {
    return (this.closing ??= (async () => {
      await this.core.close();
      await this.options.release?.();
    })());
  }

  private deliver(event: EngineEvent): void {
    this.listeners.get(event.streamId)?.(event);
  }
}
