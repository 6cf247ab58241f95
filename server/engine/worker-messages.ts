/**
 * Messages between the I/O thread and an engine worker (engine-worker.ts), on top of the engine's own commands and
 * events. Structured-clone safe; audio arrays are transferred.
 */
import type { ExecutionProvider } from '../inference/model-runtime.ts';
import type { EngineCommand, EngineEvent, EngineTelemetry } from './engine-protocol.ts';

/** Given to each worker at spawn (`workerData`). */
export interface EngineWorkerData {
  modelsDir: string;
  defaultModel: string;
  provider: ExecutionProvider | 'auto';
  intraOpThreads: number;
  maxBatch: number;
  batchWindowMs: number;
  /**
   * The I/O thread's `performance.timeOrigin`: the worker stamps spans on the I/O clock as
   * `performance.now() + (performance.timeOrigin − ioTimeOriginMs)` (set by the pool).
   */
  ioTimeOriginMs: number;
}

/** Commands go in batches: everything one turn of the I/O thread has for a worker (one socket read's messages). */
export type ToWorker = { type: 'commands'; commands: EngineCommand[] } | { type: 'shutdown' };

export interface LoadedModelInfo {
  name: string;
  provider: ExecutionProvider;
  fallbackReason: string | undefined;
}

export type FromWorker =
  | { type: 'ready'; models: LoadedModelInfo[] }
  | { type: 'load-failed'; message: string }
  /**
   * Everything one event-loop turn of the worker produced, in order, with the telemetry of that turn and the input
   * buffers it finished with (transferred back for the I/O thread to decode into again).
   */
  | { type: 'events'; events: EngineEvent[]; telemetry: EngineTelemetry | undefined; recycled: ArrayBuffer[] }
  | { type: 'closed' };
