/**
 * A training run: model + data + trainer + checkpoints + logs. `runTraining` is what `npm run train` calls and what
 * the tests call in-process; it returns when the epoch budget, early stopping, --max-steps, --max-minutes or a
 * signal ends it, always leaving a checkpoint that `resume: true` continues exactly.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import cliProgress from 'cli-progress';
import type { WindowKind } from '../../server/dsp/window.ts';
import type { SeparationLossKind } from '../losses.ts';
import { binsBelow, type ModelConfig } from '../model/config.ts';
import { createModel, type SeparationModel } from '../model/model.ts';
import { gitCommit } from '../export/write-model.ts';
import { magnitudeStatistics, type BatchData } from './batch.ts';
import { loadCheckpoint, saveCheckpoint, type EpochRecord, type TrainProgress } from './checkpoint.ts';
import { inProcessPipeline, workerPipeline, drawBatch, type BatchPipeline, type PipelineSpec } from './pipeline.ts';
import { openExcerptSource, type ExcerptSourceSpec } from './data-source.ts';
import { writeLossPlot } from './plot.ts';
import { DataParallelTrainer } from './data-parallel.ts';
import { Trainer } from './trainer.ts';
import { openValidationTracks, validate, type ValidationSpec } from './validate.ts';

export interface TrainOptions {
  arch: 'lstm' | 'unet';
  data: string;
  out: string;
  epochs: number;
  batchSize: number;
  hiddenSize: number;
  layers: number;
  contextFrames: number;
  /** U-Net feature channels per encoder level. */
  unetChannels: number[];
  samplesPerTrack: number;
  seqDurSeconds: number;
  loss: SeparationLossKind;
  vadWeight: number;
  lr: number;
  lrDecayPatience: number;
  lrDecayGamma: number;
  patience: number;
  clipNorm: number;
  seed: number;
  nFft: number;
  hopSamples: number;
  window: WindowKind;
  cropHz: number;
  checkpointEvery: number;
  statsExcerpts: number;
  validChunkSeconds: number;
  validSecondsPerTrack?: number;
  stepsPerEpoch?: number;
  maxSteps?: number;
  maxMinutes?: number;
  resume: boolean;
  worker: boolean;
  /** Gradient replicas including this thread (data-parallel over worker threads); default 1. */
  replicas?: number;
  /** Class-balanced VAD loss. */
  vadBalanced?: boolean;
  /** LSTM VAD head width (0 = linear head on the LSTM output). */
  vadHidden?: number;
  /** Warm start (new runs only): load every parameter of this checkpoint directory that the new model shares. */
  initFrom?: string;
  /** Train only parameters with these name prefixes (e.g. ['vad.']). */
  trainOnly?: string[];
}

export interface RunResult {
  progress: TrainProgress;
  stoppedBy: 'epochs' | 'early-stop' | 'max-steps' | 'max-minutes' | 'signal';
  stepsThisRun: number;
  secondsThisRun: number;
}

export function modelConfigOf(o: TrainOptions): ModelConfig {
  const common = {
    sampleRateHz: 44100,
    stft: { nFft: o.nFft, hopSamples: o.hopSamples, window: o.window },
    channels: 2 as const,
    bins: o.nFft / 2 + 1,
    cropBins: binsBelow(o.cropHz, 44100, o.nFft),
  };
  if (o.arch === 'lstm') {
    return { ...common, arch: 'lstm', hiddenSize: o.hiddenSize, layers: o.layers, ...((o.vadHidden ?? 0) > 0 ? { vadHidden: o.vadHidden } : {}) };
  }
  // One 2× pooling of frequency per encoder level: the crop must divide by 2^levels.
  const pools = 2 ** o.unetChannels.length;
  const cropBins = pools * Math.floor(common.cropBins / pools);
  return { ...common, cropBins, arch: 'unet', contextFrames: o.contextFrames, encoderChannels: o.unetChannels, asppDilations: [1, 2, 4] };
}

