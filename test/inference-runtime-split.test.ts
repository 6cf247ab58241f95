/**
 * A manifest's maxBatchPerRun: the U-Net export declares it, the LSTM's does not, and ModelRuntime steps a batch
 * larger than it as consecutive ORT calls whose outputs and carried states equal one uncapped call's, stream by stream.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { readManifest } from '../server/inference/model-registry.ts';
import { ModelRuntime, type BatchItem } from '../server/inference/model-runtime.ts';
import { exportRandomModel } from '../training/export/random-model.ts';

const root = await mkdtemp(join(tmpdir(), 'livestem-split-'));
t.teardown(() => rm(root, { recursive: true, force: true }));

t.test('the exporter writes maxBatchPerRun for the U-Net only', async (t) => {
  const unet = await exportRandomModel({ arch: 'unet', name: 'unet', seed: 5 }, join(root, 'unet'));
  const lstm = await exportRandomModel({ arch: 'lstm', name: 'lstm', seed: 5 }, join(root, 'lstm'));
  t.equal(unet.maxBatchPerRun, 16);
  t.equal(lstm.maxBatchPerRun, undefined);
});

t.test('a batch of 5 with maxBatchPerRun 2 (three ORT calls) == one call of 5, over 6 frames', async (t) => {
  const dir = join(root, 'unet');
  const manifest = await readManifest(dir);
  const options = { provider: 'cpu' as const, intraOpThreads: 1 };
  const split = await ModelRuntime.load(dir, { ...manifest, maxBatchPerRun: 2 }, options);
  const whole = await ModelRuntime.load(dir, { ...manifest, maxBatchPerRun: 5 }, options);
  const streams = 5;
  const perItem = manifest.channels * manifest.bins;
  const splitItems: BatchItem[] = [];
  const wholeItems: BatchItem[] = [];
  for (let b = 0; b < streams; b++) {
    splitItems.push({ features: new Float32Array(perItem), state: split.createState() });
    wholeItems.push({ features: new Float32Array(perItem), state: whole.createState() });
  }
  let worst = 0;
  for (let frame = 0; frame < 6; frame++) {
    for (let b = 0; b < streams; b++) {
      for (let i = 0; i < perItem; i++) splitItems[b]!.features[i] = wholeItems[b]!.features[i] = Math.abs(Math.sin(0.1 * i + 1.3 * b + 0.7 * frame)) * 5;
    }
    const a = await split.run(splitItems);
    const w = await whole.run(wholeItems);
    t.equal(a.length, streams, `frame ${frame}: one output per stream`);
    for (let b = 0; b < streams; b++) {
      worst = Math.max(worst, Math.abs(a[b]!.vadProb - w[b]!.vadProb));
      a[b]!.mask.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - w[b]!.mask[i]!))));
    }
  }
  for (let b = 0; b < streams; b++) {
    splitItems[b]!.state.values[0]!.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - wholeItems[b]!.state.values[0]![i]!))));
  }
  t.ok(worst <= 1e-6, `max |split − whole| over masks, VAD and states = ${worst}`);
  await Promise.all([split.close(), whole.close()]);
});
