/**
 * Worker side of the batch pipeline: owns the excerpt sampler, keeps up to two prepared batches ahead of the
 * trainer, and transfers their buffers back. One 'next' message = one more batch wanted; 'recycle' brings the arrays
 * of a batch the trainer is done with, to be filled again.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { BatchBufferPool, batchArrays } from './batch.ts';
import { openExcerptSource } from './data-source.ts';
import { drawBatch, type PipelineSpec, type PreparedBatch, type WorkerRequest } from './pipeline.ts';

const AHEAD = 2;

function transferList(b: PreparedBatch): ArrayBuffer[] {
  return batchArrays(b.data).map((a) => a.buffer as ArrayBuffer);
}

async function main(): Promise<void> {
  const port = parentPort;
  if (port === null) throw new Error('pipeline-worker must run in a worker thread');
  const spec = workerData as PipelineSpec;
  const source = await openExcerptSource(spec.source);
  if (spec.samplerState !== undefined) source.setState(spec.samplerState);
  const pool = new BatchBufferPool();
  let wanted = 0;
  const queue: PreparedBatch[] = [];
  let filling = false;
  const pump = async (): Promise<void> => {
    if (filling) return;
    filling = true;
    try {
      while (wanted > 0 || queue.length < AHEAD) {
        if (wanted > 0 && queue.length > 0) {
          const b = queue.shift()!;
          wanted--;
          port.postMessage({ type: 'batch', batch: b }, transferList(b));
          continue;
        }
        queue.push(await drawBatch(source, spec, pool));
      }
    } catch (err) {
      port.postMessage({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    } finally {
      filling = false;
    }
  };
  port.on('message', (msg: WorkerRequest) => {
    if (msg.type === 'recycle') {
      pool.give(msg.buffers.map((b) => new Float32Array(b)));
      return;
    }
    wanted++;
    void pump();
  });
  await pump();
}

void main();
