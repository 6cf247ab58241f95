import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { Batcher } from '../server/engine/batcher.ts';
import { loadModelDir } from '../server/inference/model-registry.ts';
import { batchLayout, gather, scatter } from '../server/inference/recurrent-state.ts';
import { createStepSession, runSteps } from '../training/export/ort-step.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { exportRandomModel } from '../training/export/random-model.ts';
import { exportTestModel } from './helpers/server-harness.ts';
import { mulberry32 } from './helpers/signals.ts';

const fixture = await exportTestModel(19);
t.teardown(() => fixture.cleanup());
// The U-Net carries its context frames as state (shape ['batch', frames, bins, 2]): same runtime, same contract.
const unetDir = await mkdtemp(join(tmpdir(), 'livestem-unet-'));
t.teardown(() => rm(unetDir, { recursive: true, force: true }));
await exportRandomModel({ arch: 'unet', name: 'unet', seed: 4 }, join(unetDir, 'unet'));

t.test('gather/scatter along a batch axis anywhere in the shape', async (t) => {
  for (const shape of [['batch', 4], [2, 'batch', 3], [3, 2, 'batch']] as Array<Array<number | 'batch'>>) {
    const layout = batchLayout(shape);
    const items = Array.from({ length: 3 }, (_, b) => Float32Array.from({ length: layout.perItem }, (_, i) => 100 * b + i));
    const batched = gather(layout, items, new Float32Array(10 * layout.perItem));
    // Check one element against the row-major definition: index of (outer o, batch b, inner i).
    const o = layout.outer - 1;
    const i = layout.inner - 1;
    t.equal(batched[(o * 3 + 2) * layout.inner + i], items[2]![o * layout.inner + i], `${JSON.stringify(shape)} layout`);
    const back = items.map((it) => new Float32Array(it.length));
    scatter(layout, batched, back);
    t.same(back, items, `${JSON.stringify(shape)} round trip`);
  }
});

for (const [arch, dir] of [['lstm', join(fixture.modelsDir, 'lstm')], ['unet', join(unetDir, 'unet')]] as const) t.test(`ORT runtime (${arch}): streams starting at different frames, batched, equal each stream alone (≤ 1e-5)`, async (t) => {
  const model = await loadModelDir(dir, { provider: 'cpu', intraOpThreads: 1 });
  t.teardown(() => model.runtime.close());
  t.equal(model.runtime.provider, 'cpu');
  const bins = model.manifest.bins;
  const rand = mulberry32(3);
  const frames = 12;
  const starts = [0, 0, 2, 5, 7];
  const inputs = starts.map(() => Array.from({ length: frames }, () => Float32Array.from({ length: 2 * bins }, () => 10 * rand() ** 2)));

  const batched = new Batcher(model.runtime, { maxBatch: 16, windowMs: 0 });
  const streams = starts.map(() => batched.createStream());
  const batchedOut: Float32Array[][] = starts.map(() => []);
  for (let step = 0; step < frames + Math.max(...starts); step++) {
    await Promise.all(
      streams.map(async (s, i) => {
        const k = step - starts[i]!;
        if (k < 0 || k >= frames) return;
        const out = await s.step(inputs[i]![k]!);
        batchedOut[i]!.push(Float32Array.of(...out.mask, out.vadProb));
      }),
    );
  }
  const session = await createStepSession(await readFile(join(dir, 'model.onnx')));
  t.teardown(() => session.release());
  let worst = 0;
  for (let i = 0; i < starts.length; i++) {
    const alone = await runSteps(session, model.manifest.io, inputs[i]!, 1);
    for (let k = 0; k < frames; k++) {
      const got = batchedOut[i]![k]!;
      const want = Float32Array.of(...alone.mask[k]!, alone.vad[k]![0]!);
      for (let j = 0; j < want.length; j++) worst = Math.max(worst, Math.abs(got[j]! - want[j]!));
    }
  }
  t.ok(worst <= 1e-5, `batched vs alone (independent ORT run): ${worst}`);
});
