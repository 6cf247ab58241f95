/**
 * One thread's engine: the streams it was given, each stepping its model through the shared per-model batcher, so
 * every stream of this thread with a frame ready shares one model call. Commands in, events out (engine-protocol.ts);
 * the same code runs inside a worker thread (engine-worker.ts), in-thread (in-thread-engine.ts) and offline
 * (offline-separator.ts).
 */
import { LivestemError, toLivestemError } from '../errors.ts';
import type { FrameModel } from '../inference/frame-model.ts';
import type { ModelManifest } from '../inference/model-manifest.ts';
import type { EngineCommand, EngineEvent } from './engine-protocol.ts';
import { StreamEngine } from './stream-engine.ts';

export interface EngineModel {
  manifest: ModelManifest;
  model: FrameModel;
}

export interface EngineCoreHooks {
  emit(event: EngineEvent): void;
  countFrames(frames: number): void;
  countNonFinite(samples: number): void;
  /** Input arrays streams are done with (a worker hands their buffers back to the I/O thread's pool). */
  recycle?(arrays: Float32Array[]): void;
  /**
   * The I/O thread's clock as this thread reads it (ms), for the stage stamps of output spans. Default: this
   * thread's `performance.now()`, which is that clock when the engine runs on the I/O thread.
   */
  now?(): number;
}

export class EngineCore {
  private readonly streams = new Map<number, StreamEngine>();
  private readonly stopping = new Set<Promise<void>>();

  constructor(
    private readonly models: ReadonlyMap<string, EngineModel>,
    private readonly hooks: EngineCoreHooks,
  ) {}

  get streamCount(): number {
    return this.streams.size;
  }

  stream(streamId: number): StreamEngine | undefined {
    return this.streams.get(streamId);
  }

  /** Never throws: a command that breaks its stream fails that stream (a `failed` event), not the thread. */
  handle(command: EngineCommand): void {
    try {
      this.apply(command);
    } catch (err) {
      const error = toLivestemError(err);
      void this.stop(command.streamId);
      this.hooks.emit({ type: 'failed', streamId: command.streamId, code: error.code, message: error.message });
    }
  }

  private apply(command: EngineCommand): void {
    if (command.type === 'open') {
      this.open(command.streamId, command);
      return;
    }
    const stream = this.streams.get(command.streamId);
    // Commands for a stream that already failed or closed are moot: the I/O thread learns of the failure by event.
    if (!stream) return;
    switch (command.type) {
      case 'audio':
        stream.pushAudio(command.samples, command.arrivalMs);
        return;
      case 'marker':
        stream.pushMarker(command.marker, command.arrivalMs);
        return;
      case 'trim-input':
        stream.trimInput(command.keepSamples);
        return;
      case 'close':
        void this.closeStream(command.streamId);
        return;
    }
  }

  /** Stops one stream (no event follows); resolves when its loop has exited (stop() never rejects). */
  closeStream(streamId: number): Promise<void> {
    return this.stop(streamId);
  }

  /** Stops every stream; resolves when their loops have exited. */
  async close(): Promise<void> {
    for (const id of [...this.streams.keys()]) void this.stop(id);
    await Promise.all(this.stopping);
  }

  private open(streamId: number, command: Extract<EngineCommand, { type: 'open' }>): void {
    const entry = this.models.get(command.config.model);
    try {
      if (!entry) throw new LivestemError('LIVESTEM_ERR_UNKNOWN_MODEL', `model "${command.config.model}" is not loaded`);
      const hooks = {
        emit: (event: EngineEvent) => {
          if (event.type === 'failed') void this.stop(streamId);
          this.hooks.emit(event);
        },
        countFrames: (n: number) => this.hooks.countFrames(n),
        countNonFinite: (n: number) => this.hooks.countNonFinite(n),
        recycle: (arrays: Float32Array[]) => this.hooks.recycle?.(arrays),
        now: this.hooks.now?.bind(this.hooks) ?? (() => performance.now()),
      };
      this.streams.set(streamId, new StreamEngine(streamId, command.config, entry.manifest, entry.model.createStream(), hooks));
    } catch (err) {
      const error = toLivestemError(err);
      this.hooks.emit({ type: 'failed', streamId, code: error.code, message: error.message });
    }
  }

  private stop(streamId: number): Promise<void> {
    const stream = this.streams.get(streamId);
    if (!stream) return Promise.resolve();
    this.streams.delete(streamId);
    const stopped = stream.stop().then(() => {
      this.stopping.delete(stopped);
    });
    this.stopping.add(stopped);
    return stopped;
  }
}
