/**
 * npm run export -- runs/<name> --out models/<id> [--name <id>] [--which checkpoint|best] [--eval results/<id>/scores.json]
 * npm run export -- --random lstm|unet --out <dir>   (an untrained model for tests)
 * npm run export -- --from-onnx models/<id> --out models/<id>   (same weights, current graph builder; see export/reexport.ts)
 * Writes model.onnx + manifest.json + golden/ (see training/export/write-model.ts) from a training checkpoint, and
 * optionally copies the checkpoint (weights + optimizer + sampler state) next to it so a later session can resume.
 */
import { cp, readFile, writeFile } from 'node:fs/promises';
import { parseManifest } from '../server/inference/model-manifest.ts';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend } from './backend.ts';
import { exportRandomModel } from './export/random-model.ts';
import { reexportFromOnnx } from './export/reexport.ts';
import { exportModel } from './export/write-model.ts';
import { writeModelCard } from './export/model-card.ts';
import { applyMaskTemperature, calibrate, type CalibrationResult } from './export/calibrate.ts';
import { createModel } from './model/model.ts';
import { loadCheckpoint } from './train/checkpoint.ts';

const DESCRIPTIONS = {
  lstm: 'Causal Open-Unmix (unidirectional LSTM) with a vocal-activity head; vocals mask, accompaniment = 1 − mask',
  unet: 'Short-context U-Net (depthwise-separable convs, ASPP) over the last frames, with a vocal-activity head',
};

/** The eval's aggregate table (per-track records stay in results/). */
async function readEvalScores(path: string | undefined): Promise<Record<string, unknown>> {
  if (path === undefined) return {};
  const scores = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  return {
    data: scores['data'],
    createdAt: scores['createdAt'],
    tracks: Array.isArray(scores['tracks']) ? scores['tracks'].length : undefined,
    aggregate: scores['aggregate'],
    note: 'medians over tracks, streaming engine (npm run eval)',
  };
}

/** Adds eval scores (and notes) to an already exported model: manifest.eval and README.md, weights untouched. */
async function attachEval(dir: string, evalJson: string | undefined, evalMd: string | undefined, notes: string | undefined): Promise<void> {
  const manifest = parseManifest(JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')));
  const updated = parseManifest({ ...manifest, eval: await readEvalScores(evalJson) });
  await writeFile(join(dir, 'manifest.json'), `${JSON.stringify(updated, null, 2)}\n`);
  await writeModelCard(dir, {
    manifest: updated,
    ...(evalMd !== undefined ? { evalMarkdown: await readFile(evalMd, 'utf8') } : {}),
    ...(notes !== undefined ? { notes: await readFile(notes, 'utf8') } : {}),
  });
  console.log(`attached eval scores to ${dir}`);
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      out: { type: 'string' },
      name: { type: 'string' },
      which: { type: 'string', default: 'checkpoint' },
      eval: { type: 'string' },
      'eval-md': { type: 'string' },
      notes: { type: 'string' },
      random: { type: 'string' },
      'attach-eval': { type: 'string' },
      'from-onnx': { type: 'string' },
      seed: { type: 'string', default: '1' },
      'hidden-size': { type: 'string' },
      'with-checkpoint': { type: 'boolean', default: false },
      'vad-threshold': { type: 'string' },
      calibrate: { type: 'string' },
      'calibrate-seconds': { type: 'string', default: '30' },
    },
  });
  const out = values.out;
  if (out === undefined) throw new Error('usage: npm run export -- runs/<name> --out models/<id> (or --random lstm|unet --out <dir>, or --from-onnx models/<id> --out models/<id>)');
  if (values.random !== undefined) {
    if (values.random !== 'lstm' && values.random !== 'unet') throw new Error('--random must be lstm or unet');
    const m = await exportRandomModel(
      { arch: values.random, seed: Number(values.seed), ...(values['hidden-size'] ? { hiddenSize: Number(values['hidden-size']) } : {}), ...(values.name ? { name: values.name } : {}) },
      out,
    );
    console.log(`wrote untrained ${m.arch} model "${m.name}" to ${out}`);
    return;
  }
  if (values['from-onnx'] !== undefined) {
    await initBackend(undefined, console.log);
    const { manifest, maxAbsDiffVsSource } = await reexportFromOnnx(values['from-onnx'], out);
    console.log(`re-exported ${manifest.arch} "${manifest.name}" to ${out}: max |new − old ONNX| ${maxAbsDiffVsSource.toExponential(2)}`);
    return;
  }
  if (values['attach-eval'] !== undefined) {
    await attachEval(values['attach-eval'], values.eval, values['eval-md'], values.notes);
    return;
  }
  const runDir = positionals[0];
  if (runDir === undefined) throw new Error('give the run directory, e.g. runs/lstm-1024');
  const backend = await initBackend(undefined, console.log);
  const ckptDir = join(runDir, values.which === 'best' ? 'best' : 'checkpoint');
  const ckpt = await loadCheckpoint(ckptDir);
  const cfg = ckpt.header.config;
  const model = createModel(cfg, 0);
  model.params.load(ckpt.params);
  let calibration: CalibrationResult | undefined;
  if (values.calibrate !== undefined) {
    calibration = await calibrate(model, values.calibrate, 'valid', Number(values['calibrate-seconds']), [1, 1.5, 2, 2.5, 3, 4]);
    console.log(`calibration on ${values.calibrate}/valid: ${JSON.stringify(calibration)}`);
    applyMaskTemperature(model, calibration.temperature);
  }
  const p = ckpt.header.progress;
  const opts = ckpt.header.options;
  const evalScores = await readEvalScores(values.eval);
  const name = values.name ?? basename(out);
  const manifest = await exportModel(
    {
      model,
      name,
      description: DESCRIPTIONS[cfg.arch],
      vadThreshold: values['vad-threshold'] !== undefined ? Number(values['vad-threshold']) : (calibration?.vadThreshold ?? 0.5),
      training: {
        data: opts['data'],
        steps: p.step,
        epochs: p.epoch,
        wallTimeSec: Math.round(p.elapsedSec),
        batchSize: opts['batchSize'],
        seqDurSeconds: opts['seqDurSeconds'],
        loss: opts['loss'],
        vadWeight: opts['vadWeight'],
        lr: p.lr,
        bestValidLoss: Number.isFinite(p.bestValidLoss) ? p.bestValidLoss : null,
        lastEpoch: p.history[p.history.length - 1] ?? null,
        checkpoint: values.which,
        calibration: calibration ?? null,
        backend: `tfjs ${String(opts['backend'] ?? backend.tfBackend)}`,
        history: p.history.map((h) => ({ epoch: h.epoch, step: h.step, train: h.trainLoss, valid: h.validLoss, lr: h.lr })),
      },
      eval: evalScores,
    },
    out,
  );
  await writeModelCard(out, {
    manifest,
    ...(values['eval-md'] !== undefined ? { evalMarkdown: await readFile(values['eval-md'], 'utf8') } : {}),
    ...(values.notes !== undefined ? { notes: await readFile(values.notes, 'utf8') } : {}),
  });
  if (values['with-checkpoint']) await cp(ckptDir, join(out, 'checkpoint'), { recursive: true });
  model.dispose();
  console.log(`exported ${cfg.arch} "${manifest.name}" (step ${p.step}, ${manifest.parameters} parameters) to ${out}`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exitCode = 1;
});
