/**
 * npm run calibrate:vad -- [--model lstm] [--data data/synth/valid] [--seconds 60] [--tracks N] [--write]
 * Runs VALIDATION tracks through the streaming engine, scores the VAD flag with the model's current settings, searches
 * the flag settings (hysteresis thresholds, smoothing, debounce) that best follow the singer, and with --write stores
 * them in the model's manifest.json (`vadThreshold` + `vadFlag`). Never use the test split here.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadTrackAudio } from '../data/musdb.ts';
import { openMusdb } from '../data/open-dataset.ts';
import { loadModelUnderTest } from './model-under-test.ts';
import { flagSettingsOf } from '../../server/pipeline/vad-smoother.ts';
import { boundaryAudibility, calibrateFlag, hopLevelsDbfs, scoreTracks, type LabelledTrack } from './vad-flag.ts';

function pct(v: number | null): string {
  return v === null ? '—' : `${(100 * v).toFixed(1)} %`;
}

/** A hop level a listener hears in a mix (the labels' own threshold is about −64 dBFS). */
const AUDIBLE_DBFS = -40;

function spread(ms: number[]): string {
  if (ms.length === 0) return '—';
  const s = [...ms].sort((a, b) => a - b);
  return `median ${s[Math.floor(s.length / 2)]!.toFixed(0)} ms (${s[0]!.toFixed(0)}–${s.at(-1)!.toFixed(0)} ms, ${s.length})`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string' }, data: { type: 'string', default: 'data/synth/valid' }, seconds: { type: 'string', default: '60' },
      tracks: { type: 'string' }, write: { type: 'boolean', default: false },
    },
  });
  const dataDir = resolve(values.data);
  if (basename(dataDir) === 'test') throw new Error('calibrate on a validation split, never on test');
  let tracks = await openMusdb(dirname(dataDir), basename(dataDir));
  if (values.tracks !== undefined) tracks = tracks.slice(0, Number(values.tracks));
  const model = await loadModelUnderTest(values.model);
  const m = model.manifest;
  const hopMs = (1000 * m.stft.hopSamples) / m.sampleRateHz;
  const labelled: LabelledTrack[] = [];
  const audibility = { onsetLeadMs: [] as number[], offsetTailMs: [] as number[] };
  for (const track of tracks) {
    const length = Math.min(track.lengthSamples, Math.round(Number(values.seconds) * track.sampleRateHz));
    const audio = await loadTrackAudio(track, 0, length);
    const out = await model.separate(audio.mixture, audio.vocals, track.sampleRateHz);
    if (out.vad === undefined) continue;
    labelled.push({ probabilities: out.vad.probabilities, labels: out.vad.labels });
    if (track.sampleRateHz === m.sampleRateHz) {
      const a = boundaryAudibility(out.vad.labels, hopLevelsDbfs(audio.vocals, m.stft.hopSamples), hopMs, AUDIBLE_DBFS);
      audibility.onsetLeadMs.push(...a.onsetLeadMs);
      audibility.offsetTailMs.push(...a.offsetTailMs);
    }
  }
  await model.close();
  const current = scoreTracks(labelled, hopMs, flagSettingsOf(m));
  const found = calibrateFlag(labelled, hopMs);
  const line = (name: string, s: typeof current): string =>
    `${name}: balanced accuracy (100 ms) ${pct(s.balancedAccuracy)}, boundaries hit within 200 ms ${s.boundariesHit}/${s.boundaries} (${pct(s.hitRate)}), `
    + `spurious transitions ${s.spuriousTransitions}, median boundary error ${s.medianErrorMs?.toFixed(0) ?? '—'} ms`;
  console.log(`${labelled.length} validation tracks × ≤ ${values.seconds} s, model ${model.dir}`);
  console.log(line('current', current));
  console.log(line('calibrated', found.scores));
  console.log(`label boundaries vs the vocals reaching ${AUDIBLE_DBFS} dBFS: onsets ${spread(audibility.onsetLeadMs)} earlier, offsets ${spread(audibility.offsetTailMs)} later`);
  console.log(`settings (${found.tried} tried): ${JSON.stringify(found.settings)}`);
  if (values.write) {
    const path = join(model.dir, 'manifest.json');
    const manifest = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
    const { threshold, ...flag } = found.settings;
    manifest['vadThreshold'] = threshold;
    manifest['vadFlag'] = flag;
    await writeFile(path, `${JSON.stringify(manifest, null, 2)}\n`);
    console.log(`wrote ${path}`);
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
