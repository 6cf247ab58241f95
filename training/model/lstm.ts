/**
 * Causal Open-Unmix (seed 001 with a unidirectional LSTM) plus a vocal-activity head (seed 004).
 *
 *   |X| [B, T, 2, bins] → crop to cropBins → (x + inputMean)·inputScale (per bin, from the training set)
 *   → fc1 (2·crop → H, no bias) + BN + tanh                                         = e  [B·T, H]
 *   → L unidirectional LSTM layers (time-major, one fused matMul per step)          = r  [B·T, H]
 *   → concat(e, r) → fc2 (2H → H) + BN + relu → fc3 (H → 2·bins) + BN → sigmoid     = vocals mask
 *   → vad = sigmoid(r·wVad + bVad) per frame, or with cfg.vadHidden = V: sigmoid(relu([e, r]·W1 + b1)·W2 + b2).
 * Accompaniment uses 1 − mask, so the two estimates always sum to the mixture.
 *
 * LSTM weights follow tfjs's layout: kernel [in, 4H], recurrent [H, 4H], bias [4H], gate blocks i, f, c, o, with
 * sigmoid recurrent activation (ONNX's default, so the exported LSTM operator matches exactly).
 */
import * as tf from '@tensorflow/tfjs';
import { addBatchNorm, batchNorm, type BatchStats } from './batchnorm.ts';
import type { LstmConfig } from './config.ts';
import { fusedLstmAvailable, fusedLstmLayer } from './lstm-fused.ts';
import { filled, glorot, ParamStore } from './params.ts';
import { Rng } from './rng.ts';

export interface LstmState {
  /** Per layer: h and c, each [B, H]. */
  h: tf.Tensor2D[];
  c: tf.Tensor2D[];
}

export interface ForwardOutput {
  /** Vocals mask [B, T, 2, bins] in (0, 1). */
  mask: tf.Tensor4D;
  /** VAD logits [B, T] (sigmoid gives the probability). */
  vadLogit: tf.Tensor2D;
}

export function createLstmParams(cfg: LstmConfig, seed: number): ParamStore {
  const rng = new Rng(seed);
  const p = new ParamStore();
  const H = cfg.hiddenSize;
  const inSize = 2 * cfg.cropBins;
  const outSize = 2 * cfg.bins;
  p.add('inputMean', filled(inSize, 0), [inSize], false);
  p.add('inputScale', filled(inSize, 1), [inSize], false);
  p.add('fc1.W', glorot(rng, inSize, H), [inSize, H]);
  addBatchNorm(p, 'bn1', H);
  for (let l = 0; l < cfg.layers; l++) {
    p.add(`lstm${l}.kernel`, glorot(rng, H, 4 * H), [H, 4 * H]);
    p.add(`lstm${l}.recurrent`, glorot(rng, H, 4 * H), [H, 4 * H]);
    // Forget-gate bias 1 (tfjs/Keras unitForgetBias): remembers by default early in training.
    const bias = new Float32Array(4 * H);
    bias.fill(1, H, 2 * H);
    p.add(`lstm${l}.bias`, bias, [4 * H]);
  }
  p.add('fc2.W', glorot(rng, 2 * H, H), [2 * H, H]);
  addBatchNorm(p, 'bn2', H);
  p.add('fc3.W', glorot(rng, H, outSize), [H, outSize]);
  addBatchNorm(p, 'bn3', outSize);
  const V = cfg.vadHidden ?? 0;
  if (V > 0) {
    p.add('vad.W1', glorot(rng, 2 * H, V), [2 * H, V]);
    p.add('vad.b1', filled(V, 0), [V]);
    p.add('vad.W2', glorot(rng, V, 1), [V, 1]);
    p.add('vad.b2', filled(1, 0), [1]);
  } else {
    p.add('vad.W', glorot(rng, H, 1), [H, 1]);
    p.add('vad.b', filled(1, 0), [1]);
  }
  return p;
}

export function zeroLstmState(cfg: LstmConfig, batch: number): LstmState {
  const z = (): tf.Tensor2D => tf.zeros([batch, cfg.hiddenSize]);
  return { h: Array.from({ length: cfg.layers }, z), c: Array.from({ length: cfg.layers }, z) };
}

/** Standardised, cropped input features [B·T, 2·crop] from magnitudes [B, T, 2, bins]. */
function inputFeatures(p: ParamStore, cfg: LstmConfig, mag: tf.Tensor4D): tf.Tensor2D {
  const [B, T] = mag.shape;
  const cropped = tf.slice(mag, [0, 0, 0, 0], [B, T, 2, cfg.cropBins]);
  const flat = tf.reshape(cropped, [B * T, 2 * cfg.cropBins]);
  return tf.mul(tf.add(flat, p.get('inputMean')), p.get('inputScale')) as tf.Tensor2D;
}

/** Switch for the fused wasm recurrence (lstm-fused.ts); tests turn it off to get the op-by-op reference. */
export const fastLstm = { enabled: true };

