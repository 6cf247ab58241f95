/**
 * Checkpoints: everything `--resume` needs to continue a run exactly — weights and BN/input statistics, Adam moments
 * and step, the loop position, the sampler's and the RNG's state, the run's history — as one JSON header plus one
 * float32 blob. Written to a temporary name and renamed, so a run killed mid-write leaves the previous one intact.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ModelConfig } from '../model/config.ts';
import type { NamedArray } from '../model/params.ts';
import type { AdamState } from './adam.ts';

export interface EpochRecord {
  epoch: number;
  step: number;
  trainLoss: number;
  trainSepLoss: number;
  trainVadLoss: number;
  validLoss: number;
  validSepLoss: number;
  validVadLoss: number;
  lr: number;
  elapsedSec: number;
  stepsPerSec: number;
  gitCommit: string;
}

export interface TrainProgress {
  step: number;
  epoch: number;
  stepInEpoch: number;
  lr: number;
  bestValidLoss: number;
  epochsWithoutImprovement: number;
  /** Wall time spent training over all invocations. */
  elapsedSec: number;
  /** Running sums of the current epoch's training losses. */
  epochLossSums: { total: number; sep: number; vad: number; count: number };
  history: EpochRecord[];
  /** Per-step training loss (for the plot), thinned by the caller if it grows large. */
  stepLosses: [number, number][];
}

export interface CheckpointHeader {
  format: 'livestem-checkpoint-1';
  config: ModelConfig;
  /** The run's hyper-parameters (CLI options) as given at the start. */
  options: Record<string, unknown>;
  progress: TrainProgress;
  /** The excerpt sampler's state before the next batch (it holds all of training's randomness). */
  samplerState: unknown;
  adamStep: number;
  tensors: { name: string; shape: number[]; offset: number; length: number }[];
}

export interface Checkpoint {
  header: CheckpointHeader;
  params: Record<string, NamedArray>;
  adam: AdamState;
}

const PARAM = 'param:';
const ADAM_M = 'adam.m:';
const ADAM_V = 'adam.v:';

export async function saveCheckpoint(dir: string, ckpt: Omit<Checkpoint, 'header'> & { header: Omit<CheckpointHeader, 'tensors' | 'format'> }): Promise<void> {
  await mkdir(dir, { recursive: true });
  const entries: [string, NamedArray][] = [
    ...Object.entries(ckpt.params).map(([k, v]): [string, NamedArray] => [PARAM + k, v]),
    ...Object.entries(ckpt.adam.m).map(([k, v]): [string, NamedArray] => [ADAM_M + k, v]),
    ...Object.entries(ckpt.adam.v).map(([k, v]): [string, NamedArray] => [ADAM_V + k, v]),
  ];
  const total = entries.reduce((a, [, v]) => a + v.data.length, 0);
  const blob = new Float32Array(total);
  const tensors: CheckpointHeader['tensors'] = [];
  let offset = 0;
  for (const [name, v] of entries) {
    blob.set(v.data, offset);
    tensors.push({ name, shape: v.shape, offset, length: v.data.length });
    offset += v.data.length;
  }
  const header: CheckpointHeader = { format: 'livestem-checkpoint-1', ...ckpt.header, adamStep: ckpt.adam.step, tensors };
  await writeFile(join(dir, 'tensors.bin.tmp'), new Uint8Array(blob.buffer));
  await writeFile(join(dir, 'checkpoint.json.tmp'), `${JSON.stringify(header, null, 1)}\n`);
  await rename(join(dir, 'tensors.bin.tmp'), join(dir, 'tensors.bin'));
  await rename(join(dir, 'checkpoint.json.tmp'), join(dir, 'checkpoint.json'));
}

export async function loadCheckpoint(dir: string): Promise<Checkpoint> {
  const header = JSON.parse(await readFile(join(dir, 'checkpoint.json'), 'utf8')) as CheckpointHeader;
  if (header.format !== 'livestem-checkpoint-1') throw new Error(`${dir}: not a livestem checkpoint`);
  const bytes = await readFile(join(dir, 'tensors.bin'));
  const blob = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const params: Record<string, NamedArray> = {};
  const adam: AdamState = { step: header.adamStep, m: {}, v: {} };
  for (const t of header.tensors) {
    if (t.offset + t.length > blob.length) throw new Error(`${dir}: tensors.bin is truncated`);
    const value = { shape: t.shape, data: blob.slice(t.offset, t.offset + t.length) };
    if (t.name.startsWith(PARAM)) params[t.name.slice(PARAM.length)] = value;
    else if (t.name.startsWith(ADAM_M)) adam.m[t.name.slice(ADAM_M.length)] = value;
    else if (t.name.startsWith(ADAM_V)) adam.v[t.name.slice(ADAM_V.length)] = value;
  }
  return { header, params, adam };
}
