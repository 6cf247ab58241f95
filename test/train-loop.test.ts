/**
 * The training loop on a tiny MUSDB-layout data set written by the test: no tensor leaks across steps, the worker
 * pipeline yields the same batches as the in-process one, and `--resume` continues exactly (N steps straight ==
 * k steps + resume + N − k steps, bit for bit, across an epoch boundary with validation).
 */
import { mkdtemp, mkdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import * as tf from '@tensorflow/tfjs';
import { writeWav } from '../server/dsp/wav.ts';
import { initBackend } from '../training/backend.ts';
import { createModel } from '../training/model/model.ts';
import { smallConfig } from '../training/export/random-model.ts';
import { prepareBatch } from '../training/train/batch.ts';
import { loadCheckpoint } from '../training/train/checkpoint.ts';
import { inProcessPipeline, workerPipeline, type PipelineSpec } from '../training/train/pipeline.ts';
import { runTraining, type TrainOptions } from '../training/train/run.ts';
import { Trainer } from '../training/train/trainer.ts';
import { noise, sine } from './helpers/signals.ts';

await initBackend();

const RATE = 44100;
const root = await mkdtemp(join(tmpdir(), 'livestem-train-'));
t.teardown(() => rm(root, { recursive: true, force: true }));

async function writeTrack(split: string, name: string, seed: number): Promise<void> {
  const dir = join(root, 'data', split, name);
  await mkdir(dir, { recursive: true });
  const n = 2 * RATE;
  // Vocals: a tone that is on for the first half only (so VAD labels have both classes).
  const vocals = [0, 1].map((c) => sine(n, RATE, 300 + 40 * seed + c, 0.3).map((v, i) => (i < n / 2 ? v : 0)));
  const drums = [0, 1].map((c) => noise(n, seed * 10 + c, 0.1));
  const bass = [0, 1].map((c) => sine(n, RATE, 60 + seed + c, 0.2));
  const other = [0, 1].map((c) => sine(n, RATE, 1500 + 100 * seed + c, 0.1));
  const mixture = [0, 1].map((c) => vocals[c]!.map((v, i) => v + drums[c]![i]! + bass[c]![i]! + other[c]![i]!));
  for (const [file, audio] of Object.entries({ mixture, vocals, drums, bass, other })) {
    await writeWav(join(dir, `${file}.wav`), audio, RATE, 'f32');
  }
}
await writeTrack('train', 'a', 1);
await writeTrack('train', 'b', 2);
await writeTrack('valid', 'v', 3);

function options(out: string, extra: Partial<TrainOptions> = {}): TrainOptions {
  return {
    arch: 'lstm', data: join(root, 'data'), out, epochs: 100, batchSize: 2, hiddenSize: 8, layers: 2, contextFrames: 8, unetChannels: [4, 6, 8],
    samplesPerTrack: 2, seqDurSeconds: 0.25, loss: 'mse', vadWeight: 0.1, lr: 1e-2, lrDecayPatience: 1, lrDecayGamma: 0.5,
    patience: 100, clipNorm: 5, seed: 7, nFft: 1024, hopSamples: 256, window: 'sqrt-hann', cropHz: 16000,
    checkpointEvery: 100, statsExcerpts: 2, validChunkSeconds: 1, stepsPerEpoch: 3, resume: false, worker: false,
    ...extra,
  };
}

function pipeSpec(): PipelineSpec {
  const stft = { nFft: 1024, hopSamples: 256, window: 'sqrt-hann' as const };
  return {
    source: { dataDir: join(root, 'data'), split: 'train', stft, seed: 3, seqDurSeconds: 0.25, samplesPerTrack: 2 },
    stft,
    batchSize: 2,
    timeDomain: false,
  };
}

t.test('training steps do not leak tensors (lstm/mse, lstm/dual, unet/sisnr)', async (t) => {
  const length = 8 * 256;
  const stereo = (seed: number): Float32Array[] => [noise(length, seed, 0.2), noise(length, seed + 1, 0.2)];
  const items = [0, 1].map((b) => {
    const vocals = stereo(10 * b);
    const accompaniment = stereo(10 * b + 5);
    return { vocals, accompaniment, mixture: vocals.map((v, c) => v.map((x, i) => x + accompaniment[c]![i]!)) };
  });
  for (const [arch, loss] of [['lstm', 'mse'], ['lstm', 'dual'], ['unet', 'sisnr']] as const) {
    const model = createModel(smallConfig({ arch, hiddenSize: 8 }), 1);
    const trainer = new Trainer(model, { loss, vadWeight: 0.1, lr: 1e-3, clipNorm: 5 });
    const batch = prepareBatch(items, model.cfg.stft, trainer.timeDomain);
    trainer.step(batch);
    const after1 = tf.memory().numTensors;
    trainer.step(batch);
    trainer.evaluate(batch);
    t.equal(tf.memory().numTensors, after1, `${arch}/${loss}: numTensors flat across steps (${after1})`);
    trainer.dispose();
    model.dispose();
  }
});

t.test('worker pipeline yields the same batches and sampler states as the in-process one', async (t) => {
  const local = await inProcessPipeline(pipeSpec());
  const worker = workerPipeline(pipeSpec());
  for (let i = 0; i < 2; i++) {
    const a = await local.next();
    const b = await worker.next();
    t.same(b.samplerStateBefore, a.samplerStateBefore, `batch ${i}: sampler state`);
    t.ok(a.data.mixMag.every((v, k) => v === b.data.mixMag[k]), `batch ${i}: identical magnitudes`);
    t.same(Array.from(b.data.vad), Array.from(a.data.vad), `batch ${i}: identical VAD labels`);
  }
  await worker.close();
});

t.test('resume continues exactly: 5 steps == 2 steps + resume + 3 steps', async (t) => {
  const straight = join(root, 'runs', 'straight');
  const split = join(root, 'runs', 'split');
  const quiet = (): void => {};
  const a = await runTraining(options(straight, { maxSteps: 5 }), quiet);
  t.equal(a.stoppedBy, 'max-steps');
  await runTraining(options(split, { maxSteps: 2 }), quiet);
  const b = await runTraining(options(split, { maxSteps: 5, resume: true }), quiet);
  t.equal(b.stepsThisRun, 3, 'the resumed run did only the remaining steps');
  const ca = await loadCheckpoint(join(straight, 'checkpoint'));
  const cb = await loadCheckpoint(join(split, 'checkpoint'));
  t.equal(cb.header.progress.step, 5);
  t.equal(cb.header.progress.epoch, 1, 'an epoch boundary (validation, lr decay) was crossed');
  t.same(cb.header.samplerState, ca.header.samplerState, 'sampler positions agree');
  t.equal(cb.header.progress.lr, ca.header.progress.lr, 'learning rates agree');
  for (const [name, v] of Object.entries(ca.params)) {
    const w = cb.params[name]!;
    t.ok(v.data.every((x, i) => x === w.data[i]), `parameter ${name} identical`);
  }
  for (const [name, v] of Object.entries(ca.adam.v)) {
    t.ok(v.data.every((x, i) => x === cb.adam.v[name]!.data[i]), `Adam second moment ${name} identical`);
  }
  const log = JSON.parse(await readFile(join(split, 'log.json'), 'utf8')) as { epochs: { validLoss: number }[] };
  t.ok(log.epochs.length === 1 && Number.isFinite(log.epochs[0]!.validLoss), 'epoch log with a validation loss');
  const png = await readFile(join(split, 'loss.png'));
  t.same(Array.from(png.subarray(1, 4)), [0x50, 0x4e, 0x47], 'loss plot is a PNG');
});
