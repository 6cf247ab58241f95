/**
 * The causal LSTM's exported step graph, run frame by frame in onnxruntime with its state carried, equals the tfjs
 * model run on the whole sequence — with non-trivial input statistics and BatchNorm running statistics, so the
 * folding and the LSTM gate reordering are both exercised.
 */
import t from 'tap';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../training/backend.ts';
import { buildStepGraph } from '../training/export/build-step-graph.ts';
import { createStepSession, runSteps } from '../training/export/ort-step.ts';
import { smallConfig } from '../training/export/random-model.ts';
import { frameSlice, goldenInput, tfjsPerFrame } from '../training/export/write-model.ts';
import { tfjsBiasToOnnx, tfjsKernelToOnnx } from '../training/export/lstm-onnx.ts';
import { createModel, type SeparationModel } from '../training/model/model.ts';
import { Rng } from '../training/model/rng.ts';

await initBackend();

/** Gives every non-trainable buffer (input statistics, BN running stats) and BN affine weights random values. */
function randomiseStatistics(model: SeparationModel, seed: number): void {
  const rng = new Rng(seed);
  for (const [name, v] of [...model.params.buffers, ...model.params.trainable]) {
    if (!/inputMean|inputScale|runMean|runVar|gamma|beta|bias/.test(name)) continue;
    const data = new Float32Array(v.size);
    for (let i = 0; i < data.length; i++) {
      if (/inputScale|runVar|gamma/.test(name)) data[i] = rng.uniform(0.5, 2);
      else if (name === 'inputMean') data[i] = -rng.uniform(0, 3);
      else data[i] = rng.uniform(-0.5, 0.5);
    }
    v.assign(tf.tensor(data, v.shape));
  }
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

t.test('tfjs → ONNX gate reordering puts tfjs blocks i,f,c,o into ONNX order i,o,f,c', async (t) => {
  const H = 2;
  const inSize = 1;
  // Kernel [1, 4H]: value = 10·tfjsGate + unit.
  const kernel = Float32Array.from({ length: 4 * H }, (_, col) => 10 * Math.floor(col / H) + (col % H));
  const onnxW = tfjsKernelToOnnx(kernel, inSize, H);
  t.same(Array.from(onnxW), [0, 1, 30, 31, 10, 11, 20, 21]);
  const bias = tfjsBiasToOnnx(kernel, H);
  t.same(Array.from(bias.subarray(0, 4 * H)), [0, 1, 30, 31, 10, 11, 20, 21]);
  t.same(Array.from(bias.subarray(4 * H)), new Array(4 * H).fill(0));
});

for (const [hiddenSize, layers, vadHidden] of [[16, 2, 0], [8, 3, 0], [16, 2, 6]] as const) {
  const head = vadHidden > 0 ? `, MLP VAD head (${vadHidden} units on [e, r])` : '';
  t.test(`LSTM H=${hiddenSize}×${layers}${head}: onnxruntime frame by frame == tfjs whole sequence (≤ 1e-5)`, async (t) => {
    const cfg = smallConfig({ arch: 'lstm', hiddenSize, layers });
    const model = createModel(cfg.arch === 'lstm' && vadHidden > 0 ? { ...cfg, vadHidden } : cfg, 5);
    randomiseStatistics(model, 9);
    const graph = buildStepGraph(model);
    t.equal(graph.io.state.length, 2 * layers, 'one h and one c state per layer');
    const batch = 3;
    const frames = 12;
    const input = goldenInput(model.cfg.bins, batch, frames, 77);
    const expected = tfjsPerFrame(model, input, batch, frames);
    const session = await createStepSession(graph.bytes);
    const run = await runSteps(session, graph.io, Array.from({ length: frames }, (_, k) => frameSlice(input, model.cfg.bins, batch, frames, k)), batch);
    let worst = 0;
    for (let k = 0; k < frames; k++) worst = Math.max(worst, maxAbsDiff(run.mask[k]!, expected.mask[k]!), maxAbsDiff(run.vad[k]!, expected.vad[k]!));
    t.ok(worst <= 1e-5, `max |ORT − tfjs| = ${worst}`);
    // The masks must actually vary (a constant 0.5 would match trivially).
    const m = run.mask[frames - 1]!;
    t.ok(Math.max(...m) - Math.min(...m) > 0.05, 'mask varies across bins');
    const vads = run.vad.map((v) => v[0]!);
    t.ok(Math.max(...vads) - Math.min(...vads) > 1e-3, 'the VAD probability varies across frames');
    // State matters: running frame 6 alone from zero state differs from the carried-state result.
    const fresh = await runSteps(session, graph.io, [frameSlice(input, model.cfg.bins, batch, frames, 6)], batch);
    t.ok(maxAbsDiff(fresh.mask[0]!, run.mask[6]!) > 1e-4, 'carried state changes the output');
    await session.release();
    model.dispose();
  });
}
