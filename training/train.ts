/**
 * npm run train -- --arch lstm|unet --data data/synth --out runs/<name> [--resume] [--max-minutes M] …
 * Trains a causal separation model with a VAD head (see training/train/run.ts); `--help` lists every option.
 */
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend } from './backend.ts';
import { SEPARATION_LOSSES, type SeparationLossKind } from './losses.ts';
import { runTraining, type TrainOptions } from './train/run.ts';

const spec = {
  arch: { type: 'string', default: 'lstm' },
  data: { type: 'string', default: 'data/synth' },
  out: { type: 'string' },
  epochs: { type: 'string', default: '1000' },
  'batch-size': { type: 'string', default: '16' },
  'hidden-size': { type: 'string', default: '128' },
  layers: { type: 'string', default: '2' },
  'context-frames': { type: 'string', default: '16' },
  'unet-channels': { type: 'string', default: '8,16,24' },
  'samples-per-track': { type: 'string', default: '64' },
  'seq-dur': { type: 'string', default: '3' },
  loss: { type: 'string', default: 'mse' },
  'vad-weight': { type: 'string', default: '0.1' },
  lr: { type: 'string', default: '1e-3' },
  'lr-decay-patience': { type: 'string', default: '3' },
  'lr-decay-gamma': { type: 'string', default: '0.5' },
  patience: { type: 'string', default: '10' },
  'clip-norm': { type: 'string', default: '5' },
  seed: { type: 'string', default: '42' },
  nfft: { type: 'string', default: '1024' },
  hop: { type: 'string', default: '256' },
  window: { type: 'string', default: 'sqrt-hann' },
  'crop-hz': { type: 'string', default: '16000' },
  'checkpoint-every': { type: 'string', default: '25' },
  'stats-excerpts': { type: 'string', default: '64' },
  'valid-chunk': { type: 'string', default: '6' },
  'valid-seconds': { type: 'string' },
  'steps-per-epoch': { type: 'string' },
  'max-steps': { type: 'string' },
  'max-minutes': { type: 'string' },
  resume: { type: 'boolean', default: false },
  'no-worker': { type: 'boolean', default: false },
  replicas: { type: 'string', default: String(Math.min(4, availableParallelism())) },
  'vad-balanced': { type: 'boolean', default: false },
  'vad-hidden': { type: 'string', default: '0' },
  'init-from': { type: 'string' },
  'train-only': { type: 'string' },
  backend: { type: 'string' },
  help: { type: 'boolean', default: false },
} as const;

function num(name: string, value: string | undefined): number {
  const v = Number(value);
  if (value === undefined || !Number.isFinite(v)) throw new Error(`--${name} must be a number, got ${value}`);
  return v;
}

function optionalNum(name: string, value: string | undefined): number | undefined {
  return value === undefined ? undefined : num(name, value);
}

