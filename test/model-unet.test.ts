/**
 * The U-Net's exported step graph (context buffer as ONNX state), run frame by frame in onnxruntime, equals the
 * tfjs model on the whole sequence (one window per frame, zeros before the stream start), with non-trivial input
 * statistics; and it is causal: changing a future frame never changes an earlier output.
 */
import t from 'tap';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../training/backend.ts';
import { buildStepGraph } from '../training/export/build-step-graph.ts';
import { createStepSession, runSteps } from '../training/export/ort-step.ts';
import { smallConfig } from '../training/export/random-model.ts';
import { frameSlice, goldenInput, tfjsPerFrame } from '../training/export/write-model.ts';
import { createModel } from '../training/model/model.ts';
import { Rng } from '../training/model/rng.ts';

await initBackend();

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

t.test('U-Net: onnxruntime frame by frame with context state == tfjs whole sequence (≤ 1e-5)', async (t) => {
  const model = createModel(smallConfig({ arch: 'unet' }), 4);
  const rng = new Rng(3);
  for (const name of ['inputMean', 'inputScale']) {
    const v = model.params.get(name);
    v.assign(tf.tensor(Float32Array.from({ length: v.size }, () => (name === 'inputMean' ? -rng.uniform(0, 2) : rng.uniform(0.5, 2))), v.shape));
  }
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
