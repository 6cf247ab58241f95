/**
 * What crosses between the data-parallel coordinator and its gradient replicas: flat Float32 buffers in the model's
 * trainable-parameter order (one postMessage each way per step, no per-tensor messages), plus BatchNorm moments.
 * Pure: no tfjs, no threads — the coordinator and the replicas share it, and tests check it directly.
 */
import type { ModelConfig } from '../model/config.ts';
import type { BatchData } from './batch.ts';
import type { StepLosses, TrainerOptions } from './trainer.ts';

export interface ReplicaInit {
  cfg: ModelConfig;
  seed: number;
  trainer: TrainerOptions;
  /** tfjs backend the replica must use (the coordinator's own). */
  backend: string;
}

export interface MomentsWire {
  name: string;
  mean: Float32Array;
  variance: Float32Array;
  count: number;
}

/** `weights`: every parameter of the coordinator's model (trainable, then buffers), flattened in the store's order. */
export type ToReplica = { type: 'step'; weights: Float32Array; data: BatchData };

export type FromReplica =
  | { type: 'ready' }
  /** `liveTensors`: the replica's tfjs tensor count after the step (flat across steps unless something leaks). */
  | { type: 'grads'; grads: Float32Array; losses: StepLosses; moments: MomentsWire[]; liveTensors: number }
  | { type: 'error'; message: string };

/** Batch items [from, to) of `d` as its own batch (copies, so each shard's buffers can be transferred). */
export function sliceBatch(d: BatchData, from: number, to: number): BatchData {
  const perItem = d.frames * 2 * d.bins;
  const cut = (a: Float32Array, size: number): Float32Array => a.slice(from * size, to * size);
  const out: BatchData = {
    batch: to - from,
    frames: d.frames,
    bins: d.bins,
    mixMag: cut(d.mixMag, perItem),
    vocMag: cut(d.vocMag, perItem),
    accMag: cut(d.accMag, perItem),
    vad: cut(d.vad, d.frames),
  };
  if (d.mixRe !== undefined) out.mixRe = cut(d.mixRe, perItem);
  if (d.mixIm !== undefined) out.mixIm = cut(d.mixIm, perItem);
  if (d.vocTime !== undefined) out.vocTime = cut(d.vocTime, d.vocTime.length / d.batch);
  if (d.accTime !== undefined) out.accTime = cut(d.accTime, d.accTime.length / d.batch);
  return out;
}

/** Contiguous shard boundaries: `replicas` near-equal parts of `batch` items (earlier shards take the remainder). */
export function shardBounds(batch: number, replicas: number): [number, number][] {
  const n = Math.max(1, Math.min(replicas, batch));
  const bounds: [number, number][] = [];
  let start = 0;
  for (let r = 0; r < n; r++) {
    const size = Math.floor(batch / n) + (r < batch % n ? 1 : 0);
    bounds.push([start, start + size]);
    start += size;
  }
  return bounds;
}

export function transferablesOf(d: BatchData): ArrayBuffer[] {
  const arrays = [d.mixMag, d.vocMag, d.accMag, d.vad, d.mixRe, d.mixIm, d.vocTime, d.accTime];
  return arrays.filter((a): a is Float32Array => a !== undefined).map((a) => a.buffer as ArrayBuffer);
}

/**
 * Full-batch moments from per-shard ones (exact: the mean of the shard means weighted by size, and the variance of
 * the union = weighted within-shard variance + weighted spread of the shard means), so BatchNorm's running
 * statistics move as with one replica.
 */
export function poolMoments(shards: MomentsWire[][]): MomentsWire[] {
  const first = shards[0] ?? [];
  return first.map((m, i) => {
    const parts = shards.map((s) => s[i]!);
    const count = parts.reduce((a, p) => a + p.count, 0);
    const mean = new Float32Array(m.mean.length);
    const variance = new Float32Array(m.mean.length);
    for (let k = 0; k < mean.length; k++) {
      let sum = 0;
      for (const p of parts) sum += p.count * p.mean[k]!;
      const mu = sum / count;
      let v = 0;
      for (const p of parts) v += p.count * (p.variance[k]! + (p.mean[k]! - mu) ** 2);
      mean[k] = mu;
      variance[k] = v / count;
    }
    return { name: m.name, mean, variance, count };
  });
}

/** Σ w_r·g_r with w_r = shard size / batch: the gradient of the full batch's mean loss. */
export function averageGradients(grads: readonly Float32Array[], weights: readonly number[]): Float32Array<ArrayBuffer> {
  const out = new Float32Array(grads[0]?.length ?? 0);
  grads.forEach((g, r) => {
    const w = weights[r]!;
    for (let i = 0; i < out.length; i++) out[i]! += w * g[i]!;
  });
  return out;
}
