import t from 'tap';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeWav } from '../server/dsp/wav.ts';
import { openWavSplit, TRACK_FILES, type TrackFile } from '../training/data/musdb.ts';
import { TrainingSampler, validationItems, type SamplerState, type TrainingItem } from '../training/data/sampler.ts';
import { vocalActivityPerStftFrame } from '../training/data/vad-labels.ts';

const SR = 44100;
const STFT = { nFft: 1024, hopSamples: 256, window: 'hann' as const };
const root = mkdtempSync(join(tmpdir(), 'livestem-sampler-'));
t.teardown(() => rmSync(root, { recursive: true, force: true }));

type Shape = (i: number, n: number) => number;
const tone = (f: number, a: number): Shape => (i) => a * Math.sin((2 * Math.PI * f * i) / SR);
const silent: Shape = () => 0;

async function writeTrack(dir: string, n: number, shapes: Record<'vocals' | 'drums' | 'bass' | 'other', Shape>): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const audio = {} as Record<TrackFile, Float32Array[]>;
  for (const s of ['vocals', 'drums', 'bass', 'other'] as const) {
    // right channel at 0.5× so a channel swap is visible
    audio[s] = [1, 0.5].map((g) => Float32Array.from({ length: n }, (_, i) => g * shapes[s](i, n)));
  }
  audio.mixture = audio.vocals.map((ch, c) => Float32Array.from(ch, (v, i) => v + audio.drums[c]![i]! + audio.bass[c]![i]! + audio.other[c]![i]!));
  for (const f of TRACK_FILES) await writeWav(join(dir, `${f}.wav`), audio[f], SR, 'f32');
}

const n = Math.round(SR * 1.2);
await writeTrack(join(root, 'train', 'a-song'), n, { vocals: tone(440, 0.2), drums: tone(90, 0.2), bass: tone(55, 0.2), other: tone(700, 0.1) });
await writeTrack(join(root, 'train', 'b-instrumental'), n, { vocals: silent, drums: tone(120, 0.3), bass: tone(60, 0.2), other: tone(500, 0.1) });
// every stem silent in the first 0.8 s: excerpts starting there would have a silent mixture
const lateStart: (f: number) => Shape = (f) => (i) => (i < 0.8 * SR ? 0 : 0.2 * Math.sin((2 * Math.PI * f * i) / SR));
await writeTrack(join(root, 'train', 'c-late'), n, { vocals: lateStart(330), drums: lateStart(100), bass: lateStart(50), other: lateStart(800) });
const tracks = await openWavSplit(root, 'train');

function sameItem(a: TrainingItem, b: TrainingItem): boolean {
  const eq = (x: Float32Array[], y: Float32Array[]): boolean => x.every((ch, c) => Buffer.compare(Buffer.from(ch.buffer), Buffer.from(y[c]!.buffer)) === 0);
  return eq(a.mixture, b.mixture) && eq(a.vocals, b.vocals) && eq(a.accompaniment, b.accompaniment) && Buffer.compare(a.vad, b.vad) === 0;
}

t.test('same seed → identical items; another seed → different items', async (t) => {
  const opts = { stft: STFT, seed: 42, seqDurSeconds: 0.25, samplesPerTrack: 4 };
  const s1 = new TrainingSampler(tracks, opts);
  const s2 = new TrainingSampler(tracks, opts);
  const s3 = new TrainingSampler(tracks, { ...opts, seed: 43 });
  let same = 0;
  let differs = 0;
  for (let i = 0; i < 8; i++) {
    const [a, b, c] = [await s1.next(), await s2.next(), await s3.next()];
    if (sameItem(a, b)) same++;
    if (!sameItem(a, c)) differs++;
  }
  t.equal(same, 8, 'all 8 items bit-identical for the same seed');
  t.ok(differs >= 7, `${differs}/8 items differ for another seed`);
});

t.test('resuming from a saved state continues with exactly the same items, across an epoch boundary', async (t) => {
  const opts = { stft: STFT, seed: 7, seqDurSeconds: 0.2, samplesPerTrack: 2 }; // epoch = 6 items
  const run = new TrainingSampler(tracks, opts);
  for (let i = 0; i < 4; i++) await run.next();
  const saved = JSON.parse(JSON.stringify(run.getState())) as SamplerState;
  t.same(saved, { version: 1, seed: 7, epoch: 0, position: 4, tracksDigest: saved.tracksDigest });
  const rest: TrainingItem[] = [];
  for (let i = 0; i < 5; i++) rest.push(await run.next());
  t.equal(run.getState().epoch, 1, 'crossed into epoch 1');
  const resumed = new TrainingSampler(tracks, opts);
  resumed.setState(saved);
  for (let i = 0; i < 5; i++) t.ok(sameItem(await resumed.next(), rest[i]!), `item ${4 + i} equal after resume`);
  t.throws(() => new TrainingSampler(tracks.slice(0, 2), opts).setState(saved), /different track list/);
  t.throws(() => new TrainingSampler(tracks, { ...opts, seed: 8 }).setState(saved), /seed/);
});

