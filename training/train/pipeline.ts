/**
 * Batches for the training loop, prepared ahead in a worker thread: the wasm backend computes on one core and
 * blocks the main thread during a step, so drawing excerpts (file I/O) and their STFTs run on the second core.
 * Each batch comes with the sampler state from just before it was drawn; a checkpoint stores the state of the
 * next batch not yet trained on, so `--resume` redraws exactly that batch.
 */
import { Worker } from 'node:worker_threads';
import type { StftConfig } from '../../server/dsp/stft.ts';
import type { BatchData } from './batch.ts';
import { prepareBatch } from './batch.ts';
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
  next(): Promise<PreparedBatch>;
  close(): Promise<void>;
}

/** Draws and prepares one batch (shared by the worker and the in-process pipeline). */
export async function drawBatch(source: ExcerptSource, spec: PipelineSpec): Promise<PreparedBatch> {
  const samplerStateBefore = source.getState();
  const items = [];
  for (let i = 0; i < spec.batchSize; i++) items.push(await source.next());
  return { data: prepareBatch(items, spec.stft, spec.timeDomain), samplerStateBefore };
}

/** Same batches as the worker pipeline, computed in this thread when asked (tests, tiny runs). */
export async function inProcessPipeline(spec: PipelineSpec): Promise<BatchPipeline> {
  const source = await openExcerptSource(spec.source);
  if (spec.samplerState !== undefined) source.setState(spec.samplerState);
  return { next: () => drawBatch(source, spec), close: async () => {} };
}

type WorkerReply = { type: 'batch'; batch: PreparedBatch } | { type: 'error'; message: string };

export function workerPipeline(spec: PipelineSpec): BatchPipeline {
  // Workers do not inherit tsx's loader hooks: a small bootstrap registers them before importing the .ts worker.
  const entry = new URL('./pipeline-worker.ts', import.meta.url).href;
  const boot = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
  const worker = new Worker(boot, { eval: true, workerData: spec });
  const waiting: { resolve: (b: PreparedBatch) => void; reject: (e: Error) => void }[] = [];
  const ready: PreparedBatch[] = [];
  let failure: Error | undefined;
  worker.on('message', (msg: WorkerReply) => {
    if (msg.type === 'error') {
      failure = new Error(`batch worker: ${msg.message}`);
      for (const w of waiting.splice(0)) w.reject(failure);
      return;
    }
    const w = waiting.shift();
    if (w !== undefined) w.resolve(msg.batch);
    else ready.push(msg.batch);
  });
  worker.on('error', (err) => {
    failure = err;
    for (const w of waiting.splice(0)) w.reject(err);
  });
  return {
    next: () => {
      if (failure !== undefined) return Promise.reject(failure);
      worker.postMessage('next');
      const b = ready.shift();
      if (b !== undefined) return Promise.resolve(b);
      return new Promise((resolve, reject) => waiting.push({ resolve, reject }));
    },
    close: async () => {
      await worker.terminate();
    },
  };
}
