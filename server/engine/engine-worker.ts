/**
 * Entry point of an engine worker thread: loads every model (one ONNX Runtime session each, on this thread), runs
 * an EngineCore for the streams the I/O thread assigns here, and posts what they produce once per event-loop turn —
 * one message with every event of the turn and their audio in the transfer list, so a batch of N streams costs one
 * post, not N. Started by worker-pool.ts; a crash here ends only this thread (the pool fails its streams).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ModelRegistry } from '../inference/model-registry.ts';
import { EngineCore } from './engine-core.ts';
import { transferablesOf, type EngineEvent } from './engine-protocol.ts';
import { TelemetryAccumulator } from './engine-telemetry.ts';
import { batchModels, warmModelRatePlans } from './model-batchers.ts';
import type { EngineWorkerData, FromWorker, ToWorker } from './worker-messages.ts';

const port = parentPort;
if (!port) throw new Error('engine-worker.ts runs as a worker thread (see worker-pool.ts)');
const data = workerData as EngineWorkerData;
/** Both origins are epoch ms of one host's clock: this shifts this thread's `now()` onto the I/O thread's. */
const ioClockOffsetMs = performance.timeOrigin - data.ioTimeOriginMs;

function post(message: FromWorker, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(message, transfer);
}

async function run(): Promise<void> {
  let registry: ModelRegistry;
  try {
    registry = await ModelRegistry.load(data.modelsDir, data.defaultModel, { provider: data.provider, intraOpThreads: data.intraOpThreads });
  } catch (err) {
    post({ type: 'load-failed', message: err instanceof Error ? err.message : String(err) });
    return;
  }
  let pending: EngineEvent[] = [];
  let recycled = new Set<ArrayBuffer>();
  let flushScheduled = false;
  let portClosed = false;
  const telemetry = new TelemetryAccumulator(() => scheduleFlush());
  const batched = batchModels(registry.list(), data, telemetry);
  for (const m of registry.list()) warmModelRatePlans(m.manifest);
  const core = new EngineCore(batched.models, {
    emit: (event) => {
      pending.push(event);
      scheduleFlush();
    },
    countFrames: (n) => telemetry.countFrames(n),
    countNonFinite: (n) => telemetry.countNonFinite(n),
    recycle: (arrays) => {
      for (const a of arrays) if (a.buffer instanceof ArrayBuffer) recycled.add(a.buffer);
      scheduleFlush();
    },
    now: () => performance.now() + ioClockOffsetMs,
  });

  function scheduleFlush(): void {
    if (flushScheduled) return;
    flushScheduled = true;
    // After the current turn: every stream a batch released has emitted by then, so they share one post.
    setImmediate(flush);
  }

  function flush(): void {
    flushScheduled = false;
    const events = pending;
    const buffers = [...recycled];
    pending = [];
    recycled = new Set();
    const turn = telemetry.take(batched.queueDepths());
    if (portClosed || (events.length === 0 && turn === undefined && buffers.length === 0)) return;
    const transfer = new Set([...events.flatMap(transferablesOf), ...buffers]);
    post({ type: 'events', events, telemetry: turn, recycled: buffers }, [...transfer]);
  }

  port!.on('message', (message: ToWorker) => {
    if (message.type === 'commands') {
      for (const command of message.commands) core.handle(command);
      return;
    }
    void (async () => {
      await core.close();
      await batched.idle();
      await registry.close();
      flush();
      post({ type: 'closed' });
      portClosed = true;
      port!.close();
    })();
  });
  post({ type: 'ready', models: registry.list().map((m) => ({ name: m.name, provider: m.runtime.provider, fallbackReason: m.runtime.fallbackReason })) });
}

void run();
