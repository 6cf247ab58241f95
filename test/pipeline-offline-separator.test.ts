import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { OlaSynthesizer, emptyFrame, offlineStft } from '../server/dsp/stft.ts';
import { createOfflineSeparator } from '../server/engine/offline-separator.ts';
import { createStepSession, runSteps } from '../training/export/ort-step.ts';
import { exportRandomModel } from '../training/export/random-model.ts';
import { readFile } from 'node:fs/promises';
import { maxAbsDiff, noise, sine } from './helpers/signals.ts';

const dir = await mkdtemp(join(tmpdir(), 'livestem-offline-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
const modelDir = join(dir, 'lstm');
const manifest = await exportRandomModel({ arch: 'lstm', name: 'lstm', seed: 3 }, modelDir);
const separator = await createOfflineSeparator(modelDir);
t.teardown(() => separator.close());

function song(length: number): Float32Array[] {
  const n = noise(length, 5, 0.2);
  const l = sine(length, 44100, 330, 0.4).map((v, i) => v + (Math.floor(i / 3000) % 2 ? n[i]! : 0));
  const r = sine(length, 44100, 495, 0.3).map((v, i) => v - 0.5 * n[i]!);
  return [l, r];
}

t.test('same length, mixture-consistent, chunk-size invariant', async (t) => {
  const mix = song(20000);
  const a = await separator.separate(mix, 44100, 4096);
  const b = await separator.separate(mix, 44100, 333);
  t.equal(a.vocals[0]!.length, 20000);
  t.equal(a.accompaniment[1]!.length, 20000);
  t.equal(a.hopSamples, 256);
  t.equal(a.vadProb.length, Math.floor(20000 / 256));
  t.same(b.vocals, a.vocals, 'chunk size does not change a sample');
  t.same(b.vadProb, a.vadProb);
  for (let c = 0; c < 2; c++) {
    const sum = a.vocals[c]!.map((v, i) => v + a.accompaniment[c]![i]!);
    t.ok(maxAbsDiff(sum, mix[c]!) < 1e-5, `vocals + accompaniment = mixture (ch ${c})`);
  }
  t.ok(maxAbsDiff(a.vocals[0]!, mix[0]!) > 1e-2, 'the random model does change the signal');
});

t.test('equals an independent whole-signal computation: offlineStft → ORT frame by frame → overlap-add', async (t) => {
  const mix = song(12000);
  const got = await separator.separate(mix, 44100);
  const { nFft, hopSamples } = manifest.stft;
  const latency = nFft - hopSamples;
  const padded = mix.map((ch) => {
    const out = new Float32Array(Math.ceil((12000 + latency) / hopSamples) * hopSamples);
    out.set(ch);
    return out;
  });
  const frames = offlineStft(padded, manifest.stft);
  const inputs = frames.map((f) => {
    const x = new Float32Array(2 * manifest.bins);
    for (let c = 0; c < 2; c++) for (let k = 0; k < manifest.bins; k++) x[c * manifest.bins + k] = Math.hypot(f.re[c]![k]!, f.im[c]![k]!);
    return x;
  });
  const session = await createStepSession(await readFile(join(modelDir, 'model.onnx')));
  const steps = await runSteps(session, manifest.io, inputs, 1);
  await session.release();
  const ola = new OlaSynthesizer(manifest.stft, 2);
  const vocals = [new Float32Array(padded[0]!.length), new Float32Array(padded[0]!.length)];
  frames.forEach((f, k) => {
    const v = emptyFrame(manifest.bins, 2);
    for (let c = 0; c < 2; c++) {
      for (let b = 0; b < manifest.bins; b++) {
        const m = steps.mask[k]![c * manifest.bins + b]!;
        v.re[c]![b] = m * f.re[c]![b]!;
        v.im[c]![b] = m * f.im[c]![b]!;
      }
    }
    ola.push(v).forEach((ch, c) => vocals[c]!.set(ch, k * hopSamples));
  });
  for (let c = 0; c < 2; c++) {
    const ref = vocals[c]!.subarray(latency, latency + 12000);
    t.ok(maxAbsDiff(got.vocals[c]!, ref) < 1e-5, `channel ${c}: max diff ${maxAbsDiff(got.vocals[c]!, ref)}`);
  }
  const vadRef = steps.vad.slice(0, got.vadProb.length).map((v) => v[0]!);
  t.ok(maxAbsDiff(got.vadProb, vadRef) < 1e-6, 'VAD per frame');
});

t.test('mono input at another rate: output mono, same length', async (t) => {
  const mono = [sine(8000, 16000, 300, 0.5)];
  const out = await separator.separate(mono, 16000, 1000);
  t.equal(out.vocals.length, 1);
  t.equal(out.vocals[0]!.length, 8000);
  // Through 16 → 44.1 → 16 kHz the sum is the band-limited mixture: compare away from the abrupt start and end.
  const sum = out.vocals[0]!.map((v, i) => v + out.accompaniment[0]![i]!);
  const err = maxAbsDiff(sum.subarray(800, 7200), mono[0]!.subarray(800, 7200));
  t.ok(err < 1e-4, `mixture consistency through resampling: ${err}`);
});
