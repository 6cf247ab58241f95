/**
 * What the I/O thread holds of the engine: open a stream, feed it, close it. Two implementations behind one
 * interface — a pool of worker threads (the default: model steps never share a thread with socket I/O) and the
 * in-thread engine (`--engine-workers 0`: unit tests with fake models, the offline separator, tiny deployments).
 * Events for a stream arrive through the listener given to `open`, on the I/O thread.
 */
import type { EngineEvent, EngineStreamConfig } from './engine-protocol.ts';

export type EngineListener = (event: EngineEvent) => void;

export interface EngineStream {
  /** Planar input at the client rate; the arrays are handed over (transferred to a worker): do not reuse them. */
  pushAudio(samples: Float32Array[], arrivalMs: number): void;
  pushMarker(marker: 'flush' | 'end', arrivalMs: number): void;
  trimInput(keepSamples: number): void;
  /** Stops the stream; no event follows. Resolves when its processing has stopped. Idempotent. */
  close(): Promise<void>;
}

export interface Engine {
  /** Engine threads (0 for the in-thread engine). */
  readonly workerCount: number;
  open(config: EngineStreamConfig, listener: EngineListener): EngineStream;
  /**
   * Planar arrays (`channels` × `frames`) to decode client audio into before `pushAudio`: reused buffers where the
   * engine hands them back (workers), so steady streaming allocates no input audio. Contents are stale.
   */
  inputBuffers(channels: number, frames: number): Float32Array[];
  /** Cumulative time the engine was busy, averaged over its threads (load estimation). */
  busyTimeMs(): number;
  /** Frames waiting for a model call, over every engine thread. */
  queueDepth(model: string): number;
  /** Stops every stream and releases models and threads. */
  close(): Promise<void>;
}
