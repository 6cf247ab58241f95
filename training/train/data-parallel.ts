/**
 * Data-parallel training over worker threads: the batch is cut into shards, this thread computes the first shard's
 * gradients while each replica (replica-worker.ts) computes one other shard, and the size-weighted mean gradient
 * goes through the one optimizer here. wasm runs one thread per instance in Node, so this is how a second core
 * trains; the result is the full batch's gradient up to BatchNorm, whose batch statistics are per shard (as in
 * PyTorch's DistributedDataParallel without SyncBatchNorm), while the running statistics use the pooled moments.
 */
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import type { BatchStats } from '../model/batchnorm.ts';
import type { BatchData } from './batch.ts';
import { averageGradients, poolMoments, shardBounds, sliceBatch, transferablesOf, type FromReplica, type MomentsWire, type ReplicaInit, type ToReplica } from './replica-wire.ts';
import type { StepLosses, Trainer } from './trainer.ts';

interface Replica {
  worker: Worker;
  pending: { resolve: (m: FromReplica) => void; reject: (e: Error) => void } | undefined;
  failure: Error | undefined;
}

function spawnReplica(init: ReplicaInit): Promise<Replica> {
  // Workers do not inherit tsx's loader hooks: a small bootstrap registers them before importing the .ts worker.
  const entry = new URL('./replica-worker.ts', import.meta.url).href;
  const boot = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
  const worker = new Worker(boot, { eval: true, workerData: init });
  const replica: Replica = { worker, pending: undefined, failure: undefined };
  return new Promise((resolve, reject) => {
    const fail = (err: Error): void => {
      replica.failure = err;
      const p = replica.pending;
      replica.pending = undefined;
      p?.reject(err);
      reject(err);
    };
    worker.on('message', (msg: FromReplica) => {
      if (msg.type === 'ready') return resolve(replica);
      if (msg.type === 'error') return fail(new Error(`gradient replica: ${msg.message}`));
      const p = replica.pending;
      replica.pending = undefined;
      p?.resolve(msg);
    });
    worker.on('error', fail);
    worker.on('exit', (code) => {
      if (replica.failure === undefined) fail(new Error(`gradient replica exited with code ${code}`));
    });
  });
}

/**
 * Every parameter of the coordinator's model, trainable and buffers, in the store's order. Not only the ones being
 * trained: the forward pass also reads frozen weights (`trainOnly`) and the input standardisation, and a replica's
 * own copy of those is its fresh initialisation.
 */
function flattenParameters(trainer: Trainer): Float32Array {
  const p = trainer.model.params;
  const params = [...p.trainable.values(), ...p.buffers.values()];
  const out = new Float32Array(params.reduce((a, v) => a + v.size, 0));
  let offset = 0;
  for (const v of params) {
    out.set(v.dataSync(), offset);
    offset += v.size;
  }
  return out;
}

export class DataParallelTrainer {
  private constructor(
    readonly trainer: Trainer,
    private readonly replicas: Replica[],
  ) {}

  /** `replicas` counts this thread: 2 = this thread + one worker. */
  static async start(trainer: Trainer, replicas: number, seed: number): Promise<DataParallelTrainer> {
    const init: ReplicaInit = { cfg: trainer.model.cfg, seed, trainer: trainer.options, backend: tf.getBackend() };
    const workers = await Promise.all(Array.from({ length: Math.max(0, replicas - 1) }, () => spawnReplica(init)));
    return new DataParallelTrainer(trainer, workers);
  }

  /** Each worker replica's live tfjs tensors after the last step (a leak shows as growth). */
  replicaTensorCounts: number[] = [];

  get replicaCount(): number {
    return 1 + this.replicas.length;
  }

  private ask(replica: Replica, msg: ToReplica): Promise<FromReplica> {
    if (replica.failure !== undefined) return Promise.reject(replica.failure);
    return new Promise((resolve, reject) => {
      replica.pending = { resolve, reject };
      replica.worker.postMessage(msg, transferablesOf(msg.data));
    });
  }

  /** One optimizer step on the whole batch `d`; returns its losses (frame-weighted over shards) before the update. */
  async step(d: BatchData): Promise<StepLosses> {
    const bounds = shardBounds(d.batch, this.replicaCount);
    if (bounds.length === 1) return this.trainer.step(d);
    const weights = flattenParameters(this.trainer);
    const remote = bounds.slice(1).map(([from, to], i) => this.ask(this.replicas[i]!, { type: 'step', weights, data: sliceBatch(d, from, to) }));
    const local = this.trainer.computeGradients(sliceBatch(d, bounds[0]![0], bounds[0]![1]));
    const replies = await Promise.all(remote);

    const names = this.trainer.gradientNames();
    const localFlat = new Float32Array(names.reduce((a, n) => a + this.trainer.model.params.trainable.get(n)!.size, 0));
    let offset = 0;
    for (const name of names) {
      const v = this.trainer.model.params.trainable.get(name)!;
      const g = local.grads.get(name);
      if (g !== undefined) localFlat.set(g.dataSync(), offset);
      offset += v.size;
    }
    const localMoments: MomentsWire[] = local.stats.map((s) => ({ name: s.name, mean: s.mean.dataSync() as Float32Array, variance: s.variance.dataSync() as Float32Array, count: s.count }));
    tf.dispose([...local.grads.values(), ...local.stats.flatMap((s) => [s.mean, s.variance])]);

    const flats: Float32Array[] = [localFlat];
    const moments = [localMoments];
    const shardLosses = [local.losses];
    const replicaTensors: number[] = [];
    for (const r of replies) {
      if (r.type !== 'grads') throw new Error('gradient replica answered out of turn');
      flats.push(r.grads);
      moments.push(r.moments);
      shardLosses.push(r.losses);
      replicaTensors.push(r.liveTensors);
    }
    const shares = bounds.map(([from, to]) => (to - from) / d.batch);
    const mean = averageGradients(flats, shares);
    const grads = new Map<string, tf.Tensor>();
    offset = 0;
    for (const name of names) {
      const v = this.trainer.model.params.trainable.get(name)!;
      grads.set(name, tf.tensor(mean.subarray(offset, offset + v.size), v.shape));
      offset += v.size;
    }
    const stats: BatchStats[] = poolMoments(moments).map((m) => ({ name: m.name, mean: tf.tensor1d(m.mean), variance: tf.tensor1d(m.variance), count: m.count }));
    this.trainer.applyGradients(grads, stats);
    this.replicaTensorCounts = replicaTensors;
    const weigh = (key: keyof StepLosses): number => shardLosses.reduce((a, l, r) => a + shares[r]! * l[key], 0);
    return { total: weigh('total'), sep: weigh('sep'), vad: weigh('vad') };
  }

  async close(): Promise<void> {
    await Promise.all(this.replicas.map(async (r) => {
      r.failure ??= new Error('closed');
      await r.worker.terminate();
    }));
  }
}
