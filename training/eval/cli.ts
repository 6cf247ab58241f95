/**
 * npm run eval -- [--model <name|path>] [--data data/synth/test] [--out results/] [--save-estimates DIR]
 *                 [--tracks N] [--seconds S] [--baselines-only | --model-only]
 *
 * Per track of a MUSDB-layout split (HQ folders or .stem.mp4), runs the model through the server's own streaming
 * engine (server/engine/offline-separator.ts: causal, frame by frame, latency-compensated) and the baselines, then
 * scores everything with BSS-Eval v4, SI-SDR, MDX SDR, non-vocal leakage and VAD detection.
 * Writes <out>/<model>/scores.json, scores.md and sdr.png; --save-estimates writes DIR/<method>/<track>/
 * {vocals,accompaniment}.wav (float WAV, same length and rate as the mixture).
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DatasetError } from '../data/dataset-error.ts';
import { ModelNotFoundError } from './model-under-test.ts';
import { runEvaluation } from './run-eval.ts';

const USAGE = `usage: npm run eval -- [--model <name|path>] [--data data/synth/test] [--out results/]
                      [--save-estimates DIR] [--tracks N] [--seconds S] [--baselines-only | --model-only]`;

class UsageError extends Error {}

function positiveNumber(flag: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const v = Number(raw);
  if (!(v > 0)) throw new UsageError(`--${flag} must be a positive number, got "${raw}"`);
  return v;
}

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
        'model-only': { type: 'boolean', default: false },
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
  const tracks = positiveNumber('tracks', values.tracks);
  const { outDir, markdown } = await runEvaluation({
    data: values.data,
    out: values.out,
    model: values.model,
    baselinesOnly: values['baselines-only'],
    modelOnly: values['model-only'],
    saveEstimates: values['save-estimates'],
    maxTracks: tracks === undefined ? undefined : Math.floor(tracks),
    maxSeconds: positiveNumber('seconds', values.seconds),
  });
  console.log(markdown.slice(0, markdown.indexOf('## Per track')).trimEnd());
  console.log(`\nwrote ${join(outDir, 'scores.json')}, ${join(outDir, 'scores.md')}, ${join(outDir, 'sdr.png')}` +
    (values['save-estimates'] === undefined ? '' : `; estimates under ${values['save-estimates']}`));
}

main().catch((err: unknown) => {
  if (err instanceof UsageError) {
    console.error(`eval: ${err.message}\n${USAGE}`);
  } else if (err instanceof DatasetError || err instanceof ModelNotFoundError) {
    console.error(`eval: ${err.message}`);
  } else {
    console.error(err);
  }
  process.exitCode = 1;
});
