/**
 * Cross-stream batching: every stream with a frame ready is stepped in ONE ORT call. A batch starts when
 *   - it is full (`maxBatch`), or every registered stream is waiting (nobody else can join), or
 *   - the oldest waiting frame has waited `windowMs` (the deadline: no frame waits longer for company),
 * and, while a run is in flight, arriving frames wait for it and go next. Runs are serialised per model; each
 * stream has at most one frame queued (its next frame needs the state its previous one produces).
 * A failed batched run is retried frame by frame, so only the frames that fail alone are rejected.
 */
import { LivestemError } from "../errors.js";
export const realTimers = {
    now: () => performance.now(),
    setTimeout: (fn, ms) => {
        const handle = ms <= 0 ? setImmediate(fn) : setTimeout(fn, ms);
        return { cancel: () => (ms <= 0 ? clearImmediate(handle) : clearTimeout(handle)) };
    },
};
class BatchedStream {
    batcher;
    state;
    outstanding = false;
    closed = false;
    constructor(batcher, state) {
        this.batcher = batcher;
        this.state = state;
    }
    step(features) {
        return this.batcher.enqueue(this, features);
    }
    resetState() {
        if (this.outstanding)
            throw new Error('resetState during a step');
        this.state.reset();
    }
    close() {
        if (this.closed)
            return;
        this.closed = true;
        this.batcher.unregister();
    }
}
export class Batcher {
    runner;
    options;
    observer;
    timers;
    queue = [];
    registered = 0;
    inFlight;
    timer;
    busyMs = 0;
    constructor(runner, options, observer = undefined, timers = realTimers) {
        this.runner = runner;
        this.options = options;
        this.observer = observer;
        this.timers = timers;
        if (!(options.maxBatch >= 1))
            throw new RangeError(`maxBatch must be ≥ 1, got ${options.maxBatch}`);
    }
    createStream() {
        this.registered++;
        return new BatchedStream(this, this.runner.createState());
    }
    get streams() {
        return this.registered;
    }
    get queueDepth() {
        return this.queue.length;
    }
    /** Total time spent inside ORT runs (for load estimation). */
    get busyTimeMs() {
        return this.busyMs;
    }
    unregister() {
        this.registered--;
        this.schedule();
    }
    enqueue(stream, features) {
        if (stream.closed)
            return Promise.reject(new Error('step on a closed stream'));
        if (stream.outstanding)
            return Promise.reject(new Error('a stream may have one step outstanding'));
        stream.outstanding = true;
        return new Promise((resolve, reject) => {
            this.queue.push({ stream, features, queuedAtMs: this.timers.now(), resolve, reject });
            this.schedule();
        });
    }
    /** Resolves once nothing is queued or running. */
    async idle() {
        while (this.inFlight || this.queue.length > 0) {
            if (this.inFlight)
                await this.inFlight;
            else
                await new Promise((r) => this.timers.setTimeout(r, 0));
        }
    }
    /**
     * Runs now when nobody else can join (batch full, or every registered stream is waiting); otherwise waits for the
     * rest of the oldest frame's window — at least until the current event-loop turn ends, so frames submitted in the
     * same turn always share a call even with a zero window.
     */
    schedule() {
        if (this.inFlight || this.queue.length === 0)
            return;
        if (this.queue.length >= this.options.maxBatch || this.queue.length >= this.registered) {
            this.timer?.cancel();
            this.timer = undefined;
            this.start();
            return;
        }
        if (this.timer)
            return;
        const waitedMs = this.timers.now() - this.queue[0].queuedAtMs;
        this.timer = this.timers.setTimeout(() => {
            this.timer = undefined;
            if (!this.inFlight && this.queue.length > 0)
                this.start();
        }, Math.max(0, this.options.windowMs - waitedMs));
    }
    start() {
        this.inFlight = this.runBatch().finally(() => {
            this.inFlight = undefined;
            this.schedule();
        });
    }
    async runBatch() {
        const batch = this.queue.splice(0, this.options.maxBatch);
        const startMs = this.timers.now();
        const maxWaitMs = startMs - batch[0].queuedAtMs;
        try {
            const outputs = await this.runner.run(batch.map((w) => ({ features: w.features, state: w.stream.state })));
            this.observer?.onBatch(batch.length, this.timers.now() - startMs, maxWaitMs);
            batch.forEach((w, i) => this.settle(w, { ok: true, output: outputs[i] }));
        }
        catch (err) {
            if (batch.length === 1) {
                this.settle(batch[0], { ok: false, error: err });
                return;
            }
            // States are only written after a successful run, so each frame can be retried alone: a frame that breaks
            // the model fails its own session, not the others it happened to share a call with.
            for (const w of batch) {
                try {
                    const [output] = await this.runner.run([{ features: w.features, state: w.stream.state }]);
                    this.settle(w, { ok: true, output: output });
                }
                catch (alone) {
                    this.settle(w, { ok: false, error: alone });
                }
            }
        }
        finally {
            this.busyMs += this.timers.now() - startMs;
        }
    }
    settle(w, result) {
        w.stream.outstanding = false;
        if (result.ok) {
            w.resolve(result.output);
            return;
        }
        const err = result.error;
        w.reject(err instanceof LivestemError ? err : new LivestemError('LIVESTEM_ERR_INFERENCE_FAILED', undefined, { cause: err }));
    }
}
//# sourceMappingURL=batcher.js.map