/**
 * The training fast paths (fused wasm LSTM recurrence, hand-differentiated BatchNorm and MSE loss, the column-sum
 * wasm Sum kernel) compute the same function and the same gradients as the
 * straightforward op-by-op autodiff formulation, up to float32 rounding.
 */
import t, { type Test } from 'tap';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../training/backend.ts';
import { fastMseLoss } from '../training/losses.ts';
import { fastBatchNorm, type BatchStats } from '../training/model/batchnorm.ts';
import type { LstmConfig } from '../training/model/config.ts';
import { fastTanh } from '../training/model/lstm-fused.ts';
import { createLstmParams, fastLstm, lstmForward } from '../training/model/lstm.ts';
import { createModel } from '../training/model/model.ts';
import { Rng } from '../training/model/rng.ts';
import { Trainer } from '../training/train/trainer.ts';

// The fused recurrence and the kernel replacements exist on wasm only; that is the backend this test is about.
await initBackend('wasm');

const cfg: LstmConfig = {
  arch: 'lstm',
  sampleRateHz: 44100,
  stft: { nFft: 64, hopSamples: 16, window: 'sqrt-hann' },
  channels: 2,
  bins: 33,
  cropBins: 20,
  hiddenSize: 16,
  layers: 2,
  vadHidden: 6,
};

function setFast(on: boolean): void {
  fastLstm.enabled = on;
  fastBatchNorm.enabled = on;
  fastMseLoss.enabled = on;
}

function randomArray(rng: Rng, n: number, lo: number, hi: number): Float32Array {
  return Float32Array.from({ length: n }, () => rng.uniform(lo, hi));
}

/** Max |a − b| relative to max |a| (per tensor), the float32-rounding yardstick for a whole gradient. */
function relDiff(a: Float32Array, b: Float32Array): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(a[i]!));
  }
  return diff / Math.max(scale, 1e-30);
}

function compareMaps(t: Test, ref: Map<string, Float32Array>, fast: Map<string, Float32Array>, tol: number): number {
  t.same([...fast.keys()].sort(), [...ref.keys()].sort(), 'same gradient set');
  let worst = 0;
  for (const [name, r] of ref) {
    const d = relDiff(r, fast.get(name)!);
    worst = Math.max(worst, d);
    if (d > tol) t.fail(`${name}: relative deviation ${d.toExponential(2)} > ${tol}`);
  }
  t.ok(worst <= tol, `worst relative gradient deviation ${worst.toExponential(2)} ≤ ${tol}`);
  return worst;
}

t.test('fastTanh is within a few float32 ulps of Math.tanh', async (t) => {
  const rng = new Rng(1);
  let worst = 0;
  for (let i = 0; i < 200_000; i++) {
    const x = Math.fround(rng.uniform(-1, 1) * (i % 3 === 0 ? 1e-3 : i % 3 === 1 ? 4 : 12));
    if (x === 0) continue;
    worst = Math.max(worst, Math.abs(fastTanh(x) - Math.tanh(x)) / Math.abs(Math.tanh(x)));
  }
  t.ok(worst < 4e-7, `max relative error ${worst.toExponential(2)}`);
});

t.test('LSTM forward with carried state: outputs and gradients (params, h0, c0, final state) match', async (t) => {
  const B = 3;
  const T = 11;
  const rng = new Rng(7);
  const mag = tf.tensor4d(randomArray(rng, B * T * 2 * cfg.bins, 0, 2), [B, T, 2, cfg.bins]);
  const p = createLstmParams(cfg, 3);
  const H = cfg.hiddenSize;
  const state = {
    h: [0, 1].map(() => tf.variable(tf.tensor2d(randomArray(rng, B * H, -0.5, 0.5), [B, H]))),
    c: [0, 1].map(() => tf.variable(tf.tensor2d(randomArray(rng, B * H, -2, 2), [B, H]))),
  };
  const wMask = tf.tensor4d(randomArray(rng, B * T * 2 * cfg.bins, -1, 1), [B, T, 2, cfg.bins]);
  const wVad = tf.tensor2d(randomArray(rng, B * T, -1, 1), [B, T]);
  const wState = tf.tensor2d(randomArray(rng, B * H, -1, 1), [B, H]);
  const vars = [...p.trainable.values(), ...state.h, ...state.c];
  const run = (on: boolean): { loss: number; grads: Map<string, Float32Array>; stats: Map<string, Float32Array> } => {
    setFast(on);
    const stats: BatchStats[] = [];
    const { value, grads } = tf.variableGrads(() => {
      const out = lstmForward(p, cfg, mag, { training: true, state, collectStats: stats });
      const terms = [tf.sum(tf.mul(out.mask, wMask)), tf.sum(tf.mul(out.vadLogit, wVad))];
      for (let l = 0; l < cfg.layers; l++) {
        terms.push(tf.sum(tf.mul(out.state.h[l]!, wState)), tf.sum(tf.mul(tf.square(out.state.c[l]!), wState)));
      }
      return tf.addN(terms) as tf.Scalar;
    }, vars);
    const named = new Map(Object.entries(grads).map(([k, g]) => [k, g.dataSync() as Float32Array]));
    const moments = new Map(
      stats.flatMap((s) => [
        [`${s.name}.mean`, s.mean.dataSync() as Float32Array],
        [`${s.name}.var`, s.variance.dataSync() as Float32Array],
      ]),
    );
    const loss = value.dataSync()[0]!;
    tf.dispose([value, ...Object.values(grads), ...stats.flatMap((s) => [s.mean, s.variance])]);
    return { loss, grads: named, stats: moments };
  };
  const before = tf.memory().numTensors;
  const ref = run(false);
  const fast = run(true);
  t.equal(tf.memory().numTensors, before, 'no tensors leak from either path');
  t.ok(Math.abs(fast.loss - ref.loss) <= 1e-5 * Math.abs(ref.loss), `loss ${fast.loss} vs ${ref.loss}`);
  t.equal(ref.grads.size, vars.length, 'a gradient for every parameter and both states of both layers');
  compareMaps(t, ref.grads, fast.grads, 1e-5);
  compareMaps(t, ref.stats, fast.stats, 1e-5);
  t.equal(tf.getBackend(), 'wasm', 'compared on the backend with the fused kernels');
  tf.dispose([mag, wMask, wVad, wState, ...state.h, ...state.c]);
  p.dispose();
  setFast(true);
});

