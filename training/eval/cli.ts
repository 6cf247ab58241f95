/**
 * npm run eval -- [--model <name|path>] [--data data/synth/test] [--out results/] [--save-estimates DIR]
 *                 [--tracks N] [--seconds S] [--baselines-only]
 *
 * Per track of a MUSDB-layout split (HQ folders or .stem.mp4), runs the model through the server's own streaming
 * engine (server/pipeline/offline-separator.ts: causal, frame by frame, latency-compensated) and the baselines, then
 * scores everything with BSS-Eval v4, SI-SDR, MDX SDR, non-vocal leakage and VAD detection.
 * Writes <out>/<model>/scores.json, scores.md and sdr.png; --save-estimates writes DIR/<method>/<track>/
 * {vocals,accompaniment}.wav (float WAV, same length and rate as the mixture).
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import type { StftConfig } from '../../server/dsp/stft.ts';
import { writeWav } from '../../server/dsp/wav.ts';
import { DatasetError } from '../data/dataset-error.ts';
import { loadTrackAudio } from '../data/musdb.ts';
import { openMusdb } from '../data/open-dataset.ts';
import { BASELINE_METHODS, runBaseline } from './baselines.ts';
import { BssEvaluator } from './bss-eval.ts';
import { sdrChartPng } from './chart.ts';
import { loadModelUnderTest, type ModelUnderTest } from './model-under-test.ts';
import { aggregate, markdownTable, type EvalReport, type PooledVad, type TrackRecord } from './report.ts';
import { scoreMethod, type MethodOutput } from './score-track.ts';

/** The STFT the oracle mask uses when no model sets one: the shipped models' framing (README). */
const DEFAULT_STFT: StftConfig = { nFft: 1024, hopSamples: 256, window: 'sqrt-hann' };

const USAGE = `usage: npm run eval -- [--model <name|path>] [--data data/synth/test] [--out results/]
                      [--save-estimates DIR] [--tracks N] [--seconds S] [--baselines-only]`;

function positiveNumber(flag: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const v = Number(raw);
  if (!(v > 0)) throw new UsageError(`--${flag} must be a positive number, got "${raw}"`);
  return v;
}

class UsageError extends Error {}

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
    options: {
      model: { type: 'string' },
      data: { type: 'string', default: 'data/synth/test' },
      out: { type: 'string', default: 'results' },
      'save-estimates': { type: 'string' },
      tracks: { type: 'string' },
      seconds: { type: 'string' },
      'baselines-only': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values } = parsed;
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const maxTracks = positiveNumber('tracks', values.tracks);
  const maxSeconds = positiveNumber('seconds', values.seconds);
  const dataDir = resolve(values.data);
  const saveDir = values['save-estimates'];

  const model: ModelUnderTest | undefined = values['baselines-only'] ? undefined : await loadModelUnderTest(values.model);
  const stft = model?.manifest.stft ?? DEFAULT_STFT;
  const reportName = model?.manifest.name ?? 'baselines';
  let tracks = await openMusdb(dirname(dataDir), basename(dataDir));
  if (maxTracks !== undefined) tracks = tracks.slice(0, Math.floor(maxTracks));
  const methods = [...(model ? [model.manifest.name] : []), ...BASELINE_METHODS];

  const records: TrackRecord[] = [];
  const pooled: PooledVad = { probabilities: [], labels: [] };
  // cli-progress draws on stderr, so stdout keeps only the table
  const bar = new cliProgress.SingleBar({ format: 'eval [{bar}] {value}/{total} tracks | {track} | {eta_formatted} left', noTTYOutput: true, notTTYSchedule: 5000 });
  bar.start(tracks.length, 0, { track: '' });
  try {
    for (const [done, track] of tracks.entries()) {
      bar.update(done, { track: track.name });
      const length = maxSeconds === undefined ? track.lengthSamples : Math.min(track.lengthSamples, Math.round(maxSeconds * track.sampleRateHz));
      const audio = await loadTrackAudio(track, 0, length);
      const evaluator = new BssEvaluator([audio.vocals, audio.accompaniment]);
      const record: TrackRecord = { name: track.name, seconds: length / track.sampleRateHz, methods: {} };
      for (const method of methods) {
        let output: MethodOutput;
        if (model !== undefined && method === model.manifest.name) {
          output = await model.separate(audio.mixture, audio.vocals, track.sampleRateHz);
          if (output.vad !== undefined) {
            const n = Math.min(output.vad.probabilities.length, output.vad.labels.length);
            for (let i = 0; i < n; i++) {
              pooled.probabilities.push(output.vad.probabilities[i]!);
              pooled.labels.push(output.vad.labels[i]!);
            }
          }
        } else {
          output = runBaseline(method as (typeof BASELINE_METHODS)[number], audio.mixture, audio.vocals, audio.accompaniment, stft);
        }
        record.methods[method] = scoreMethod({ sampleRateHz: track.sampleRateHz, vocals: audio.vocals, accompaniment: audio.accompaniment }, evaluator, output);
        if (saveDir !== undefined) {
          const dir = join(saveDir, method, track.name);
          await mkdir(dir, { recursive: true });
          await writeWav(join(dir, 'vocals.wav'), output.vocals, track.sampleRateHz, 'f32');
          await writeWav(join(dir, 'accompaniment.wav'), output.accompaniment, track.sampleRateHz, 'f32');
        }
      }
      records.push(record);
      bar.update(done + 1, { track: track.name });
    }
  } finally {
    bar.stop();
    await model?.close();
  }

  const report: EvalReport = {
    model: reportName,
    data: values.data,
    createdAt: new Date().toISOString(),
    stft: { nFft: stft.nFft, hopSamples: stft.hopSamples, window: stft.window },
    methods,
    aggregate: Object.fromEntries(methods.map((m) => [m, aggregate(records, m, model !== undefined && m === model.manifest.name ? pooled : undefined)])),
    tracks: records,
  };
  const outDir = join(values.out, reportName);
  await mkdir(outDir, { recursive: true });
  await writeFile(join(outDir, 'scores.json'), `${JSON.stringify(report, null, 1)}\n`);
  const table = markdownTable(report);
  await writeFile(join(outDir, 'scores.md'), table);
  await writeFile(join(outDir, 'sdr.png'), await sdrChartPng(report));
  console.log(table.slice(0, table.indexOf('## Per track')).trimEnd());
  console.log(`wrote ${join(outDir, 'scores.json')}, scores.md, sdr.png${existsSync(saveDir ?? '') ? `; estimates in ${saveDir}` : ''}`);
}

main().catch((err: unknown) => {
  if (err instanceof UsageError || err instanceof DatasetError) {
    console.error(`eval: ${err.message}`);
    if (err instanceof UsageError) console.error(USAGE);
  } else if (err instanceof Error && err.name === 'ModelLoadError') {
    console.error(`eval: ${err.message}`);
  } else {
    console.error(err);
  }
  process.exitCode = 1;
});