function sourceSpec(o: TrainOptions, cfg: ModelConfig, seed: number): ExcerptSourceSpec {
  return { dataDir: o.data, split: 'train', stft: cfg.stft, seed, seqDurSeconds: o.seqDurSeconds, samplesPerTrack: o.samplesPerTrack };
}

/** Per-bin input standardisation from training excerpts drawn by an independent sampler (seed + 1). */
async function setInputStatistics(model: SeparationModel, o: TrainOptions, log: (s: string) => void): Promise<void> {
  const cfg = model.cfg;
  const source = await openExcerptSource(sourceSpec(o, cfg, o.seed + 1));
  const batches: BatchData[] = [];
  const perBatch = Math.min(o.batchSize, o.statsExcerpts);
  for (let n = 0; n < o.statsExcerpts; n += perBatch) {
    const spec: PipelineSpec = { source: sourceSpec(o, cfg, o.seed + 1), stft: cfg.stft, batchSize: perBatch, timeDomain: false };
    batches.push((await drawBatch(source, spec)).data);
  }
  model.setInputStatistics((f) => magnitudeStatistics(batches, cfg.cropBins, f));
  const { mean } = magnitudeStatistics(batches, cfg.cropBins);
  log(`input statistics from ${o.statsExcerpts} excerpts: mean |X| ${(mean.reduce((a, b) => a + b, 0) / mean.length).toFixed(3)}`);
}


function freshProgress(lr: number): TrainProgress {
  return {
    step: 0,
    epoch: 0,
    stepInEpoch: 0,
    lr,
    bestValidLoss: Infinity,
    epochsWithoutImprovement: 0,
    elapsedSec: 0,
    epochLossSums: { total: 0, sep: 0, vad: 0, count: 0 },
    history: [],
    stepLosses: [],
  };
}