for (const loss of ['mse', 'dual'] as const) {
  t.test(`Trainer.computeGradients (${loss}, balanced VAD) matches the reference formulation`, async (t) => {
    const B = 2;
    const T = 9;
    const rng = new Rng(11);
    const n = B * T * 2 * cfg.bins;
    const samples = T * cfg.stft.hopSamples;
    const mix = randomArray(rng, n, 0, 3);
    const d = {
      batch: B,
      frames: T,
      bins: cfg.bins,
      mixMag: mix,
      vocMag: mix.map((v) => v * rng.uniform(0, 1)),
      accMag: mix.map((v) => v * rng.uniform(0, 1)),
      mixRe: randomArray(rng, n, -2, 2),
      mixIm: randomArray(rng, n, -2, 2),
      vocTime: randomArray(rng, B * 2 * samples, -0.5, 0.5),
      accTime: randomArray(rng, B * 2 * samples, -0.5, 0.5),
      vad: Float32Array.from({ length: B * T }, () => (rng.uniform(0, 1) > 0.4 ? 1 : 0)),
    };
    const model = createModel(cfg, 4);
    const trainer = new Trainer(model, { loss, vadWeight: 0.3, vadBalanced: true, lr: 1e-3, clipNorm: 1 });
    const run = (on: boolean): { losses: number[]; grads: Map<string, Float32Array> } => {
      setFast(on);
      const r = trainer.computeGradients(d);
      const grads = new Map([...r.grads].map(([k, g]) => [k, g.dataSync() as Float32Array]));
      tf.dispose([...r.grads.values(), ...r.stats.flatMap((s) => [s.mean, s.variance])]);
      return { losses: [r.losses.total, r.losses.sep, r.losses.vad], grads };
    };
    const ref = run(false);
    const fast = run(true);
    for (let i = 0; i < 3; i++) t.ok(Math.abs(fast.losses[i]! - ref.losses[i]!) <= 1e-5 * Math.abs(ref.losses[i]!), `loss ${i}`);
    compareMaps(t, ref.grads, fast.grads, 1e-5);
    // Full steps keep the tensor count flat on the fast path too.
    trainer.step(d);
    const count = tf.memory().numTensors;
    trainer.step(d);
    t.equal(tf.memory().numTensors, count, 'numTensors flat across steps');
    trainer.dispose();
    model.dispose();
  });
}

t.test('wasm Sum over leading axes', async (t) => {
  const rng = new Rng(5);
  const data = randomArray(rng, 7 * 5 * 3, -1, 1);
  const x = tf.tensor3d(data, [7, 5, 3]);
  // Reference column sums over the leading `lead` axes of [7, 5, 3].
  const expect = (lead: number): Float32Array => {
    const cols = lead === 1 ? 15 : 3;
    const out = new Float32Array(cols);
    for (let i = 0; i < data.length; i++) out[i % cols] = out[i % cols]! + data[i]!;
    return out;
  };
  const s0 = tf.sum(x, 0);
  t.same(s0.shape, [5, 3]);
  t.ok(relDiff(expect(1), s0.dataSync() as Float32Array) < 1e-6, 'sum over axis 0');
  const s01 = tf.sum(x, [1, 0], true);
  t.same(s01.shape, [1, 1, 3]);
  t.ok(relDiff(expect(2), s01.dataSync() as Float32Array) < 1e-6, 'sum over axes 0, 1 (keepDims)');
  const inner = tf.sum(x, 2);
  t.same(inner.shape, [7, 5], 'trailing-axis sums still go to the stock kernel');
  x.dispose();
  tf.dispose([s0, s01, inner]);
});