async function main(): Promise<void> {
  const { values, tokens } = parseArgs({ options: spec, tokens: true, allowPositionals: false });
  if (values.help || values.out === undefined) {
    console.log(`usage: npm run train -- --out runs/<name> [options]\noptions (defaults):\n${Object.entries(spec)
      .map(([k, v]) => `  --${k}${'default' in v ? ` (${String(v.default)})` : ''}`)
      .join('\n')}`);
    process.exitCode = values.help ? 0 : 2;
    return;
  }
  if (values.arch !== 'lstm' && values.arch !== 'unet') throw new Error(`--arch must be lstm or unet, got ${values.arch}`);
  if (!SEPARATION_LOSSES.includes(values.loss as SeparationLossKind)) throw new Error(`--loss must be one of ${SEPARATION_LOSSES.join(', ')}`);
  if (values.window !== 'hann' && values.window !== 'sqrt-hann') throw new Error('--window must be hann or sqrt-hann');
  let opts: TrainOptions = {
    arch: values.arch,
    data: values.data,
    out: values.out,
    epochs: num('epochs', values.epochs),
    batchSize: num('batch-size', values['batch-size']),
    hiddenSize: num('hidden-size', values['hidden-size']),
    layers: num('layers', values.layers),
    contextFrames: num('context-frames', values['context-frames']),
    unetChannels: values['unet-channels'].split(',').map((c) => num('unet-channels', c)),
    samplesPerTrack: num('samples-per-track', values['samples-per-track']),
    seqDurSeconds: num('seq-dur', values['seq-dur']),
    loss: values.loss as SeparationLossKind,
    vadWeight: num('vad-weight', values['vad-weight']),
    lr: num('lr', values.lr),
    lrDecayPatience: num('lr-decay-patience', values['lr-decay-patience']),
    lrDecayGamma: num('lr-decay-gamma', values['lr-decay-gamma']),
    patience: num('patience', values.patience),
    clipNorm: num('clip-norm', values['clip-norm']),
    seed: num('seed', values.seed),
    nFft: num('nfft', values.nfft),
    hopSamples: num('hop', values.hop),
    window: values.window,
    cropHz: num('crop-hz', values['crop-hz']),
    checkpointEvery: num('checkpoint-every', values['checkpoint-every']),
    statsExcerpts: num('stats-excerpts', values['stats-excerpts']),
    validChunkSeconds: num('valid-chunk', values['valid-chunk']),
    resume: values.resume,
    worker: !values['no-worker'],
    replicas: num('replicas', values.replicas),
    vadBalanced: values['vad-balanced'],
    vadHidden: num('vad-hidden', values['vad-hidden']),
    ...(values['init-from'] !== undefined ? { initFrom: values['init-from'] } : {}),
    ...(values['train-only'] !== undefined ? { trainOnly: values['train-only'].split(',').filter((x) => x !== '') } : {}),
  };
  const extra = {
    validSecondsPerTrack: optionalNum('valid-seconds', values['valid-seconds']),
    stepsPerEpoch: optionalNum('steps-per-epoch', values['steps-per-epoch']),
    maxSteps: optionalNum('max-steps', values['max-steps']),
    maxMinutes: optionalNum('max-minutes', values['max-minutes']),
  };
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) (opts as unknown as Record<string, unknown>)[k] = v;

  const ckptJson = join(opts.out, 'checkpoint', 'checkpoint.json');
  if (opts.resume && existsSync(ckptJson)) {
    // A resumed run keeps its own hyper-parameters; only flags given on this command line override them.
    const saved = (JSON.parse(readFileSync(ckptJson, 'utf8')) as { options: TrainOptions }).options;
    const given = new Set(tokens.filter((t) => t.kind === 'option').map((t) => (t as { name: string }).name));
    const explicit = Object.fromEntries(
      Object.entries(opts).filter(([k]) => given.has(k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)) || k === 'resume' || k === 'worker' || k === 'replicas'),
    );
    for (const flag of ['seq-dur', 'nfft', 'hop', 'clip-norm', 'valid-chunk', 'valid-seconds', 'max-steps', 'max-minutes', 'steps-per-epoch']) {
      if (!given.has(flag)) continue;
      const key = { 'seq-dur': 'seqDurSeconds', nfft: 'nFft', hop: 'hopSamples', 'clip-norm': 'clipNorm', 'valid-chunk': 'validChunkSeconds', 'valid-seconds': 'validSecondsPerTrack', 'max-steps': 'maxSteps', 'max-minutes': 'maxMinutes', 'steps-per-epoch': 'stepsPerEpoch' }[flag]!;
      explicit[key] = (opts as unknown as Record<string, unknown>)[key];
    }
    const merged = { ...saved, ...explicit };
    if (!given.has('max-minutes')) delete (merged as Partial<TrainOptions>).maxMinutes;
    opts = merged as TrainOptions;
  }
  const backend = await initBackend(values.backend as Parameters<typeof initBackend>[0], console.log);
  console.log(`training ${opts.arch} on ${opts.data} → ${opts.out} (backend ${backend.name})`);
  await runTraining(opts, console.log);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exitCode = 1;
});
