/**
 * npm run calibrate:gate -- [--model lstm] [--data data/synth/valid] [--seconds 60] [--tracks N] [--max-loss-db 0.05] [--write]
 * Chooses a model's vocal gate on VALIDATION tracks, in two stages:
 *   1. separate every track once without the gate and score all candidate gates from per-hop statistics
 *      (training/eval/vocal-gate-search.ts), shortlisting the best fast-opening one per low threshold;
 *   2. run the shortlist through the streaming engine with the gate applied as the server applies it and score it
 *      with BSS-Eval v4 (the eval's own scorer): among the gates that cost neither stem more than
 *      --max-loss-db (median SDR over tracks, against no gate), the one with the least leakage wins — else no gate.
 * With --write the winner is stored in the model's manifest.json (`vocalGate`; removed when there is none). Never
 * use the test split here.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createOfflineSeparator, type OfflineSeparator } from '../../server/engine/offline-separator.ts';
import type { VocalGateSettings } from '../../server/pipeline/vocal-gate.ts';
import { loadTrackAudio, type MusdbTrack } from '../data/musdb.ts';
import { openMusdb } from '../data/open-dataset.ts';
import { BssEvaluator } from './bss-eval.ts';
import { labelsOnModelHops, resolveModelDir } from './model-under-test.ts';
import { median } from './report.ts';
import { scoreMethod } from './score-track.ts';
import { calibrateGate, gateTrack, type GateScores, type GateTrack } from './vocal-gate-search.ts';

function proxyLine(name: string, s: GateScores): string {
  return `${name}: vocals ${s.vocalsSdrDb.toFixed(2)} dB (whole-track ${s.vocalsMdxSdrDb.toFixed(2)}), accompaniment ${s.accompanimentSdrDb.toFixed(2)} dB, leakage ${s.leakageDbfs.toFixed(1)} dBFS`;
}

interface Checked {
  settings: VocalGateSettings | null;
  vocalsSdr: number[];
  accompanimentSdr: number[];
  leakage: number[];
}

function summary(c: Checked): { vocals: number; accompaniment: number; leakage: number } {
  return { vocals: median(c.vocalsSdr) ?? NaN, accompaniment: median(c.accompanimentSdr) ?? NaN, leakage: median(c.leakage) ?? NaN };
}

async function loadLength(track: MusdbTrack, seconds: number) {
  const length = Math.min(track.lengthSamples, Math.round(seconds * track.sampleRateHz));
  return loadTrackAudio(track, 0, length);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string' }, data: { type: 'string', default: 'data/synth/valid' }, seconds: { type: 'string', default: '60' },
      tracks: { type: 'string' }, 'max-loss-db': { type: 'string', default: '0.05' }, write: { type: 'boolean', default: false },
    },
  });
  const dataDir = resolve(values.data);
  if (basename(dataDir) === 'test') throw new Error('calibrate on a validation split, never on test');
  let tracks = await openMusdb(dirname(dataDir), basename(dataDir));
  if (values.tracks !== undefined) tracks = tracks.slice(0, Number(values.tracks));
  const seconds = Number(values.seconds);
  const maxLossDb = Number(values['max-loss-db']);
  const dir = resolveModelDir(values.model);

  // Stage 1: per-hop search on the ungated separation.
  const ungated = await createOfflineSeparator(dir, { vocalGate: null });
  const m = ungated.manifest;
  const hopMs = (1000 * m.stft.hopSamples) / m.sampleRateHz;
  const stats: GateTrack[] = [];
  for (const track of tracks) {
    if (track.sampleRateHz !== m.sampleRateHz) throw new Error(`${track.name}: ${track.sampleRateHz} Hz, the model runs at ${m.sampleRateHz} Hz`);
    const audio = await loadLength(track, seconds);
    const out = await ungated.separate(audio.mixture, track.sampleRateHz);
    stats.push(gateTrack(audio.vocals, out.vocals, audio.mixture, out.vadProb, labelsOnModelHops(audio.vocals, m, track.sampleRateHz), m.stft.hopSamples));
  }
  const found = calibrateGate(stats, hopMs, maxLossDb);
  console.log(`${stats.length} validation tracks × ≤ ${seconds} s, model ${dir}`);
  console.log(`stage 1 (per-hop, filter-free, ${found.tried} candidates):`);
  console.log(`  ${proxyLine('no gate', found.baseline)}`);
  for (const c of found.shortlist) console.log(`  ${proxyLine(JSON.stringify(c.settings), c.scores)}`);

  // Stage 2: the shortlist end to end, scored with BSS-Eval.
  const checked: Checked[] = [null, ...found.shortlist.map((c) => c.settings)].map((settings) => ({ settings, vocalsSdr: [], accompanimentSdr: [], leakage: [] }));
  const separators: OfflineSeparator[] = [ungated];
  for (const c of checked.slice(1)) separators.push(await createOfflineSeparator(dir, { vocalGate: c.settings }));
  for (const track of tracks) {
    const audio = await loadLength(track, seconds);
    const evaluator = new BssEvaluator([audio.vocals, audio.accompaniment]);
    for (const [i, c] of checked.entries()) {
      const out = await separators[i]!.separate(audio.mixture, track.sampleRateHz);
      const s = scoreMethod({ sampleRateHz: track.sampleRateHz, vocals: audio.vocals, accompaniment: audio.accompaniment }, evaluator, out);
      if (s.vocals.SDR !== null) c.vocalsSdr.push(s.vocals.SDR);
      if (s.accompaniment.SDR !== null) c.accompanimentSdr.push(s.accompaniment.SDR);
      if (s.leakage.rmsDbfs !== null) c.leakage.push(s.leakage.rmsDbfs);
    }
  }
  for (const sep of separators) await sep.close();
  const base = summary(checked[0]!);
  console.log('stage 2 (streaming engine, BSS-Eval v4 medians over tracks):');
  let winner: Checked | undefined;
  for (const c of checked) {
    const s = summary(c);
    console.log(`  ${c.settings ? JSON.stringify(c.settings) : 'no gate'}: vocals ${s.vocals.toFixed(2)} dB, accompaniment ${s.accompaniment.toFixed(2)} dB, leakage ${s.leakage.toFixed(1)} dBFS`);
    if (c.settings === null || s.vocals < base.vocals - maxLossDb || s.accompaniment < base.accompaniment - maxLossDb) continue;
    if (winner === undefined || s.leakage < summary(winner).leakage) winner = c;
  }
  console.log(`chosen: ${winner?.settings ? JSON.stringify(winner.settings) : 'no gate'}`);
  if (values.write) {
    const path = join(dir, 'manifest.json');
    const manifest = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
    if (winner?.settings) manifest['vocalGate'] = winner.settings;
    else delete manifest['vocalGate'];
    await writeFile(path, `${JSON.stringify(manifest, null, 2)}\n`);
    console.log(`wrote ${path}`);
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
