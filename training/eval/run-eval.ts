/**
 * One evaluation run (what `npm run eval` does after parsing its flags): per track of a MUSDB-layout split, the
 * model through the server's streaming engine and the baselines, scored and written as scores.json, scores.md and
 * sdr.png under <out>/<model>/.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import cliProgress from 'cli-progress';
import type { StftConfig } from '../../server/dsp/stft.ts';
import { writeWav } from '../../server/dsp/wav.ts';
import { loadTrackAudio } from '../data/musdb.ts';
import { openMusdb } from '../data/open-dataset.ts';
import { BASELINE_METHODS, runBaseline } from './baselines.ts';
import { BssEvaluator } from './bss-eval.ts';
import { sdrChartPng } from './chart.ts';
import { loadModelUnderTest, type ModelUnderTest } from './model-under-test.ts';
import { aggregate, markdownTable, type EvalReport, type PooledVad, type TrackRecord } from './report.ts';
import { scoreMethod, type MethodOutput } from './score-track.ts';

/** The STFT the oracle mask uses when no model sets one: the shipped models' framing (README). */
export const DEFAULT_STFT: StftConfig = { nFft: 1024, hopSamples: 256, window: 'sqrt-hann' };

export interface EvalOptions {
  /** Split folder, e.g. data/synth/test (HQ track folders or .stem.mp4 files). */
  data: string;
  out: string;
  /** Model name under models/ or a model directory; undefined = the server's default model. */
  model?: string | undefined;
  baselinesOnly?: boolean;
  /** Score the model alone (no baselines): for comparing candidates quickly. */
  modelOnly?: boolean;
  saveEstimates?: string | undefined;
  maxTracks?: number | undefined;
  maxSeconds?: number | undefined;
  progress?: boolean;
}

export interface EvalResult {
  report: EvalReport;
  outDir: string;
  markdown: string;
}

export async function runEvaluation(options: EvalOptions): Promise<EvalResult> {
  const dataDir = resolve(options.data);
  const maxTracks = options.maxTracks;
  const maxSeconds = options.maxSeconds;
  const saveDir = options.saveEstimates;
  let tracks = await openMusdb(dirname(dataDir), basename(dataDir));
  if (maxTracks !== undefined) tracks = tracks.slice(0, Math.floor(maxTracks));
  const model: ModelUnderTest | undefined = options.baselinesOnly === true ? undefined : await loadModelUnderTest(options.model);
  const stft = model?.manifest.stft ?? DEFAULT_STFT;
  const reportName = model?.manifest.name ?? 'baselines';
  if (options.modelOnly === true && model === undefined) throw new Error('modelOnly and baselinesOnly exclude each other');
  const methods = [...(model ? [model.manifest.name] : []), ...(options.modelOnly === true ? [] : BASELINE_METHODS)];

  const records: TrackRecord[] = [];
  const pooled: PooledVad = { probabilities: [], labels: [] };
  // cli-progress draws on stderr, so stdout keeps only the table
  const bar = options.progress === false ? undefined : new cliProgress.SingleBar({ format: 'eval [{bar}] {value}/{total} tracks | {track} | {eta_formatted} left', noTTYOutput: true, notTTYSchedule: 5000 });
  bar?.start(tracks.length, 0, { track: '' });
  try {
    for (const [done, track] of tracks.entries()) {
      bar?.update(done, { track: track.name });
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
      bar?.update(done + 1, { track: track.name });
    }
  } finally {
    bar?.stop();
    await model?.close();
  }

  const report: EvalReport = {
    model: reportName,
    data: options.data,
    createdAt: new Date().toISOString(),
    stft: { nFft: stft.nFft, hopSamples: stft.hopSamples, window: stft.window },
    methods,
    aggregate: Object.fromEntries(methods.map((m) => [m, aggregate(records, m, model !== undefined && m === model.manifest.name ? pooled : undefined)])),
    tracks: records,
  };
  const outDir = join(options.out, reportName);
  await mkdir(outDir, { recursive: true });
  await writeFile(join(outDir, 'scores.json'), `${JSON.stringify(report, null, 1)}\n`);
  const table = markdownTable(report);
  await writeFile(join(outDir, 'scores.md'), table);
  await writeFile(join(outDir, 'sdr.png'), await sdrChartPng(report));
  return { report, outDir, markdown: table };
}
