/**
 * npm run export -- runs/<name> --out models/<id> [--name <id>] [--which checkpoint|best] [--eval results/<id>/scores.json]
 * npm run export -- --random lstm|unet --out <dir>   (an untrained model for tests)
 * Writes model.onnx + manifest.json + golden/ (see training/export/write-model.ts) from a training checkpoint, and
 * optionally copies the checkpoint (weights + optimizer + sampler state) next to it so a later session can resume.
 */
import { cp, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend } from './backend.ts';
import { exportRandomModel } from './export/random-model.ts';
import { exportModel } from './export/write-model.ts';
import { writeModelCard } from './export/model-card.ts';
import { createModel } from './model/model.ts';
import { loadCheckpoint } from './train/checkpoint.ts';

const DESCRIPTIONS = {
  lstm: 'Causal Open-Unmix (unidirectional LSTM) with a vocal-activity head; vocals mask, accompaniment = 1 − mask',
  unet: 'Short-context U-Net (depthwise-separable convs, ASPP) over the last frames, with a vocal-activity head',
};

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
      seed: { type: 'string', default: '1' },
      'hidden-size': { type: 'string' },
      'with-checkpoint': { type: 'boolean', default: false },
      'vad-threshold': { type: 'string', default: '0.5' },
    },
  });
  const out = values.out;
  if (out === undefined) throw new Error('usage: npm run export -- runs/<name> --out models/<id> (or --random lstm|unet --out <dir>)');
  if (values.random !== undefined) {
    if (values.random !== 'lstm' && values.random !== 'unet') throw new Error('--random must be lstm or unet');
    const m = await exportRandomModel(
      { arch: values.random, seed: Number(values.seed), ...(values['hidden-size'] ? { hiddenSize: Number(values['hidden-size']) } : {}), ...(values.name ? { name: values.name } : {}) },
      out,
    );
    console.log(`wrote untrained ${m.arch} model "${m.name}" to ${out}`);
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
  const p = ckpt.header.progress;
  const opts = ckpt.header.options;
  // The eval's aggregate table (per-track records stay in results/).
  const scores = values.eval !== undefined ? (JSON.parse(await readFile(values.eval, 'utf8')) as Record<string, unknown>) : undefined;
  const evalScores: Record<string, unknown> = scores === undefined ? {} : {
    data: scores['data'],
    createdAt: scores['createdAt'],
    tracks: Array.isArray(scores['tracks']) ? scores['tracks'].length : undefined,
    aggregate: scores['aggregate'],
    note: 'medians over tracks, streaming engine (npm run eval)',
  };
  const name = values.name ?? basename(out);
  const manifest = await exportModel(
    {
      model,
      name,
      description: DESCRIPTIONS[cfg.arch],
      vadThreshold: Number(values['vad-threshold']),
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
