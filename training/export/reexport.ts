/**
 * `npm run export -- --from-onnx models/<id> --out models/<id>`: re-exports a shipped model whose training
 * checkpoint was not kept, with the current step-graph builder, from the weights stored in its own model.onnx
 * (training/export/onnx-params.ts). Training history, eval scores, VAD settings and the card's hand-written
 * sections carry over; the new graph must reproduce the old file's outputs, frame by frame with state, or nothing
 * is written.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { parseManifest, type ModelManifest } from '../../server/inference/model-manifest.ts';
import type { ModelConfig } from '../model/config.ts';
import { createModel } from '../model/model.ts';
import { buildStepGraph } from './build-step-graph.ts';
import { cardSections, writeModelCard } from './model-card.ts';
import { floatInitializers, paramsFromInitializers } from './onnx-params.ts';
import { createStepSession, runSteps } from './ort-step.ts';
import { exportModel, frameSlice, goldenInput, GOLDEN_TOLERANCE } from './write-model.ts';
import { saveCheckpoint, type TrainProgress } from '../train/checkpoint.ts';

function weightsOnlyProgress(): TrainProgress {
  return { step: 0, epoch: 0, stepInEpoch: 0, lr: 0, bestValidLoss: Infinity, epochsWithoutImprovement: 0, elapsedSec: 0, epochLossSums: { total: 0, sep: 0, vad: 0, count: 0 }, history: [], stepLosses: [] };
}

/** Max |a − b| over per-frame outputs of two step runs on the same input. */
async function maxStepDiff(a: ort.InferenceSession, aIo: ModelManifest['io'], b: ort.InferenceSession, bIo: ModelManifest['io'], bins: number): Promise<number> {
  const batch = 2;
  const frames = 24; // past the longest context, so the state is exercised after the window fills
  const input = goldenInput(bins, batch, frames, 77);
  const frameInputs = Array.from({ length: frames }, (_, t) => frameSlice(input, bins, batch, frames, t));
  const ra = await runSteps(a, aIo, frameInputs, batch);
  const rb = await runSteps(b, bIo, frameInputs, batch);
  let worst = 0;
  for (let t = 0; t < frames; t++) {
    for (const [x, y] of [
      [ra.mask[t]!, rb.mask[t]!],
      [ra.vad[t]!, rb.vad[t]!],
    ] as const) {
      if (x.length !== y.length) return Infinity;
      for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i]! - y[i]!));
    }
  }
  return worst;
}

export async function reexportFromOnnx(srcDir: string, outDir: string): Promise<{ manifest: ModelManifest; maxAbsDiffVsSource: number }> {
  const source = parseManifest(JSON.parse(await readFile(join(srcDir, 'manifest.json'), 'utf8')));
  const cfg = source.training['config'] as ModelConfig | undefined;
  if (cfg === undefined || cfg.arch !== source.arch) throw new Error(`${srcDir}: manifest.training.config is missing or not a ${source.arch} config`);
  // The LSTM's export folds BatchNorm into its dense layers, so its file does not hold the trained parameters.
  if (cfg.arch !== 'unet') throw new Error(`--from-onnx reads weights stored as-is; the ${cfg.arch} export transforms them`);
  const srcBytes = await readFile(join(srcDir, source.onnx));
  const card = existsSync(join(srcDir, 'README.md')) ? cardSections(await readFile(join(srcDir, 'README.md'), 'utf8')) : {};

  const model = createModel(cfg, 0);
  try {
    const shapes = Object.fromEntries(Object.entries(model.params.snapshot()).map(([k, v]) => [k, v.shape]));
    model.params.load(paramsFromInitializers(floatInitializers(srcBytes), shapes));
    // Compared with the source file before exportModel writes anything (it then checks the new graph against tfjs).
    const oldSession = await createStepSession(srcBytes);
    const graph = buildStepGraph(model);
    const newSession = await createStepSession(graph.bytes);
    const diff = await maxStepDiff(oldSession, source.io, newSession, graph.io, cfg.bins);
    await Promise.all([oldSession.release(), newSession.release()]);
    if (!(diff <= GOLDEN_TOLERANCE)) throw new Error(`re-export differs from ${srcDir}/${source.onnx}: max |diff| ${diff} > ${GOLDEN_TOLERANCE}`);

    let manifest = await exportModel(
      { model, name: source.name, description: source.description, vadThreshold: source.vadThreshold, training: source.training, eval: source.eval },
      outDir,
    );
    if (source.vadFlag !== undefined) {
      manifest = parseManifest({ ...manifest, vadFlag: source.vadFlag });
      await writeFile(join(outDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    }
    await writeModelCard(outDir, { manifest, ...card });
    // The new graph stores weights in its own layouts: keep them as a weights-only checkpoint, so the next
    // re-export or a resumed training starts from parameters, not from this file.
    await saveCheckpoint(join(outDir, 'checkpoint'), {
      header: { config: cfg, options: { reexportedFrom: `${srcDir}/${source.onnx}` }, progress: weightsOnlyProgress(), samplerState: undefined, adamStep: 0 },
      params: model.params.snapshot(),
      adam: { step: 0, m: {}, v: {} },
    });
    return { manifest, maxAbsDiffVsSource: diff };
  } finally {
    model.dispose();
  }
}
