/**
 * Batches for the training loop, prepared ahead in a worker thread: the wasm backend computes on one core and
 * blocks the main thread during a step, so drawing excerpts (file I/O) and their STFTs run on the second core.
 * Each batch comes with the sampler state from just before it was drawn; a checkpoint stores the state of the
 * next batch not yet trained on, so `--resume` redraws exactly that batch.
 */
import { Worker } from 'node:worker_threads';
import type { StftConfig } from '../../server/dsp/stft.ts';
import { batchArrays, prepareBatch, type BatchBufferPool, type BatchData, type Excerpt } from './batch.ts';
import { openExcerptSource, type ExcerptSource, type ExcerptSourceSpec } from './data-source.ts';

export interface PipelineSpec {
  source: ExcerptSourceSpec;
  stft: StftConfig;
  batchSize: number;
  timeDomain: boolean;
  /** Sampler state to start from (resume); absent: fresh from the seed. */
  samplerState?: unknown;
}

export interface PreparedBatch {
  data: BatchData;
  /** Sampler state before this batch was drawn. */
  samplerStateBefore: unknown;
}

export interface BatchPipeline {
  /** The worker pipeline takes a batch's arrays back two calls later: see `workerPipeline`. */
  next(): Promise<PreparedBatch>;
  close(): Promise<void>;
}

/** Draws and prepares one batch (shared by the worker and the in-process pipeline); output arrays from `pool` if given. */
export async function drawBatch(source: ExcerptSource, spec: PipelineSpec, pool?: BatchBufferPool): Promise<PreparedBatch> {
  const samplerStateBefore = source.getState();
  // The sampler labels VAD on its own framing; reuse its labels only when that is the batch's framing.
  const sameFraming = spec.source.stft.hopSamples === spec.stft.hopSamples;
  const items: Excerpt[] = [];
  for (let i = 0; i < spec.batchSize; i++) {
    const item = await source.next();
    items.push(sameFraming ? item : { mixture: item.mixture, vocals: item.vocals, accompaniment: item.accompaniment });
  }
  const data = prepareBatch(items, spec.stft, spec.timeDomain, pool);
  // The batch holds copies of everything it needs; the excerpts' memory can serve the next batch.
  for (const item of items) source.recycle(item);
  return { data, samplerStateBefore };
}

/** Same batches as the worker pipeline, computed in this thread when asked (tests, tiny runs). */
export async function inProcessPipeline(spec: PipelineSpec): Promise<BatchPipeline> {
  const source = await openExcerptSource(spec.source);
  if (spec.samplerState !== undefined) source.setState(spec.samplerState);
  return { next: () => drawBatch(source, spec), close: async () => {} };
}

type WorkerReply = { type: 'batch'; batch: PreparedBatch } | { type: 'error'; message: string };
export type WorkerRequest = { type: 'next' } | { type: 'recycle'; buffers: ArrayBuffer[] };

/** Batches handed out and not yet given back: the newest may still be in use (a consumer that fetches one ahead). */
const KEPT_BATCHES = 2;

/**
 * Batches from a worker thread. Each call to `next` moves the arrays of the batch handed out two calls earlier back
 * to the worker, which fills them again (fresh arrays cost the worker ~25% more CPU in page faults): a batch is valid
 * until the second `next` call after it, and its arrays are detached (empty) from then on, so a late reader fails
 * loudly rather than seeing another batch. Copy whatever must live longer.
 */
export function workerPipeline(spec: PipelineSpec): BatchPipeline {
  // Workers do not inherit tsx's loader hooks: a small bootstrap registers them before importing the .ts worker.
  const entry = new URL('./pipeline-worker.ts', import.meta.url).href;
  const boot = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
  const worker = new Worker(boot, { eval: true, workerData: spec });
  const waiting: { resolve: (b: PreparedBatch) => void; reject: (e: Error) => void }[] = [];
  const ready: PreparedBatch[] = [];
  const handedOut: PreparedBatch[] = [];
  let failure: Error | undefined;
  const send = (request: WorkerRequest, transfer: ArrayBuffer[] = []): void => worker.postMessage(request, transfer);
  worker.on('message', (msg: WorkerReply) => {
    if (msg.type === 'error') {
      failure = new Error(`batch worker: ${msg.message}`);
      for (const w of waiting.splice(0)) w.reject(failure);
      return;
    }
    const w = waiting.shift();
    if (w !== undefined) {
      handedOut.push(msg.batch);
      w.resolve(msg.batch);
    } else {
      ready.push(msg.batch);
    }
  });
  worker.on('error', (err) => {
    failure = err;
    for (const w of waiting.splice(0)) w.reject(err);
  });
  return {
    next: () => {
      if (failure !== undefined) return Promise.reject(failure);
      if (handedOut.length >= KEPT_BATCHES) {
        // Buffers the consumer moved elsewhere (detached: length 0) cannot travel again.
        const buffers = batchArrays(handedOut.shift()!.data).map((a) => a.buffer).filter((b): b is ArrayBuffer => b instanceof ArrayBuffer && b.byteLength > 0);
        send({ type: 'recycle', buffers }, buffers);
      }
      send({ type: 'next' });
      const b = ready.shift();
      if (b !== undefined) {
        handedOut.push(b);
        return Promise.resolve(b);
      }
      return new Promise((resolve, reject) => waiting.push({ resolve, reject }));
    },
    close: async () => {
      await worker.terminate();
    },
  };
}
