/**
 * Worker side of the batch pipeline: owns the excerpt sampler, keeps up to two prepared batches ahead of the
 * trainer, and transfers their buffers back. One 'next' message = one more batch wanted.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openExcerptSource } from './data-source.ts';
import { drawBatch, type PipelineSpec, type PreparedBatch } from './pipeline.ts';

const AHEAD = 2;

function transferList(b: PreparedBatch): ArrayBuffer[] {
  const d = b.data;
  const arrays = [d.mixMag, d.vocMag, d.accMag, d.vad, d.mixRe, d.mixIm, d.vocTime, d.accTime];
  return arrays.filter((a): a is Float32Array => a !== undefined).map((a) => a.buffer as ArrayBuffer);
}

async function main(): Promise<void> {
  const port = parentPort;
  if (port === null) throw new Error('pipeline-worker must run in a worker thread');
  const spec = workerData as PipelineSpec;
  const source = await openExcerptSource(spec.source);
  if (spec.samplerState !== undefined) source.setState(spec.samplerState);
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
        queue.push(await drawBatch(source, spec));
      }
    } catch (err) {
      port.postMessage({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    } finally {
      filling = false;
    }
  };
  port.on('message', () => {
    wanted++;
    void pump();
  });
  await pump();
}

void main();