export async function runTraining(opts: TrainOptions, log: (line: string) => void = console.log): Promise<RunResult> {
  const ckptDir = join(opts.out, 'checkpoint');
  await mkdir(opts.out, { recursive: true });
  const resuming = opts.resume && existsSync(join(ckptDir, 'checkpoint.json'));
  const ckpt = resuming ? await loadCheckpoint(ckptDir) : undefined;
  const cfg: ModelConfig = ckpt?.header.config ?? modelConfigOf(opts);
  const model = createModel(cfg, opts.seed);
  let progress: TrainProgress;
  let samplerState: unknown;
  if (ckpt !== undefined) {
    model.params.load(ckpt.params);
    progress = ckpt.header.progress;
    // JSON has no Infinity: a run that never validated stores null.
    if (typeof progress.bestValidLoss !== 'number') progress.bestValidLoss = Infinity;
    samplerState = ckpt.header.samplerState;
    log(`resumed ${ckptDir} at step ${progress.step} (epoch ${progress.epoch}, lr ${progress.lr})`);
  } else if (opts.initFrom !== undefined) {
    progress = freshProgress(opts.lr);
    const source = await loadCheckpoint(opts.initFrom);
    const { loaded, fresh } = model.params.loadMatching(source.params);
    log(`warm start from ${opts.initFrom} (step ${source.header.progress.step}): ${loaded.length} parameters loaded, fresh: ${fresh.join(', ') || 'none'}`);
    // The input standardisation comes with the loaded weights; recompute it only if it was not there.
    if (fresh.includes('inputMean') || fresh.includes('inputScale')) await setInputStatistics(model, opts, log);
  } else {
    progress = freshProgress(opts.lr);
    await setInputStatistics(model, opts, log);
  }
  const trainer = new Trainer(model, {
    loss: opts.loss, vadWeight: opts.vadWeight, vadBalanced: opts.vadBalanced === true, lr: progress.lr, clipNorm: opts.clipNorm,
    ...(opts.trainOnly !== undefined && opts.trainOnly.length > 0 ? { trainOnly: opts.trainOnly } : {}),
  });
  if (ckpt !== undefined) trainer.optimizer.setState(ckpt.adam);
  const parallel = await DataParallelTrainer.start(trainer, opts.replicas ?? 1, opts.seed);
  if (parallel.replicaCount > 1) log(`data-parallel over ${parallel.replicaCount} replicas (this thread + ${parallel.replicaCount - 1} workers)`);

  const pipeSpec: PipelineSpec = {
    source: sourceSpec(opts, cfg, opts.seed),
    stft: cfg.stft,
    batchSize: opts.batchSize,
    timeDomain: trainer.timeDomain,
    ...(samplerState !== undefined ? { samplerState } : {}),
  };
  const probe = await openExcerptSource(pipeSpec.source);
  if (pipeSpec.samplerState !== undefined) {
    try {
      probe.setState(pipeSpec.samplerState);
    } catch (err) {
      // The data set changed since the checkpoint (e.g. more tracks): keep weights and optimizer, restart the sampler.
      log(`sampler state not restorable (${err instanceof Error ? err.message : String(err)}); drawing afresh from the seed`);
      delete pipeSpec.samplerState;
    }
  }
  const epochLength = probe.epochLength;
  const stepsPerEpoch = opts.stepsPerEpoch ?? Math.ceil(epochLength / opts.batchSize);
  const pipe: BatchPipeline = opts.worker ? workerPipeline(pipeSpec) : await inProcessPipeline(pipeSpec);
  const validSpec: ValidationSpec = {
    dataDir: opts.data,
    split: 'valid',
    chunkSeconds: opts.validChunkSeconds,
    batchSize: opts.batchSize,
    ...(opts.validSecondsPerTrack !== undefined ? { maxSecondsPerTrack: opts.validSecondsPerTrack } : {}),
  };
  const validTracks = await openValidationTracks(validSpec);
  const commit = gitCommit();

  let stopSignal = false;
  const onSignal = (): void => {
    stopSignal = true;
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const startMs = Date.now();
  const elapsedBefore = progress.elapsedSec;
  let stepsThisRun = 0;
  let current = await pipe.next();
  const save = async (dir: string): Promise<void> => {
    progress.elapsedSec = elapsedBefore + (Date.now() - startMs) / 1000;
    await saveCheckpoint(dir, {
      header: { config: cfg, options: { ...opts, backend: tf.getBackend() }, progress, samplerState: current.samplerStateBefore, adamStep: trainer.optimizer.step },
      params: model.params.snapshot(),
      adam: trainer.optimizer.getState(),
    });
  };
  const totalSteps = opts.maxSteps ?? opts.epochs * stepsPerEpoch;
  const bar = new cliProgress.SingleBar({
    format: 'step {value}/{total} | epoch {epoch} | loss {loss} (sep {sep}, vad {vad}) | {rate} steps/s | ETA {eta_formatted}',
    noTTYOutput: true,
    notTTYSchedule: 30000,
    etaBuffer: 20,
  });
  bar.start(totalSteps, progress.step, { epoch: progress.epoch, loss: '-', sep: '-', vad: '-', rate: '-' });
  let stoppedBy: RunResult['stoppedBy'] = 'epochs';
  try {
    while (true) {
      if (opts.maxSteps !== undefined && progress.step >= opts.maxSteps) { stoppedBy = 'max-steps'; break; }
      if (progress.epoch >= opts.epochs) { stoppedBy = 'epochs'; break; }
      if (stopSignal) { stoppedBy = 'signal'; break; }
      if (opts.maxMinutes !== undefined && Date.now() - startMs > opts.maxMinutes * 60000) { stoppedBy = 'max-minutes'; break; }

      const l = await parallel.step(current.data);
      if (!Number.isFinite(l.total)) throw new Error(`loss is ${l.total} at step ${progress.step}`);
      progress.step++;
      progress.stepInEpoch++;
      stepsThisRun++;
      const s = progress.epochLossSums;
      s.total += l.total;
      s.sep += l.sep;
      s.vad += l.vad;
      s.count++;
      progress.stepLosses.push([progress.step, l.total]);
      current = await pipe.next();
      const rate = stepsThisRun / Math.max(1e-3, (Date.now() - startMs) / 1000);
      bar.update(progress.step, { epoch: progress.epoch, loss: l.total.toFixed(4), sep: l.sep.toFixed(4), vad: l.vad.toFixed(4), rate: rate.toFixed(3) });

      if (progress.stepInEpoch >= stepsPerEpoch) {
        const v = validTracks !== undefined ? await validate(trainer, validTracks, validSpec, cfg.stft, cfg.sampleRateHz) : undefined;
        const record: EpochRecord = {
          epoch: progress.epoch,
          step: progress.step,
          trainLoss: s.total / s.count,
          trainSepLoss: s.sep / s.count,
          trainVadLoss: s.vad / s.count,
          validLoss: v?.total ?? NaN,
          validSepLoss: v?.sep ?? NaN,
          validVadLoss: v?.vad ?? NaN,
          lr: progress.lr,
          elapsedSec: elapsedBefore + (Date.now() - startMs) / 1000,
          stepsPerSec: rate,
          gitCommit: commit,
        };
        progress.history.push(record);
        progress.epoch++;
        progress.stepInEpoch = 0;
        progress.epochLossSums = { total: 0, sep: 0, vad: 0, count: 0 };
        const score = v?.total ?? record.trainLoss;
        if (score < progress.bestValidLoss) {
          progress.bestValidLoss = score;
          progress.epochsWithoutImprovement = 0;
          await save(join(opts.out, 'best'));
        } else {
          progress.epochsWithoutImprovement++;
          if (progress.epochsWithoutImprovement % opts.lrDecayPatience === 0) {
            progress.lr *= opts.lrDecayGamma;
            trainer.optimizer.lr = progress.lr;
          }
        }
        log(`\nepoch ${record.epoch}: train ${record.trainLoss.toFixed(4)} valid ${record.validLoss.toFixed(4)} (sep ${record.validSepLoss.toFixed(4)}, vad ${record.validVadLoss.toFixed(4)}) lr ${progress.lr}`);
        await writeRunLog(opts, cfg, progress);
        await save(ckptDir);
        // One snapshot per epoch: `npm run curve` scores them for the card's quality-vs-steps curve.
        await save(join(opts.out, 'snapshots', `step-${String(progress.step).padStart(6, '0')}`));
        if (progress.epochsWithoutImprovement >= opts.patience) { stoppedBy = 'early-stop'; break; }
      } else if (progress.step % opts.checkpointEvery === 0) {
        await save(ckptDir);
      }
    }
  } finally {
    bar.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  await save(ckptDir);
  await writeRunLog(opts, cfg, progress);
  await pipe.close();
  await parallel.close();
  trainer.dispose();
  model.dispose();
  const secondsThisRun = (Date.now() - startMs) / 1000;
  // Audio-seconds of excerpts trained on per wall-second: comparable across batch sizes and excerpt lengths.
  const audioPerSec = (stepsThisRun * opts.batchSize * opts.seqDurSeconds) / secondsThisRun;
  log(`stopped by ${stoppedBy} at step ${progress.step}: ${stepsThisRun} steps in ${secondsThisRun.toFixed(0)} s `
    + `(${(stepsThisRun / secondsThisRun).toFixed(3)} steps/s, ${audioPerSec.toFixed(1)} audio-s per wall-s, ${parallel.replicaCount} replica(s))`);
  return { progress, stoppedBy, stepsThisRun, secondsThisRun };
}

async function writeRunLog(opts: TrainOptions, cfg: ModelConfig, progress: TrainProgress): Promise<void> {
  const logJson = {
    options: opts,
    config: cfg,
    step: progress.step,
    epoch: progress.epoch,
    elapsedSec: progress.elapsedSec,
    bestValidLoss: progress.bestValidLoss,
    epochs: progress.history,
  };
  await writeFile(join(opts.out, 'log.json'), `${JSON.stringify(logJson, null, 2)}\n`);
  if (progress.stepLosses.length > 0) {
    await writeLossPlot(join(opts.out, 'loss.png'), progress.history, progress.stepLosses, `${cfg.arch} — ${opts.out}`);
  }
}