t.test('items: exact mixture identity, gains in range, channel swaps, labels per STFT frame, shape', async (t) => {
  const s = new TrainingSampler(tracks, { stft: STFT, seed: 1, seqDurSeconds: 0.3, samplesPerTrack: 8, randomMixProbability: 0.5 });
  const seq = Math.round(0.3 * SR);
  let swaps = 0;
  let randomMixes = 0;
  let identityOk = true;
  let gainsOk = true;
  let labelsOk = true;
  for (let k = 0; k < 24; k++) {
    const item = await s.next();
    t.equal(item.mixture.length, 2);
    t.equal(item.vocals[0]!.length, seq);
    for (let c = 0; c < 2; c++) {
      for (let i = 0; i < seq; i++) {
        if (item.mixture[c]![i] !== Math.fround(item.vocals[c]![i]! + item.accompaniment[c]![i]!)) identityOk = false;
      }
    }
    for (const g of Object.values(item.draw.gains)) if (!(g >= 0.25 * 0.7 && g <= 1.25)) gainsOk = false;
    swaps += Object.values(item.draw.swapped).filter(Boolean).length;
    if (item.draw.randomMix) randomMixes++;
    else t.equal(new Set(Object.values(item.draw.tracks)).size, 1, 'a non-random mix takes every stem from one track');
    // the right channel was written at 0.5× the left: after a swap the left is the quieter one
    const v = item.vocals;
    const peak = (x: Float32Array): number => x.reduce((m, y) => Math.max(m, Math.abs(y)), 0);
    if (peak(v[0]!) > 0) t.equal(peak(v[0]!) < peak(v[1]!), item.draw.swapped.vocals, 'vocal channel order follows the swap flag');
    const want = vocalActivityPerStftFrame(item.vocals, STFT);
    if (item.vad.length !== Math.floor(seq / STFT.hopSamples) || Buffer.compare(item.vad, want) !== 0) labelsOk = false;
  }
  t.ok(identityOk, 'mixture = vocals + accompaniment bit-exactly in float32');
  t.ok(gainsOk, 'every gain in [0.25·0.7, 1.25·1.0]');
  t.ok(swaps > 24 && swaps < 72, `channel swaps happen about half the time (${swaps}/96)`);
  t.ok(randomMixes > 3 && randomMixes < 21, `random-track mixes about half the time (${randomMixes}/24)`);
  t.ok(labelsOk, 'VAD labels = the seed-004 rule per STFT frame of the augmented vocals');
});

t.test('silent mixtures are redrawn; silent-vocal excerpts are kept', async (t) => {
  const late = (await openWavSplit(root, 'train')).filter((x) => x.name === 'c-late');
  const s = new TrainingSampler(late, { stft: STFT, seed: 3, seqDurSeconds: 0.2, samplesPerTrack: 30, randomMixProbability: 0 });
  let redrawn = 0;
  let silentMixes = 0;
  for (let k = 0; k < 30; k++) {
    const item = await s.next();
    if (item.draw.redraws > 0) redrawn++;
    if (item.mixture[0]!.every((v) => v === 0)) silentMixes++;
  }
  t.ok(redrawn > 10, `excerpts starting in the silent 0.8 s were redrawn (${redrawn}/30)`);
  t.equal(silentMixes, 0, 'no silent mixture reaches training');

  const instrumental = tracks.filter((x) => x.name === 'b-instrumental');
  const si = new TrainingSampler(instrumental, { stft: STFT, seed: 3, seqDurSeconds: 0.2, samplesPerTrack: 5, randomMixProbability: 0 });
  const item = await si.next();
  t.equal(item.draw.redraws, 0, 'silent vocals with music: not redrawn');
  t.ok(item.vad.every((v) => v === 0), 'and labelled all non-vocal');
  t.ok(item.accompaniment[0]!.some((v) => v !== 0));
});

t.test('an epoch visits every track samplesPerTrack times', async (t) => {
  const s = new TrainingSampler(tracks, { stft: STFT, seed: 9, seqDurSeconds: 0.1, samplesPerTrack: 3, randomMixProbability: 0 });
  const counts = new Map<string, number>();
  for (let k = 0; k < s.epochLength; k++) {
    const name = (await s.next()).draw.tracks.vocals;
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  t.same(Object.fromEntries(counts), { 'a-song': 3, 'b-instrumental': 3, 'c-late': 3 });
});

t.test('validation yields fixed full tracks with exact mixtures and labels', async (t) => {
  const seen: string[] = [];
  for await (const v of validationItems(tracks, STFT)) {
    seen.push(v.name);
    t.equal(v.vocals[0]!.length, n, `${v.name} full length`);
    t.equal(v.vad.length, Math.floor(n / STFT.hopSamples));
    t.ok(v.mixture[1]!.every((m, i) => m === Math.fround(v.vocals[1]![i]! + v.accompaniment[1]![i]!)), `${v.name} mixture identity`);
  }
  t.same(seen, ['a-song', 'b-instrumental', 'c-late']);
  for await (const v of validationItems(tracks.slice(0, 1), STFT, 0.5)) t.equal(v.vocals[0]!.length, SR / 2, 'maxSeconds caps the length');
});
