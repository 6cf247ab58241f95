/**
 * Choosing the vocal gate on validation from per-hop statistics: with a VAD that knows where the singer is, the
 * search finds a gate that removes the leakage between phrases and improves the accompaniment without costing the
 * vocals; with a VAD that is wrong, it ships no gate rather than one that eats the singer.
 */
import t from 'tap';
import { calibrateGate, gateTrack, scoreGate } from '../training/eval/vocal-gate-search.ts';
import { noise } from './helpers/signals.ts';

const hopSamples = 256;
const hopMs = (1000 * hopSamples) / 44100;

/** 20 s: vocals sung in alternate 2 s phrases (hop-aligned); the estimate = vocals ± 10 % error + the accompaniment's leakage at −20 dB. */
function track(seed: number, vadRight: boolean) {
  const length = 20 * 44100;
  const acc = noise(length, seed, 0.3);
  const voice = noise(length, seed + 1, 0.3);
  const err = noise(length, seed + 2, 0.03);
  const sung = (i: number) => Math.floor(i / (344 * hopSamples)) % 2 === 1;
  const v = voice.map((x, i) => (sung(i) ? x : 0));
  const mixture = v.map((x, i) => x + acc[i]!);
  const estimate = v.map((x, i) => x + (sung(i) ? err[i]! : 0) + 0.1 * acc[i]!);
  const hops = Math.floor(length / hopSamples);
  const labels = Uint8Array.from({ length: hops }, (_, k) => (sung(k * hopSamples) ? 1 : 0));
  const probabilities = Float32Array.from(labels, (l) => (vadRight ? (l ? 0.95 : 0.05) : 0.95 - 0.9 * l));
  return gateTrack([v, v], [estimate, estimate], [mixture, mixture], probabilities, labels, hopSamples);
}

t.test('an informative VAD: the gate cleans the pauses without costing the vocals', async (t) => {
  const tracks = [track(1, true), track(5, true), track(9, true)];
  const found = calibrateGate(tracks, hopMs);
  t.ok(found.settings, 'a gate is chosen');
  t.ok(found.scores.leakageDbfs < found.baseline.leakageDbfs - 15, `leakage ${found.baseline.leakageDbfs.toFixed(1)} → ${found.scores.leakageDbfs.toFixed(1)} dBFS`);
  t.ok(found.scores.accompanimentSdrDb > found.baseline.accompanimentSdrDb + 3, `accompaniment ${found.baseline.accompanimentSdrDb.toFixed(2)} → ${found.scores.accompanimentSdrDb.toFixed(2)} dB`);
  t.ok(found.scores.vocalsSdrDb >= found.baseline.vocalsSdrDb - 0.05, `vocals ${found.baseline.vocalsSdrDb.toFixed(2)} → ${found.scores.vocalsSdrDb.toFixed(2)} dB`);
  let leak = 0, count = 0;
  const t0 = track(1, true);
  t0.labels.forEach((l, k) => { if (l === 0) { leak += t0.estimateEnergy[k]!; count += t0.valuesPerHop; } });
  t.ok(Math.abs(scoreGate([t0], hopMs, undefined).leakageDbfs - 10 * Math.log10(leak / count)) < 1e-9, 'leakage is the estimate\'s RMS where nobody sings');
});

t.test('a VAD that is wrong: no gate', async (t) => {
  const found = calibrateGate([track(1, false), track(5, false)], hopMs);
  t.equal(found.settings, undefined, 'every candidate would eat the singer');
  t.same(found.scores, found.baseline);
});
