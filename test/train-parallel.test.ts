/**
 * Data-parallel training (a worker-thread gradient replica + this thread) computes the same update as one trainer
 * on the whole batch: exactly when both shards hold the same excerpts (then per-shard BatchNorm statistics equal the
 * full batch's), and the pooled BatchNorm moments are the full batch's moments. Also: the class-balanced VAD loss
 * weighs a rare class up so that both classes count equally.
 */
import t from 'tap';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../training/backend.ts';
import { vadLoss } from '../training/losses.ts';
import { createModel } from '../training/model/model.ts';
import { smallConfig } from '../training/export/random-model.ts';
import type { BatchData } from '../training/train/batch.ts';
import { DataParallelTrainer } from '../training/train/data-parallel.ts';
import { poolMoments, shardBounds, sliceBatch } from '../training/train/replica-wire.ts';
import { Trainer } from '../training/train/trainer.ts';

await initBackend();

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** A batch of `items` excerpts whose second half repeats the first half when `mirrored`. */
function batch(items: number, frames: number, bins: number, mirrored: boolean): BatchData {
  const rnd = seeded(11);
  const per = frames * 2 * bins;
  const d: BatchData = {
    batch: items, frames, bins,
    mixMag: new Float32Array(items * per), vocMag: new Float32Array(items * per), accMag: new Float32Array(items * per),
    vad: new Float32Array(items * frames),
  };
  for (let b = 0; b < items; b++) {
    const src = mirrored && b >= items / 2 ? b - items / 2 : b;
    for (let i = 0; i < per; i++) {
      if (src !== b) {
        for (const a of [d.mixMag, d.vocMag, d.accMag]) a[b * per + i] = a[src * per + i]!;
        continue;
      }
      const voc = rnd();
      const acc = rnd();
      d.vocMag[b * per + i] = voc;
      d.accMag[b * per + i] = acc;
      d.mixMag[b * per + i] = voc + acc;
    }
    for (let f = 0; f < frames; f++) d.vad[b * frames + f] = src !== b ? d.vad[src * frames + f]! : f < frames / 3 ? 1 : 0;
  }
  return d;
}

function weights(trainer: Trainer): Float32Array[] {
  return [...trainer.model.params.trainable.values(), ...trainer.model.params.buffers.values()].map((v) => Float32Array.from(v.dataSync()));
}

t.test('two replicas on a mirrored batch take the single-trainer step', async (t) => {
  const cfg = smallConfig({ arch: 'lstm' });
  const d = batch(4, 12, cfg.bins, true);
  const options = { loss: 'mse' as const, vadWeight: 0.2, vadBalanced: true, lr: 1e-2, clipNorm: 5 };
  const single = new Trainer(createModel(cfg, 3), options);
  // The replica builds its model from another seed, and the coordinator's input standardisation (a buffer, not a
  // trained weight) is not the initial one: the replica must still compute on the coordinator's parameters.
  const pair = await DataParallelTrainer.start(new Trainer(createModel(cfg, 3), options), 2, 11);
  const stats = (): { mean: Float32Array; std: Float32Array } => ({
    mean: Float32Array.from({ length: 2 * cfg.cropBins }, (_, i) => 0.01 * (i % 7)),
    std: Float32Array.from({ length: 2 * cfg.cropBins }, (_, i) => 0.5 + 0.1 * (i % 5)),
  });
  single.model.setInputStatistics(stats);
  pair.trainer.model.setInputStatistics(stats);
  t.teardown(async () => {
    await pair.close();
    single.dispose();
    pair.trainer.dispose();
  });
  t.equal(pair.replicaCount, 2);
  const before = weights(single);
  for (let step = 0; step < 3; step++) {
    const a = single.step(d);
    const b = await pair.step(d);
    t.ok(Math.abs(a.total - b.total) < 1e-5 * Math.max(1, Math.abs(a.total)), `step ${step}: loss ${a.total} vs ${b.total}`);
  }
  const tensorsAfterWarmup = pair.replicaTensorCounts[0]!;
  await pair.step(d);
  await pair.step(d);
  t.equal(pair.replicaTensorCounts[0], tensorsAfterWarmup, 'the replica holds no more tensors after more steps (no per-step leak)');
  for (let step = 0; step < 2; step++) single.step(d);
  const wa = weights(single);
  const wb = weights(pair.trainer);
  let worst = 0;
  let moved = 0;
  wa.forEach((w, i) => w.forEach((v, k) => {
    worst = Math.max(worst, Math.abs(v - wb[i]![k]!));
    moved = Math.max(moved, Math.abs(v - before[i]![k]!));
  }));
  // Float summation order differs (shard sums vs one sum), and Adam divides by √v, so compare with how far the
  // weights moved: the same update up to 1 %.
  t.ok(moved > 1e-3, `the weights moved (${moved.toExponential(2)})`);
  t.ok(worst < 0.01 * moved, `largest weight difference after 5 steps ${worst.toExponential(2)} of ${moved.toExponential(2)} moved`);
});

