/**
 * Training losses: the tfjs ISTFT reproduces the server's OlaSynthesizer sample for sample, and each loss scores a
 * perfect separation as perfect and a bad one as worse.
 */
import t from 'tap';
import * as tf from '@tensorflow/tfjs';
import { OlaSynthesizer, offlineStft, type StftConfig } from '../server/dsp/stft.ts';
import { initBackend } from '../training/backend.ts';
import { negSiSnr, separationLoss, TfIstft, totalLoss, vadLoss } from '../training/losses.ts';
import { prepareBatch } from '../training/train/batch.ts';

await initBackend();

function tone(length: number, freqHz: number, phase: number, amp: number): Float32Array {
  return Float32Array.from({ length }, (_, n) => amp * Math.sin((2 * Math.PI * freqHz * n) / 44100 + phase) + 0.01 * Math.sin(n * n * 1e-4));
}

for (const cfg of [
  { nFft: 1024, hopSamples: 256, window: 'sqrt-hann' },
  { nFft: 512, hopSamples: 128, window: 'hann' },
] as StftConfig[]) {
  t.test(`tfjs ISTFT == OlaSynthesizer (${cfg.nFft}/${cfg.hopSamples} ${cfg.window}, masked spectrum)`, async (t) => {
    const length = 20 * cfg.hopSamples + 77;
    const signal = [tone(length, 440, 0.3, 0.5), tone(length, 1234, 1.1, 0.25)];
    const frames = offlineStft(signal, cfg);
    const bins = cfg.nFft / 2 + 1;
    // An arbitrary real mask so the spectrum is not a valid STFT any more (as in training).
    const maskAt = (k: number, c: number, f: number): number => 0.5 + 0.4 * Math.sin(0.37 * f + 1.3 * k + c);
    const ola = new OlaSynthesizer(cfg, 2);
    const expected: number[][] = [[], []];
    const T = frames.length;
    const re = new Float32Array(2 * T * bins);
    const im = new Float32Array(2 * T * bins);
    frames.forEach((fr, k) => {
      const masked = { re: fr.re.map((r, c) => r.map((v, f) => v * maskAt(k, c, f))), im: fr.im.map((r, c) => r.map((v, f) => v * maskAt(k, c, f))) };
      ola.push(masked).forEach((out, c) => expected[c]!.push(...out));
      for (let c = 0; c < 2; c++) {
        re.set(masked.re[c]!, (c * T + k) * bins);
        im.set(masked.im[c]!, (c * T + k) * bins);
      }
    });
    const istft = new TfIstft(cfg);
    const got = tf.tidy(() => istft.apply(tf.tensor3d(re, [2, T, bins]), tf.tensor3d(im, [2, T, bins])).arraySync());
    istft.dispose();
    let worst = 0;
    for (let c = 0; c < 2; c++) {
      t.equal(got[c]!.length, expected[c]!.length, 'T·hop samples per channel');
      for (let n = 0; n < expected[c]!.length; n++) worst = Math.max(worst, Math.abs(got[c]![n]! - expected[c]![n]!));
    }
    t.ok(worst <= 1e-5, `max |tfjs − OLA| = ${worst}`);
  });
}

t.test('separation losses: the ideal mask beats a 0.5 mask; dual and SI-SNR use the delayed time targets', async (t) => {
  const cfg: StftConfig = { nFft: 1024, hopSamples: 256, window: 'sqrt-hann' };
  const length = 16 * 256;
  const vocals = [tone(length, 330, 0, 0.3), tone(length, 330, 0.2, 0.3)];
  const accompaniment = [tone(length, 2000, 1, 0.3), tone(length, 2500, 0.5, 0.2)];
  const mixture = vocals.map((v, c) => v.map((x, i) => x + accompaniment[c]![i]!));
  const d = prepareBatch([{ mixture, vocals, accompaniment }], cfg, true);
  const shape: [number, number, number, number] = [1, d.frames, 2, d.bins];
  const targets = {
    mixMag: tf.tensor4d(d.mixMag, shape),
    vocMag: tf.tensor4d(d.vocMag, shape),
    accMag: tf.tensor4d(d.accMag, shape),
    mixRe: tf.tensor4d(d.mixRe!, shape),
    mixIm: tf.tensor4d(d.mixIm!, shape),
    vocTime: tf.tensor3d(d.vocTime!, [1, 2, d.frames * 256]),
    accTime: tf.tensor3d(d.accTime!, [1, 2, d.frames * 256]),
  };
  const ideal = tf.tidy(() => tf.div(targets.vocMag, tf.add(tf.add(targets.vocMag, targets.accMag), 1e-9))) as tf.Tensor4D;
  const half = tf.fill(shape, 0.5) as tf.Tensor4D;
  const istft = new TfIstft(cfg);
  for (const kind of ['mse', 'l1', 'dual', 'sisnr'] as const) {
    const good = tf.tidy(() => separationLoss(kind, ideal, targets, istft).dataSync()[0]!);
    const bad = tf.tidy(() => separationLoss(kind, half, targets, istft).dataSync()[0]!);
    t.ok(good < bad, `${kind}: ideal ${good.toFixed(4)} < half ${bad.toFixed(4)}`);
  }
  // A perfect time estimate has a very high SI-SNR.
  const perfect = tf.tidy(() => negSiSnr(targets.vocTime, targets.vocTime).dataSync()[0]!);
  t.ok(perfect < -60, `−SI-SNR of the target itself ${perfect.toFixed(1)} dB`);
  // VAD BCE: confident right answers cost little, wrong ones a lot; α mixes them.
  const labels = tf.tensor2d([[1, 0, 1]]);
  const right = tf.tidy(() => vadLoss(tf.tensor2d([[8, -8, 8]]), labels).dataSync()[0]!);
  const wrong = tf.tidy(() => vadLoss(tf.tensor2d([[-8, 8, -8]]), labels).dataSync()[0]!);
  t.ok(right < 0.001 && wrong > 7, `BCE right ${right}, wrong ${wrong}`);
  const total = tf.tidy(() => totalLoss(tf.scalar(2), tf.scalar(1), 0.1).dataSync()[0]!);
  t.ok(Math.abs(total - 1.9) < 1e-6, `0.9·2 + 0.1·1 = ${total}`);
  istft.dispose();
  tf.dispose([ideal, half, labels, ...Object.values(targets)]);
});
