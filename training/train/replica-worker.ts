/**
 * A gradient replica in a worker thread: its own tfjs backend and copy of the model; per step it takes the
 * coordinator's current weights and one shard of the batch, and returns that shard's gradients (flat, transferred)
 * and BatchNorm moments. The optimizer lives only in the coordinator, so replicas can never drift apart.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { initBackend, type BackendName } from '../backend.ts';
import { createModel } from '../model/model.ts';
import { Trainer } from './trainer.ts';
import type { FromReplica, MomentsWire, ReplicaInit, ToReplica } from './replica-wire.ts';

const BACKENDS: Record<string, BackendName> = { wasm: 'wasm', cpu: 'cpu', tensorflow: 'tfjs-node' };

async function main(): Promise<void> {
  const port = parentPort;
  if (port === null) throw new Error('replica-worker must run in a worker thread');
  const init = workerData as ReplicaInit;
  await initBackend(BACKENDS[init.backend] ?? 'wasm');
  const model = createModel(init.cfg, init.seed);
  const trainer = new Trainer(model, init.trainer);
  const names = trainer.gradientNames();
  const gradientSize = names.reduce((a, n) => a + model.params.trainable.get(n)!.size, 0);
  // The coordinator sends every parameter in the store's order (data-parallel.ts flattenParameters).
  const params = [...model.params.trainable.values(), ...model.params.buffers.values()];
  const reply = (msg: FromReplica, transfer: ArrayBuffer[] = []): void => port.postMessage(msg, transfer);
  port.on('message', (msg: ToReplica) => {
    try {
      let offset = 0;
      for (const v of params) {
        // assign() takes its own reference to the new data: the temporary must be disposed, or every step leaks a
        // copy of the model (the wasm heap ran out after ~450 steps).
        const value = tf.tensor(msg.weights.subarray(offset, offset + v.size), v.shape);
        v.assign(value);
        value.dispose();
        offset += v.size;
      }
      const { grads, losses, stats } = trainer.computeGradients(msg.data);
      const flat = new Float32Array(gradientSize);
      offset = 0;
      for (const name of names) {
        const v = model.params.trainable.get(name)!;
        const g = grads.get(name);
        // A parameter outside the loss's graph has a zero gradient, as tf.variableGrads would report by omission.
        if (g !== undefined) flat.set(g.dataSync(), offset);
        offset += v.size;
      }
      const moments: MomentsWire[] = stats.map((s) => ({
        name: s.name,
        mean: s.mean.dataSync() as Float32Array,
        variance: s.variance.dataSync() as Float32Array,
        count: s.count,
      }));
      tf.dispose([...grads.values(), ...stats.flatMap((s) => [s.mean, s.variance])]);
      reply({ type: 'grads', grads: flat, losses, moments, liveTensors: tf.memory().numTensors }, [flat.buffer as ArrayBuffer]);
    } catch (err) {
      reply({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    }
  });
  reply({ type: 'ready' });
}

main().catch((err: unknown) => {
  parentPort?.postMessage({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) } satisfies FromReplica);
});