/** One LSTM layer over a time-major sequence x [T, B, In]; returns y [T, B, H] and the final state. */
function lstmLayer(
  p: ParamStore,
  layer: number,
  x: tf.Tensor3D,
  h0: tf.Tensor2D,
  c0: tf.Tensor2D,
): { y: tf.Tensor3D; h: tf.Tensor2D; c: tf.Tensor2D } {
  const [T, B, inSize] = x.shape;
  const H = h0.shape[1];
  const kernel = p.get(`lstm${layer}.kernel`) as tf.Tensor2D;
  const bias = p.get(`lstm${layer}.bias`) as tf.Tensor1D;
  const recurrent = p.get(`lstm${layer}.recurrent`) as tf.Tensor2D;
  const x2d = tf.reshape(x, [T * B, inSize]) as tf.Tensor2D;
  if (fastLstm.enabled && T > 0 && fusedLstmAvailable()) {
    const out = fusedLstmLayer(x2d, kernel, bias, recurrent, h0, c0);
    const y = tf.slice(out, [0, 0, 0], [T, B, H]);
    const last = (row: number): tf.Tensor2D => tf.reshape(tf.slice(out, [row, 0, 0], [1, B, H]), [B, H]);
    return { y, h: last(T - 1), c: last(T) };
  }
  // The input projection of all steps in one big matMul; only h·R stays inside the loop.
  const xz = tf.reshape(tf.add(tf.matMul(x2d, kernel), bias), [T, B, 4 * H]) as tf.Tensor3D;
  const steps = tf.unstack(xz) as tf.Tensor2D[];
  let h = h0;
  let c = c0;
  const ys: tf.Tensor2D[] = [];
  for (const xt of steps) {
    const z = tf.add(xt, tf.matMul(h, recurrent));
    const [zi, zf, zc, zo] = tf.split(z, 4, 1) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
    c = tf.add(tf.mul(tf.sigmoid(zf), c), tf.mul(tf.sigmoid(zi), tf.tanh(zc)));
    h = tf.mul(tf.sigmoid(zo), tf.tanh(c));
    ys.push(h);
  }
  return { y: tf.stack(ys) as tf.Tensor3D, h, c };
}

/**
 * Whole-sequence forward pass. `state` (default zeros) is the LSTM state before the first frame; the final state is
 * returned in `state` of the result. Call inside tf.tidy / a gradient scope: intermediate tensors are not disposed.
 */
export function lstmForward(
  p: ParamStore,
  cfg: LstmConfig,
  mag: tf.Tensor4D,
  options: { training: boolean; state?: LstmState; collectStats?: BatchStats[] },
): ForwardOutput & { state: LstmState } {
  const [B, T] = mag.shape;
  const H = cfg.hiddenSize;
  const train = options.training;
  const stats = options.collectStats;
  const e = tf.tanh(batchNorm(p, 'bn1', tf.matMul(inputFeatures(p, cfg, mag), p.get('fc1.W')), train, stats));
  const state = options.state ?? zeroLstmState(cfg, B);
  // [B·T, H] (batch-major rows) → time-major [T, B, H] for the recurrence.
  let seq = tf.transpose(tf.reshape(e, [B, T, H]), [1, 0, 2]) as tf.Tensor3D;
  const finalState: LstmState = { h: [], c: [] };
  for (let l = 0; l < cfg.layers; l++) {
    const out = lstmLayer(p, l, seq, state.h[l]!, state.c[l]!);
    seq = out.y;
    finalState.h.push(out.h);
    finalState.c.push(out.c);
  }
  const r = tf.reshape(tf.transpose(seq, [1, 0, 2]), [B * T, H]) as tf.Tensor2D;
  const skip = tf.concat([e, r], 1);
  const f2 = tf.relu(batchNorm(p, 'bn2', tf.matMul(skip, p.get('fc2.W')), train, stats));
  const f3 = batchNorm(p, 'bn3', tf.matMul(f2, p.get('fc3.W')), train, stats);
  const mask = tf.reshape(tf.sigmoid(f3), [B, T, 2, cfg.bins]) as tf.Tensor4D;
  const vadLogit = tf.reshape(vadHead(p, cfg, skip, r), [B, T]) as tf.Tensor2D;
  return { mask, vadLogit, state: finalState };
}

/** VAD logits [B·T, 1] from the skip features [e, r] (MLP head) or the LSTM output r (linear head). */
function vadHead(p: ParamStore, cfg: LstmConfig, skip: tf.Tensor2D, r: tf.Tensor2D): tf.Tensor2D {
  if ((cfg.vadHidden ?? 0) > 0) {
    const hidden = tf.relu(tf.add(tf.matMul(skip, p.get('vad.W1')), p.get('vad.b1'))) as tf.Tensor2D;
    return tf.add(tf.matMul(hidden, p.get('vad.W2')), p.get('vad.b2'));
  }
  return tf.add(tf.matMul(r, p.get('vad.W')), p.get('vad.b'));
}

/** Multiply–accumulates per frame at inference (BN folded), for the manifest. */
export function lstmMacsPerFrame(cfg: LstmConfig): number {
  const H = cfg.hiddenSize;
  const V = cfg.vadHidden ?? 0;
  const vad = V > 0 ? 2 * H * V + V : H;
  return 2 * cfg.cropBins * H + cfg.layers * 4 * H * (H + H) + 2 * H * H + H * 2 * cfg.bins + vad;
}
