/**
 * The train → serve contract. `training/export` writes `models/<id>/manifest.json` in this shape;
 * the server loads models only through it. Shapes use the string "batch" for the dynamic batch axis.
 *
 * Per-frame step contract of every model's ONNX graph (one STFT frame per call, state carried):
 *   input  `io.input`  float32 [batch, channels, bins]  magnitude |X| of the mixture frame (raw FFT scale)
 *   output `io.mask`   float32 [batch, channels, bins]  vocals soft mask in [0, 1]; accompaniment = 1 − mask
 *   output `io.vad`    float32 [batch, 1]               vocal-activity probability for this frame
 *   state  `io.state[i].input` → `io.state[i].output`   same shape, zeros at stream start
 */
import { z } from 'zod';

const dim = z.union([z.number().int().positive(), z.literal('batch')]);
const shape = z.array(dim).refine((s) => s.filter((d) => d === 'batch').length === 1, {
  message: 'shape must contain exactly one "batch" axis',
});

export const tensorSpecSchema = z.object({ name: z.string().min(1), shape });
export const stateSpecSchema = z.object({
  input: z.string().min(1),
  output: z.string().min(1),
  shape,
});

export const modelManifestSchema = z.object({
  schemaVersion: z.literal(1),
  name: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/),
  arch: z.enum(['lstm', 'unet']),
  description: z.string(),
  onnx: z.string().default('model.onnx'),
  sampleRateHz: z.number().int().positive(),
  channels: z.literal(2),
  stft: z.object({
    nFft: z.number().int().positive(),
    hopSamples: z.number().int().positive(),
    window: z.enum(['hann', 'sqrt-hann']),
  }),
  bins: z.number().int().positive(),
  /** Algorithmic latency of the STFT/ISTFT pair in model-rate samples (nFft − hop for our framing). */
  latencySamples: z.number().int().nonnegative(),
  vadThreshold: z.number().min(0).max(1),
  /**
   * How the streamed VAD flag follows the per-hop probability (hysteresis and debounce, chosen on validation). Absent
   * in older manifests: the flag then uses vadThreshold with the smoother's defaults.
   */
  vadFlag: z
    .object({
      offThreshold: z.number().min(0).max(1),
      smoothingMs: z.number().nonnegative().max(1000),
      onMs: z.number().nonnegative().max(2000),
      offMs: z.number().nonnegative().max(2000),
    })
    .optional(),
  /**
   * The causal gate that moves the vocals mask's residue to the accompaniment where the model's VAD is sure nobody
   * sings (server/pipeline/vocal-gate.ts; chosen on validation by `npm run calibrate:gate`). Absent: no gate.
   */
  vocalGate: z
    .object({
      lowProb: z.number().min(0).max(1),
      highProb: z.number().min(0).max(1),
      floorGain: z.number().min(0).max(1),
      openMs: z.number().nonnegative().max(2000),
      closeMs: z.number().nonnegative().max(2000),
    })
    .refine((g) => g.highProb > g.lowProb, { message: 'vocalGate.highProb must exceed lowProb' })
    .optional(),
  io: z.object({
    input: tensorSpecSchema,
    mask: tensorSpecSchema,
    vad: tensorSpecSchema,
    state: z.array(stateSpecSchema),
  }),
  /**
   * Most streams one ONNX Runtime call should step; a larger batch runs as consecutive calls of at most this many.
   * Absent: no limit. Convolutional models set it: their per-stream activations of a large batch overflow the CPU
   * caches, so one call of 128 streams costs more per stream than eight calls of 16.
   */
  maxBatchPerRun: z.number().int().positive().optional(),
  parameters: z.number().int().nonnegative(),
  macsPerFrame: z.number().nonnegative(),
  training: z.record(z.string(), z.unknown()).default({}),
  eval: z.record(z.string(), z.unknown()).default({}),
  gitCommit: z.string().default('unknown'),
});

export type TensorSpec = z.infer<typeof tensorSpecSchema>;
export type StateSpec = z.infer<typeof stateSpecSchema>;
export type ModelManifest = z.infer<typeof modelManifestSchema>;

/** Parses and validates a manifest object; throws a ZodError naming the offending field. */
export function parseManifest(raw: unknown): ModelManifest {
  const manifest = modelManifestSchema.parse(raw);
  if (manifest.bins !== manifest.stft.nFft / 2 + 1) {
    throw new Error(`manifest ${manifest.name}: bins ${manifest.bins} != nFft/2+1 (${manifest.stft.nFft / 2 + 1})`);
  }
  return manifest;
}
