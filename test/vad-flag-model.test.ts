/**
 * The shipped default model's VAD flag on a generated song it never saw (test-split seed of the generator it was
 * trained on), through the streaming engine with the manifest's flag settings: the flag stays off through the
 * instrumental intro and comes on while someone sings. This is the failure users saw (the flag came on with the
 * intro and never switched off), judged on audio made by the test. On songs of the v2 generator, which the shipped
 * model has not been trained on, the flag does not yet follow the singer (models/lstm/README.md gives the figures).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { createOfflineSeparator } from '../server/engine/offline-separator.ts';
import { loadTrackAudio } from '../training/data/musdb.ts';
import { openMusdb } from '../training/data/open-dataset.ts';
import { generateTrack } from '../training/data/synth/generate-track.ts';
import { planJobs } from '../training/data/synth/plan.ts';
import { labelsOnModelHops, resolveModelDir } from '../training/eval/model-under-test.ts';
import { flagTimeline, scoreFlag } from '../training/eval/vad-flag.ts';

const scratch = await mkdtemp(join(tmpdir(), 'livestem-vadflag-'));
t.teardown(() => rm(scratch, { recursive: true, force: true }));

t.test('the default model\'s flag is off through an instrumental intro and on while someone sings', async (t) => {
  // The first 30 s test-split song of the v1 generator: an instrumental intro before the first sung phrase (checked).
  const job = planJobs(scratch, { test: 1 }, 1, 30, 'v1')[0]!;
  await generateTrack(job);
  const [track] = await openMusdb(scratch, 'test');
  const audio = await loadTrackAudio(track!, 0, track!.lengthSamples);
  const separator = await createOfflineSeparator(resolveModelDir(undefined));
  t.teardown(() => separator.close());
  const m = separator.manifest;
  const out = await separator.separate(audio.mixture, track!.sampleRateHz);
  const labels = labelsOnModelHops(audio.vocals, m, track!.sampleRateHz);
  const hopMs = (1000 * m.stft.hopSamples) / m.sampleRateHz;
  const firstVoiced = labels.indexOf(1);
  t.ok(firstVoiced * hopMs >= 4000, `the song opens with ≥ 4 s of instruments (${(firstVoiced * hopMs / 1000).toFixed(1)} s)`);

  const { flags, transitions } = flagTimeline(out.vadProb, hopMs, { threshold: m.vadThreshold, ...m.vadFlag });
  // The intro up to 0.5 s before the singer: the flag may anticipate a little, never sit on through it.
  const introEnd = firstVoiced - Math.round(500 / hopMs);
  let onInIntro = 0;
  for (let k = 0; k < introEnd; k++) onInIntro += flags[k]!;
  t.ok(onInIntro / introEnd <= 0.1, `flag on for ${(100 * onInIntro / introEnd).toFixed(0)} % of the intro (≤ 10 %)`);
  let voiced = 0;
  let onWhenVoiced = 0;
  labels.forEach((l, k) => {
    voiced += l;
    onWhenVoiced += l * (flags[k] ?? 0);
  });
  t.ok(onWhenVoiced / voiced >= 0.6, `flag on for ${(100 * onWhenVoiced / voiced).toFixed(0)} % of the sung hops (≥ 60 %)`);
  const s = scoreFlag(flags, transitions, labels, hopMs);
  t.ok((s.balancedAccuracy ?? 0) >= 0.7, `balanced accuracy per 100 ms ${s.balancedAccuracy?.toFixed(3)} (≥ 0.7)`);
});
