/**
 * The engine as a pool of worker threads (the default): each worker loads every model and runs an EngineCore, a new
 * stream goes to the worker with the fewest streams, and streams of one worker share its batched model calls. The
 * I/O thread only posts commands (one message per worker per turn) and dispatches the events each worker posts once
 * per turn, so a stalled I/O thread never delays a model step and a long model call never delays a socket.
 *
 * A worker that dies (uncaught error, native crash of the model runtime, killed) fails only its own streams, with
 * LIVESTEM_ERR_ENGINE_CRASHED, and is replaced; the process carries on.
 */
import { Worker } from 'node:worker_threads';
import type { Logger } from '../log.ts';
import type { Engine, EngineListener, EngineStream } from './engine.ts';
import { commandTransferables, type EngineCommand, type EngineStreamConfig, type EngineTelemetry } from './engine-protocol.ts';
import { InputBufferPool } from './input-buffer-pool.ts';
import type { EngineWorkerData, FromWorker, LoadedModelInfo, ToWorker } from './worker-messages.ts';

export interface WorkerPoolOptions {
  workers: number;
  /** The pool adds the I/O thread's time origin itself. */
  workerData: Omit<EngineWorkerData, 'ioTimeOriginMs'>;
  log: Logger;
  onTelemetry(telemetry: EngineTelemetry): void;
}

/** How long a worker may take to finish its streams and release its models at close before it is terminated. */
const SHUTDOWN_TIMEOUT_MS = 10_000;

/**
 * A small young generation (V8 semi-spaces of 4 MB, the same as the main thread's `--max-semi-space-size=4` in
 * `npm start` and the image): output arrays are external memory that only a GC frees, and with the default 16 MB
 * semi-spaces a scavenge came too rarely to free them, so V8 ran full mark-compacts for external memory instead —
 * 8 per 15 s in the worker and 18 on the I/O thread, 7–18 ms each. With 4 MB: 0 and 4, scavenges of ~2 ms, and
 * server-added p99 at 8 streams on 2 cores 26–37 ms against 46–64 ms (three paired runs).
 */
const WORKER_YOUNG_GENERATION_MB = 12;

interface Slot {
  index: number;
  worker: Worker;
  streams: Set<number>;
  queueDepth: Record<string, number>;
  ready: boolean;
  stopping: boolean;
  /** Event-loop busy time last read from the worker (kept when it dies, so the total never goes back). */
  activeMs: number;
  /** Settles when the worker has loaded its models (or failed to). */
  started: Promise<LoadedModelInfo[]>;
  /** Commands of the current turn, posted together at its end (with their audio in one transfer list). */
  outbox: EngineCommand[];
  exited: Promise<void>;
}

