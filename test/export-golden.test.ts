/**
 * Every shipped model (models/<id>/) has a manifest the server accepts and golden vectors that onnxruntime,
 * run frame by frame with its state carried, still reproduces (≤ 1e-5); and an exported random model round-trips.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { parseManifest } from '../server/inference/model-manifest.ts';
import { createStepSession, runSteps } from '../training/export/ort-step.ts';
import { exportRandomModel } from '../training/export/random-model.ts';
import type { Golden } from '../training/export/write-model.ts';

async function checkModelDir(t: Test, dir: string): Promise<void> {
  const manifest = parseManifest(JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')));
  t.equal(manifest.latencySamples, manifest.stft.nFft - manifest.stft.hopSamples, 'latency = nFft − hop');
  t.ok(manifest.latencySamples / manifest.sampleRateHz <= 0.0233, 'algorithmic latency ≤ 23.2 ms');
  const golden = JSON.parse(await readFile(join(dir, 'golden', 'golden.json'), 'utf8')) as Golden;
  const session = await createStepSession(await readFile(join(dir, manifest.onnx)));
  t.same([...session.inputNames].sort(), [manifest.io.input.name, ...manifest.io.state.map((s) => s.input)].sort(), 'ONNX inputs = manifest');
  const run = await runSteps(session, manifest.io, golden.input.map((f) => Float32Array.from(f)), golden.batch);
  let worst = 0;
  for (let k = 0; k < golden.frames; k++) {
    golden.mask[k]!.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - run.mask[k]![i]!))));
    golden.vad[k]!.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - run.vad[k]![i]!))));
  }
  for (const [name, values] of Object.entries(golden.finalState)) {
    values.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - run.finalState[name]![i]!))));
  }
  t.ok(worst <= 1e-5, `${manifest.name}: max |ORT − golden| = ${worst}`);
  await session.release();
}

const modelsDir = new URL('../models/', import.meta.url).pathname;
const shipped = existsSync(modelsDir)
  ? (await readdir(modelsDir, { withFileTypes: true })).filter((e) => e.isDirectory() && existsSync(join(modelsDir, e.name, 'manifest.json')))
  : [];

t.test('the default model "lstm" is shipped', async (t) => {
  t.ok(shipped.some((e) => e.name === 'lstm'), 'models/lstm/manifest.json exists');
});

for (const entry of shipped) {
  t.test(`shipped model ${entry.name}: manifest valid, golden vectors reproduced`, (t) => checkModelDir(t, join(modelsDir, entry.name)));
}

t.test('exportRandomModel writes a loadable lstm and unet with matching golden vectors', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'livestem-export-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  for (const arch of ['lstm', 'unet'] as const) {
    const manifest = await exportRandomModel({ arch, seed: 11 }, join(root, arch));
    t.equal(manifest.arch, arch);
    t.ok(manifest.parameters > 0 && manifest.macsPerFrame > 0, 'size and cost declared');
    await checkModelDir(t, join(root, arch));
  }
});
