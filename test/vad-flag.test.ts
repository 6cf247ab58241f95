/**
 * The VAD flag a client sees: hysteresis keeps a probability hovering at the threshold from toggling it, and the
 * flag scores (100 ms balanced accuracy, boundary hits within 200 ms, spurious transitions) judge a song with a long
 * instrumental intro, a break and an ending — the case where the shipped flag used to stay on.
 */
import t from 'tap';
import { VadSmoother } from '../server/pipeline/vad-smoother.ts';
import { boundaryAudibility, calibrateFlag, flagTimeline, hopLevelsDbfs, referenceBoundaries, scoreFlag } from '../training/eval/vad-flag.ts';

const HOP_MS = 256 / 44.1;
const hops = (ms: number): number => Math.round(ms / HOP_MS);

/** Labels of a song: intro 5 s, verse 8 s (with 150 ms word gaps every second), break 4 s, chorus 6 s, ending 7 s. */
function song(): Uint8Array {
  const parts: [number, number][] = [[5000, 0], [8000, 1], [4000, 0], [6000, 1], [7000, 0]];
  const labels: number[] = [];
  for (const [ms, v] of parts) {
    for (let k = 0; k < hops(ms); k++) {
      const gap = v === 1 && k % hops(1000) >= hops(850);
      labels.push(v === 1 && !gap ? 1 : 0);
    }
  }
  return Uint8Array.from(labels);
}

/** A model that says `high` where someone sings and `low` elsewhere, with a slow rise after each onset. */
function probabilities(labels: Uint8Array, high: number, low: number, wobble: number): Float32Array {
  return Float32Array.from(labels, (l, k) => (l === 1 ? high : low) + wobble * Math.sin(k * 1.7));
}

t.test('hysteresis: a probability wobbling around the on threshold toggles once, not every hop', async (t) => {
  const plain = new VadSmoother({ threshold: 0.5, hopMs: HOP_MS, smoothingMs: 0, onMs: 0, offMs: 0 });
  const hyst = new VadSmoother({ threshold: 0.5, offThreshold: 0.3, hopMs: HOP_MS, smoothingMs: 0, onMs: 0, offMs: 0 });
  let plainEvents = 0;
  let hystEvents = 0;
  for (let k = 0; k < 200; k++) {
    const p = 0.5 + (k % 2 === 0 ? 0.05 : -0.05);
    if (plain.push(p, k) !== undefined) plainEvents++;
    if (hyst.push(p, k) !== undefined) hystEvents++;
  }
  t.equal(plainEvents, 200, 'one threshold: every hop is a transition');
  t.equal(hystEvents, 1, 'on once, and 0.45 is not below the off threshold 0.3');
  t.equal(hyst.push(0.2, 200)?.active, false, 'below the off threshold it turns off');
});

t.test('reference boundaries ignore word gaps and keep intro, break and ending', async (t) => {
  const b = referenceBoundaries(song(), HOP_MS);
  t.same(b.map((x) => x.active), [true, false, true, false]);
  t.ok(Math.abs(b[0]!.hop * HOP_MS - 5000) < 10, 'the onset after the 5 s intro');
  t.ok(Math.abs(b[3]!.hop * HOP_MS - 23000) < 200, 'the offset before the 7 s ending');
});

t.test('a flag that stays on through intro and ending scores at chance; one that follows the singer scores high', async (t) => {
  const labels = song();
  const settings = { threshold: 0.5, offThreshold: 0.4, smoothingMs: 20, onMs: 30, offMs: 200 };
  const stuck = flagTimeline(probabilities(labels, 0.97, 0.9, 0.02), HOP_MS, settings);
  const sStuck = scoreFlag(stuck.flags, stuck.transitions, labels, HOP_MS);
  t.ok(sStuck.balancedAccuracy !== null && sStuck.balancedAccuracy <= 0.5 + 1e-9, `always on: ${sStuck.balancedAccuracy}`);
  t.equal(sStuck.boundariesHit, 0, 'always on hits no offset and no onset after the first');

  const good = flagTimeline(probabilities(labels, 0.9, 0.1, 0.05), HOP_MS, settings);
  const sGood = scoreFlag(good.flags, good.transitions, labels, HOP_MS);
  t.ok(sGood.balancedAccuracy! >= 0.9, `follows the singer: balanced accuracy ${sGood.balancedAccuracy}`);
  t.equal(sGood.boundariesHit, 4, 'all four boundaries within 200 ms');
  t.equal(sGood.spuriousTransitions, 0, 'the 150 ms word gaps do not toggle the flag (off debounce 200 ms)');
});

t.test('calibration finds thresholds between the classes of a biased model', async (t) => {
  const labels = song();
  // A model biased high everywhere (0.75 where nobody sings): a fixed 0.5 threshold stays on; calibration moves it.
  const probs = probabilities(labels, 0.95, 0.75, 0.04);
  const found = calibrateFlag([{ probabilities: probs, labels }], HOP_MS);
  t.ok(found.settings.threshold > 0.79, `on threshold ${found.settings.threshold} above the instrumental level`);
  t.ok(found.scores.balancedAccuracy! >= 0.9, `balanced accuracy ${found.scores.balancedAccuracy}`);
  t.ok(found.scores.hitRate! >= 0.75, `hit rate ${found.scores.hitRate}`);
});

t.test('boundary audibility: how far the labelled boundaries lie from the audible vocals', async (t) => {
  const labels = song();
  // The labelled verse starts with 300 ms of breath at −55 dBFS and ends with a 700 ms reverb tail at −50 dBFS.
  const levels = Float32Array.from(labels, (l) => (l === 1 ? -20 : -90));
  const onset = referenceBoundaries(labels, HOP_MS)[0]!.hop;
  levels.fill(-55, onset, onset + hops(300));
  const offset = referenceBoundaries(labels, HOP_MS)[1]!.hop;
  levels.fill(-50, offset - hops(700), offset);
  const a = boundaryAudibility(labels, levels, HOP_MS, -40);
  t.equal(a.onsetLeadMs.length, 2);
  t.ok(Math.abs(a.onsetLeadMs[0]! - 300) < HOP_MS, `onset lead ${a.onsetLeadMs[0]} ms`);
  t.equal(a.onsetLeadMs[1], 0, 'an onset that is audible at once');
  t.ok(Math.abs(a.offsetTailMs[0]! - 700) < HOP_MS, `offset tail ${a.offsetTailMs[0]} ms`);
  const stereo = [Float32Array.from({ length: 512 }, (_, i) => (i < 256 ? 0.1 : 0)), new Float32Array(512)];
  const db = hopLevelsDbfs(stereo, 256);
  t.ok(Math.abs(db[0]! - 10 * Math.log10(0.01 / 2)) < 1e-4, 'hop level: RMS over both channels, dBFS');
  t.ok(db[1]! < -150, 'silence');
});