t.test('training only the VAD head on two replicas: the frozen body is the coordinator\'s, not the replica\'s own', async (t) => {
  const cfg = smallConfig({ arch: 'lstm' });
  const d = batch(4, 12, cfg.bins, true);
  const options = { loss: 'mse' as const, vadWeight: 0.5, lr: 1e-2, clipNorm: 5, trainOnly: ['vad.'] };
  const single = new Trainer(createModel(cfg, 3), options);
  const pair = await DataParallelTrainer.start(new Trainer(createModel(cfg, 3), options), 2, 11);
  t.teardown(async () => {
    await pair.close();
    single.dispose();
    pair.trainer.dispose();
  });
  for (let step = 0; step < 2; step++) {
    const a = single.step(d);
    const b = await pair.step(d);
    t.ok(Math.abs(a.vad - b.vad) < 1e-5 * Math.max(1, Math.abs(a.vad)), `step ${step}: VAD loss ${a.vad} vs ${b.vad}`);
  }
  const head = (tr: Trainer): number[] => [...tr.model.params.trainable.get('vad.W')!.dataSync()];
  const worst = Math.max(...head(single).map((v, i) => Math.abs(v - head(pair.trainer)[i]!)));
  t.ok(worst < 1e-4, `head weights agree (${worst.toExponential(2)})`);
});

t.test('a replica that fails is reported, not hung on', async (t) => {
  const cfg = smallConfig({ arch: 'lstm' });
  const pair = await DataParallelTrainer.start(new Trainer(createModel(cfg, 3), { loss: 'mse', vadWeight: 0.1, lr: 1e-3, clipNorm: 5 }), 2, 3);
  t.teardown(async () => {
    await pair.close();
    pair.trainer.dispose();
  });
  const bad = batch(4, 12, cfg.bins, false);
  bad.mixMag = bad.mixMag.slice(0, 10); // the replica's shard cannot form a tensor of its declared shape
  await t.rejects(pair.step(bad));
});

t.test('pooled BatchNorm moments are the moments of the whole batch', async (t) => {
  const rnd = seeded(5);
  const rows = [Array.from({ length: 7 }, () => rnd() * 3), Array.from({ length: 4 }, () => rnd() - 2)];
  const moments = (xs: number[]): { mean: number; variance: number } => {
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    return { mean, variance: xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length };
  };
  const shards = rows.map((xs) => {
    const m = moments(xs);
    return [{ name: 'bn', mean: Float32Array.of(m.mean), variance: Float32Array.of(m.variance), count: xs.length }];
  });
  const pooled = poolMoments(shards)[0]!;
  const whole = moments(rows.flat());
  t.equal(pooled.count, 11);
  t.ok(Math.abs(pooled.mean[0]! - whole.mean) < 1e-5);
  t.ok(Math.abs(pooled.variance[0]! - whole.variance) < 1e-5);
});

