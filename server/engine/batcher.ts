/**
 * Cross-stream batching: every stream with a frame ready is stepped in ONE ORT call. A batch starts when
 *   - it is full (`maxBatch`), or every registered stream is waiting (nobody else can join), or
 *   - the oldest waiting frame has waited `windowMs` (the deadline: no frame waits longer for company),
 * and, while a run is in flight, arriving frames wait for it and go next. Runs are serialised per model; each
 * stream has at most one frame queued (its next frame needs the state its previous one produces).
 * A failed batched run is retried frame by frame, so only the frames that fail alone are rejected.
 */
import { LivestemError } from '../errors.ts';
import type { FrameModel, FrameModelStream, FrameOutput } from '../inference/frame-model.ts';
import type { BatchItem } from '../inference/model-runtime.ts';
import type { RecurrentState } from '../inference/recurrent-state.ts';

export interface BatchRunner {
  createState(): RecurrentState;
  run(items: readonly BatchItem[]): Promise<FrameOutput[]>;
}

export interface BatcherOptions {
  maxBatch: number;
  windowMs: number;
}

export interface BatchObserver {
  /** After every run: its size, the ORT call's duration and the longest queue wait in it. */
  onBatch(size: number, runMs: number, maxWaitMs: number): void;
}

export interface Timers {
  now(): number;
  setTimeout(fn: () => void, ms: number): { cancel(): void };
}

export const realTimers: Timers = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => {
    const handle = ms <= 0 ? setImmediate(fn) : setTimeout(fn, ms);
    return { cancel: () => (ms <= 0 ? clearImmediate(handle as NodeJS.Immediate) : clearTimeout(handle as NodeJS.Timeout)) };
  },
};

interface Waiting {
  stream: BatchedStream;
  features: Float32Array;
  queuedAtMs: number;
  resolve(out: FrameOutput): void;
  reject(err: unknown): void;
}

class BatchedStream implements FrameModelStream {
  readonly state: RecurrentState;
  outstanding = false;
  closed = false;
  constructor(
    private readonly batcher: Batcher,
    state: RecurrentState,
  ) {
    this.state = state;
  }

  step(features: Float32Array): Promise<FrameOutput> {
    return this.batcher.enqueue(this, features);
  }

  resetState(): void {
    if (this.outstanding) throw new Error('resetState during a step');
    this.state.reset();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.batcher.unregister();
  }
}

export class Batcher implements FrameModel {
  private readonly queue: Waiting[] = [];
  private registered = 0;
  private inFlight: Promise<void> | undefined;
  private timer: { cancel(): void } | undefined;
  private busyMs = 0;

  constructor(
    private readonly runner: BatchRunner,
    private readonly options: BatcherOptions,
    private readonly observer: BatchObserver | undefined = undefined,
    private readonly timers: Timers = realTimers,
  ) {
    if (!(options.maxBatch >= 1)) throw new RangeError(`maxBatch must be ≥ 1, got ${options.maxBatch}`);
  }

  createStream(): FrameModelStream {
    this.registered++;
    return new BatchedStream(this, this.runner.createState());
  }

  get streams(): number {
    return this.registered;
  }

  get queueDepth(): number {
    return this.queue.length;
  }

  /** Total time spent inside ORT runs (for load estimation). */
  get busyTimeMs(): number {
    return this.busyMs;
  }

  unregister(): void {
    this.registered--;
    this.schedule();
  }

  enqueue(stream: BatchedStream, features: Float32Array): Promise<FrameOutput> {
    if (stream.closed) return Promise.reject(new Error('step on a closed stream'));
    if (stream.outstanding) return Promise.reject(new Error('a stream may have one step outstanding'));
    stream.outstanding = true;
    return new Promise<FrameOutput>((resolve, reject) => {
      this.queue.push({ stream, features, queuedAtMs: this.timers.now(), resolve, reject });
      this.schedule();
    });
  }

  /** Resolves once nothing is queued or running. */
  async idle(): Promise<void> {
    while (this.inFlight || this.queue.length > 0) {
      if (this.inFlight) await this.inFlight;
      else await new Promise<void>((r) => this.timers.setTimeout(r, 0));
    }
  }

  /**
   * Runs now when nobody else can join (batch full, or every registered stream is waiting); otherwise waits for the
   * rest of the oldest frame's window — at least until the current event-loop turn ends, so frames submitted in the
   * same turn always share a call even with a zero window.
   */
  private schedule(): void {
    if (this.inFlight || this.queue.length === 0) return;
    if (this.queue.length >= this.options.maxBatch || this.queue.length >= this.registered) {
      this.timer?.cancel();
      this.timer = undefined;
      this.start();
      return;
    }
    if (this.timer) return;
    const waitedMs = this.timers.now() - this.queue[0]!.queuedAtMs;
    this.timer = this.timers.setTimeout(() => {
      this.timer = undefined;
      if (!this.inFlight && this.queue.length > 0) this.start();
    }, Math.max(0, this.options.windowMs - waitedMs));
  }

  private start(): void {
    this.inFlight = this.runBatch().finally(() => {
      this.inFlight = undefined;
      this.schedule();
    });
  }

  private async runBatch(): Promise<void> {
    const batch = this.queue.splice(0, this.options.maxBatch);
    const startMs = this.timers.now();
    const maxWaitMs = startMs - batch[0]!.queuedAtMs;
    try {
      const outputs = await this.runner.run(batch.map((w) => ({ features: w.features, state: w.stream.state })));
      this.observer?.onBatch(batch.length, this.timers.now() - startMs, maxWaitMs);
      batch.forEach((w, i) => this.settle(w, { ok: true, output: outputs[i]! }));
    } catch (err) {
      if (batch.length === 1) {
        this.settle(batch[0]!, { ok: false, error: err });
        return;
      }
      // States are only written after a successful run, so each frame can be retried alone: a frame that breaks
      // the model fails its own session, not the others it happened to share a call with.
      for (const w of batch) {
        try {
          const [output] = await this.runner.run([{ features: w.features, state: w.stream.state }]);
          this.settle(w, { ok: true, output: output! });
        } catch (alone) {
          this.settle(w, { ok: false, error: alone });
        }
      }
    } finally {
      this.busyMs += this.timers.now() - startMs;
    }
  }

  private settle(w: Waiting, result: { ok: true; output: FrameOutput } | { ok: false; error: unknown }): void {
    w.stream.outstanding = false;
    if (result.ok) {
      w.resolve(result.output);
      return;
    }
    const err = result.error;
    w.reject(err instanceof LivestemError ? err : new LivestemError('LIVESTEM_ERR_INFERENCE_FAILED', undefined, { cause: err }));
  }
}