/** Starts a worker from compiled JavaScript, or from source through tsx (workers do not inherit its loader hooks). */
function spawn(options: Omit<EngineWorkerData, 'ioTimeOriginMs'>): Worker {
  const workerData: EngineWorkerData = { ...options, ioTimeOriginMs: performance.timeOrigin };
  const fromSource = import.meta.url.endsWith('.ts');
  const entry = new URL(fromSource ? './engine-worker.ts' : './engine-worker.js', import.meta.url);
  // V8 sizes the young generation as 3 semi-spaces: 12 MB is 4 MB semi-spaces.
  const resourceLimits = { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB };
  if (!fromSource) return new Worker(entry, { workerData, resourceLimits });
  const boot = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); })`;
  return new Worker(boot, { eval: true, workerData, resourceLimits });
}

export class WorkerPool implements Engine {
  readonly workerCount: number;
  private readonly slots: Slot[] = [];
  private readonly listeners = new Map<number, EngineListener>();
  private readonly owner = new Map<number, Slot>();
  private nextId = 1;
  private carriedBusyMs = 0;
  private readonly inputPool = new InputBufferPool();
  private closing: Promise<void> | undefined;
  /** What the first worker reported loading (provider per model), for the startup log. */
  loadedModels: LoadedModelInfo[] = [];

  private constructor(private readonly options: WorkerPoolOptions) {
    this.workerCount = options.workers;
  }

  /** Starts every worker and waits until each has loaded the models; rejects (and stops them) if one cannot. */
  static async start(options: WorkerPoolOptions): Promise<WorkerPool> {
    if (!(options.workers >= 1)) throw new RangeError(`a worker pool needs at least one worker, got ${options.workers}`);
    const pool = new WorkerPool(options);
    const started = Array.from({ length: options.workers }, (_, i) => pool.startSlot(i));
    try {
      const infos = await Promise.all(started);
      pool.loadedModels = infos[0] ?? [];
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  open(config: EngineStreamConfig, listener: EngineListener): EngineStream {
    const streamId = this.nextId++;
    const slot = this.leastLoaded();
    this.listeners.set(streamId, listener);
    if (!slot) {
      queueMicrotask(() => this.failStream(streamId, 'no engine worker is running'));
      return { pushAudio: () => undefined, pushMarker: () => undefined, trimInput: () => undefined, close: async () => this.forget(streamId) };
    }
    slot.streams.add(streamId);
    this.owner.set(streamId, slot);
    this.send(slot, { type: 'open', streamId, config });
    const send = (command: EngineCommand): void => {
      const owner = this.owner.get(streamId);
      if (owner) this.send(owner, command);
    };
    return {
      pushAudio: (samples, arrivalMs) => send({ type: 'audio', streamId, samples, arrivalMs }),
      pushMarker: (marker, arrivalMs) => send({ type: 'marker', streamId, marker, arrivalMs }),
      trimInput: (keepSamples) => send({ type: 'trim-input', streamId, keepSamples }),
      close: async () => {
        send({ type: 'close', streamId });
        this.forget(streamId);
      },
    };
  }

  /** Input buffers handed back by the workers and waiting to be decoded into again (diagnostics, tests). */
  get pooledInputBuffers(): number {
    return this.inputPool.size;
  }

  /** Decode targets for client audio: buffers the workers handed back once their samples were processed. */
  inputBuffers(channels: number, frames: number): Float32Array[] {
    return this.inputPool.take(channels, frames);
  }

  /** Mean over workers of the time their event loops were busy (DSP and model calls both run there). */
  busyTimeMs(): number {
    let active = 0;
    for (const slot of this.slots) {
      if (slot.ready) slot.activeMs = slot.worker.performance.eventLoopUtilization().active;
      active += slot.activeMs;
    }
    return (this.carriedBusyMs + active) / Math.max(1, this.workerCount);
  }

  queueDepth(model: string): number {
    return this.slots.reduce((n, s) => n + (s.queueDepth[model] ?? 0), 0);
  }

  /** The worker threads, for tests that need to kill one. */
  get threads(): readonly Worker[] {
    return this.slots.map((s) => s.worker);
  }

  /** Streams each worker serves now (index = worker), for tests and diagnostics. */
  get streamsPerWorker(): number[] {
    return this.slots.map((s) => s.streams.size);
  }

  /** Settles once every worker slot's current worker has loaded, or failed to (after a replacement, say). */
  async settled(): Promise<void> {
    await Promise.allSettled(this.slots.map((s) => s.started));
  }

  close(): Promise<void> {
    return (this.closing ??= (async () => {
      for (const slot of this.slots) {
        this.flush(slot);
        slot.stopping = true;
        slot.worker.postMessage({ type: 'shutdown' } satisfies ToWorker);
      }
      await Promise.all(
        this.slots.map(async (slot) => {
          const timer = setTimeout(() => void slot.worker.terminate(), SHUTDOWN_TIMEOUT_MS);
          await slot.exited;
          clearTimeout(timer);
        }),
      );
    })());
  }

  private startSlot(index: number): Promise<LoadedModelInfo[]> {
    const worker = spawn(this.options.workerData);
    let markExited!: () => void;
    const slot: Slot = {
      index,
      worker,
      streams: new Set(),
      queueDepth: {},
      ready: false,
      stopping: this.closing !== undefined,
      activeMs: 0,
      exited: new Promise((resolve) => (markExited = resolve)),
      started: Promise.resolve([]),
      outbox: [],
    };
    this.slots[index] = slot;
    slot.started = new Promise<LoadedModelInfo[]>((resolve, reject) => {
      worker.on('message', (message: FromWorker) => {
        switch (message.type) {
          case 'ready':
            slot.ready = true;
            resolve(message.models);
            return;
          case 'load-failed':
            slot.stopping = true;
            reject(new Error(`engine worker ${index}: ${message.message}`));
            return;
          case 'events': {
            // One stamp for the whole message: its spans reached the I/O thread together.
            const receivedMs = performance.now();
            this.inputPool.give(message.recycled);
            if (message.telemetry) {
              slot.queueDepth = message.telemetry.queueDepth;
              this.options.onTelemetry(message.telemetry);
            }
            for (const event of message.events) {
              if (event.type === 'output') event.output.receivedMs = receivedMs;
              this.listeners.get(event.streamId)?.(event);
            }
            return;
          }
          case 'closed':
            return;
        }
      });
      worker.on('error', (err) => {
        this.options.log.error('engine worker failed', { worker: index, err });
        reject(err);
      });
      worker.on('exit', (code) => {
        markExited();
        reject(new Error(`engine worker ${index} exited with code ${code} before it was ready`));
        this.onExit(slot, code);
      });
    });
    return slot.started;
  }

  private onExit(slot: Slot, code: number): void {
    const wasReady = slot.ready;
    slot.ready = false;
    if (slot.stopping) return;
    this.carriedBusyMs += slot.activeMs;
    const lost = [...slot.streams];
    this.options.log.error('engine worker died: failing its sessions and starting a replacement', { worker: slot.index, exitCode: code, sessions: lost.length });
    for (const streamId of lost) this.failStream(streamId, `engine worker ${slot.index} exited (code ${code})`);
    if (!wasReady) return; // a worker that never loaded would fail again: do not loop
    this.startSlot(slot.index).then(
      () => this.options.log.info('engine worker replaced', { worker: slot.index }),
      (err: unknown) => this.options.log.error('engine worker replacement failed', { worker: slot.index, err }),
    );
  }

  private failStream(streamId: number, detail: string): void {
    const listener = this.listeners.get(streamId);
    this.forget(streamId);
    listener?.({ type: 'failed', streamId, code: 'LIVESTEM_ERR_ENGINE_CRASHED', message: detail });
  }

  private forget(streamId: number): void {
    this.listeners.delete(streamId);
    this.owner.get(streamId)?.streams.delete(streamId);
    this.owner.delete(streamId);
  }

  private leastLoaded(): Slot | undefined {
    let best: Slot | undefined;
    for (const slot of this.slots) {
      if (!slot.ready || slot.stopping) continue;
      if (!best || slot.streams.size < best.streams.size) best = slot;
    }
    return best;
  }

  /**
   * Queues a command for the end of this turn (a microtask: no added latency), so the messages of one socket read
   * cost the worker one wake-up, not one each.
   */
  private send(slot: Slot, command: EngineCommand): void {
    if (slot.stopping) return;
    if (slot.outbox.length === 0) queueMicrotask(() => this.flush(slot));
    slot.outbox.push(command);
  }

  private flush(slot: Slot): void {
    const commands = slot.outbox;
    if (commands.length === 0) return;
    slot.outbox = [];
    if (slot.stopping) return;
    slot.worker.postMessage({ type: 'commands', commands } satisfies ToWorker, [...new Set(commands.flatMap(commandTransferables))]);
  }
}