t.test('shards cover the batch once, in order', async (t) => {
  t.same(shardBounds(5, 2), [[0, 3], [3, 5]]);
  t.same(shardBounds(1, 2), [[0, 1]]);
  const d = batch(3, 2, 3, false);
  const s = sliceBatch(d, 1, 3);
  t.equal(s.batch, 2);
  t.same([...s.mixMag], [...d.mixMag.subarray(12)]);
  t.same([...s.vad], [...d.vad.subarray(2)]);
});

t.test('the balanced VAD loss counts a rare class as much as a common one', async (t) => {
  // 1 voiced frame in 10, the model says 0.5 everywhere except a confident miss on the voiced frame.
  const labels = tf.tensor2d([[1, 0, 0, 0, 0, 0, 0, 0, 0, 0]]);
  const missVoiced = tf.tensor2d([[-4, 0, 0, 0, 0, 0, 0, 0, 0, 0]]);
  const missUnvoiced = tf.tensor2d([[0, 4, 0, 0, 0, 0, 0, 0, 0, 0]]);
  const plain = (l: tf.Tensor2D): number => vadLoss(l, labels).dataSync()[0]!;
  const balanced = (l: tf.Tensor2D): number => vadLoss(l, labels, 0.1).dataSync()[0]!;
  // Plain BCE: one missed voiced frame costs as much as one missed unvoiced frame, although voiced frames are rare.
  t.ok(Math.abs(plain(missVoiced) - plain(missUnvoiced)) < 1e-6);
  // Balanced: the missed voiced frame (the whole voiced class) costs 9× more than one of nine unvoiced frames.
  const extraVoiced = balanced(missVoiced) - balanced(tf.tensor2d([[0, 0, 0, 0, 0, 0, 0, 0, 0, 0]]));
  const extraUnvoiced = balanced(missUnvoiced) - balanced(tf.tensor2d([[0, 0, 0, 0, 0, 0, 0, 0, 0, 0]]));
  t.ok(Math.abs(extraVoiced / extraUnvoiced - 9) < 1e-3, `ratio ${extraVoiced / extraUnvoiced}`);
});

t.test('warm start keeps shared weights and trains only the named head', async (t) => {
  const base = smallConfig({ arch: 'lstm' });
  if (base.arch !== 'lstm') throw new Error('lstm config expected');
  const old = createModel(base, 3);
  const withHead = createModel({ ...base, vadHidden: 4 }, 9);
  const { loaded, fresh } = withHead.params.loadMatching(old.params.snapshot());
  t.same(fresh.sort(), ['vad.W1', 'vad.W2', 'vad.b1', 'vad.b2'], 'only the new head starts fresh');
  t.notOk(loaded.includes('vad.W'), 'the old linear head is not part of the new model');
  t.same(Array.from(withHead.params.read('lstm0.kernel')), Array.from(old.params.read('lstm0.kernel')));

  const trainer = new Trainer(withHead, { loss: 'mse', vadWeight: 0.5, vadBalanced: true, lr: 1e-2, clipNorm: 5, trainOnly: ['vad.'] });
  t.teardown(() => {
    trainer.dispose();
    old.dispose();
  });
  t.same(trainer.gradientNames().sort(), ['vad.W1', 'vad.W2', 'vad.b1', 'vad.b2']);
  const body = Array.from(withHead.params.read('fc3.W'));
  const head = Array.from(withHead.params.read('vad.W1'));
  const d = batch(2, 10, base.bins, false);
  for (let i = 0; i < 3; i++) trainer.step(d);
  t.same(Array.from(withHead.params.read('fc3.W')), body, 'the body is frozen');
  t.ok(Array.from(withHead.params.read('vad.W1')).some((v, i) => v !== head[i]), 'the head moved');
});
