/**
 * The U-Net's exported step graph (context buffer as ONNX state), run frame by frame in onnxruntime, equals the
 * tfjs model on the whole sequence (one window per frame, zeros before the stream start), with non-trivial input
 * statistics — at the test size and at the shipped model's shape — and it is causal: changing a future frame never
 * changes an earlier output. The graph is made of ONNX Runtime's convolution kernels with weights as initializers.
 */
import t from 'tap';
import onnxProto from 'onnx-proto';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../training/backend.ts';
import { buildStepGraph } from '../training/export/build-step-graph.ts';
import { createStepSession, runSteps } from '../training/export/ort-step.ts';
import { smallConfig } from '../training/export/random-model.ts';
import { frameSlice, goldenInput, tfjsPerFrame } from '../training/export/write-model.ts';
import type { ModelConfig, UnetConfig } from '../training/model/config.ts';
import { createModel, type SeparationModel } from '../training/model/model.ts';
import { Rng } from '../training/model/rng.ts';

await initBackend();

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** A random model with non-trivial input statistics (the defaults, 0 and 1, would hide layout mistakes). */
function unetWithStatistics(cfg: ModelConfig, seed: number): SeparationModel {
  const model = createModel(cfg, seed);
  const rng = new Rng(seed + 1);
  for (const name of ['inputMean', 'inputScale']) {
    const v = model.params.get(name);
    v.assign(tf.tensor(Float32Array.from({ length: v.size }, () => (name === 'inputMean' ? -rng.uniform(0, 2) : rng.uniform(0.5, 2))), v.shape));
  }
  return model;
}

t.test('U-Net: onnxruntime frame by frame with context state == tfjs whole sequence (≤ 1e-5)', async (t) => {
  const model = unetWithStatistics(smallConfig({ arch: 'unet' }), 4);
  const cfg = model.cfg;
  const batch = 2;
  const frames = 14; // more than the context, so the buffer wraps
  const input = goldenInput(cfg.bins, batch, frames, 5);
  const expected = tfjsPerFrame(model, input, batch, frames);
  const graph = buildStepGraph(model);
  t.equal(graph.io.state.length, 1, 'one state: the context buffer');
  const session = await createStepSession(graph.bytes);
  const frameInputs = Array.from({ length: frames }, (_, k) => frameSlice(input, cfg.bins, batch, frames, k));
  const run = await runSteps(session, graph.io, frameInputs, batch);
  let worst = 0;
  for (let k = 0; k < frames; k++) worst = Math.max(worst, maxAbsDiff(run.mask[k]!, expected.mask[k]!), maxAbsDiff(run.vad[k]!, expected.vad[k]!));
  t.ok(worst <= 1e-5, `max |ORT − tfjs| = ${worst}`);
  const m = run.mask[frames - 1]!;
  t.ok(Math.max(...m) - Math.min(...m) > 0.01, 'mask varies across bins');

  // Causality: perturb frame 9 only; outputs of frames 0..8 are unchanged, frame 9 changes.
  const perturbed = frameInputs.map((f, k) => (k === 9 ? f.map((v) => v * 3 + 1) : f));
  const run2 = await runSteps(session, graph.io, perturbed, batch);
  let before = 0;
  for (let k = 0; k < 9; k++) before = Math.max(before, maxAbsDiff(run.mask[k]!, run2.mask[k]!));
  t.equal(before, 0, 'earlier frames untouched by a later change');
  t.ok(maxAbsDiff(run.mask[9]!, run2.mask[9]!) > 1e-4, 'the changed frame changes its own output');
  await session.release();
  model.dispose();
});

/** The shipped model's shape (models/unet/manifest.json): 16 frames, 368 bins, channels 8/16/24 (padded to 16/16/32). */
const shippedShape: UnetConfig = { ...(smallConfig({ arch: 'unet' }) as UnetConfig), cropBins: 368, contextFrames: 16, encoderChannels: [8, 16, 24] };

t.test('U-Net at the shipped shape: onnxruntime == tfjs (≤ 1e-5) over 20 frames, batch 3', async (t) => {
  const model = unetWithStatistics(shippedShape, 21);
  const batch = 3;
  const frames = 20;
  const input = goldenInput(shippedShape.bins, batch, frames, 8);
  const expected = tfjsPerFrame(model, input, batch, frames);
  const graph = buildStepGraph(model);
  const session = await createStepSession(graph.bytes);
  const run = await runSteps(session, graph.io, Array.from({ length: frames }, (_, k) => frameSlice(input, shippedShape.bins, batch, frames, k)), batch);
  let worst = 0;
  for (let k = 0; k < frames; k++) worst = Math.max(worst, maxAbsDiff(run.mask[k]!, expected.mask[k]!), maxAbsDiff(run.vad[k]!, expected.vad[k]!));
  t.ok(worst <= 1e-5, `max |ORT − tfjs| = ${worst}`);
  await session.release();
  model.dispose();
});

t.test('U-Net step graph: convolution kernels, weights as initializers, a few dozen nodes', async (t) => {
  const model = createModel(shippedShape, 2);
  const graph = onnxProto.onnx.ModelProto.decode(buildStepGraph(model).bytes).graph!;
  model.dispose();
  const nodes = graph.node ?? [];
  const initializers = new Set((graph.initializer ?? []).map((i) => i.name));
  const count = (op: string): number => nodes.filter((n) => n.opType === op).length;
  const allowed = new Set(['Slice', 'Add', 'Log', 'Mul', 'Unsqueeze', 'Concat', 'Identity', 'Conv', 'ConvTranspose', 'AveragePool', 'GlobalAveragePool', 'Resize', 'Reshape', 'Gemm', 'Sigmoid', 'Relu']);
  t.same([...new Set(nodes.map((n) => n.opType!))].filter((op) => !allowed.has(op)), [], 'only these operator types');
  t.ok(nodes.length <= 60, `${nodes.length} nodes (the per-tap Slice/Mul/Add export had hundreds)`);
  // enc0 (map + newest row), enc1/enc2 depthwise + pointwise, 3 ASPP branches + pointwise, 3 decoder levels, 3 newest rows.
  t.equal(count('Conv'), 2 + 2 * 2 + 3 + 1 + 3 + 3, 'Conv nodes');
  t.equal(count('AveragePool'), 3, 'one pooling per level');
  t.equal(count('Mul'), 1, 'one Mul: the input scaling of the newest frame');
  const weightless = nodes.filter((n) => (n.opType === 'Conv' || n.opType === 'ConvTranspose' || n.opType === 'Gemm') && !initializers.has(n.input![1]!));
  t.equal(weightless.length, 0, 'every Conv/ConvTranspose/Gemm weight is an initializer');
});
