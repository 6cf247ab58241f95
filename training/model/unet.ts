/**
 * The U-Net of unet-core.ts in tfjs: parameters, the whole-sequence forward pass (one C-frame window per output
 * frame, zeros before the stream start — exactly what the ONNX step graph's context buffer holds), and input
 * statistics of log(1 + |X|).
 */
import * as tf from '@tensorflow/tfjs';
import type { UnetConfig } from './config.ts';
import { filled, glorot, ParamStore } from './params.ts';
import { Rng } from './rng.ts';
import { unetCore, unetParamShapes, type TensorOps } from './unet-core.ts';

export function createUnetParams(cfg: UnetConfig, seed: number): ParamStore {
  const rng = new Rng(seed);
  const p = new ParamStore();
  for (const [name, shape] of Object.entries(unetParamShapes(cfg))) {
    const size = shape.reduce((a, b) => a * b, 1);
    if (name === 'inputMean') p.add(name, filled(size, 0), shape, false);
    else if (name === 'inputScale') p.add(name, filled(size, 1), shape, false);
    else if (/\.dw\d$/.test(name)) p.add(name, glorot(rng, 9, 9, size), shape);
    else if (shape.length === 2) p.add(name, glorot(rng, shape[0]!, shape[1]!), shape);
    else p.add(name, filled(size, 0), shape);
  }
  return p;
}

export function tfjsOps(p: ParamStore): TensorOps<tf.Tensor> {
  return {
    param: (name) => p.get(name),
    pad: (x, pads) => tf.pad(x, pads),
    slice: (x, begin, size) => tf.slice(x, begin, size),
    add: (a, b) => tf.add(a, b),
    mul: (a, b) => tf.mul(a, b),
    matMul: (a, b) => tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D),
    relu: (x) => tf.relu(x),
    sigmoid: (x) => tf.sigmoid(x),
    reshape: (x, shape) => tf.reshape(x, shape),
    concat: (xs, axis) => tf.concat(xs, axis),
    transpose: (x, perm) => tf.transpose(x, perm),
    mean: (x, axes) => tf.mean(x, axes),
  };
}

/** log(1 + |X|) of the cropped bins, [B, T, F, 2]. */
export function unetFeatures(cfg: UnetConfig, mag: tf.Tensor4D): tf.Tensor4D {
  const [B, T] = mag.shape;
  return tf.transpose(tf.log1p(tf.slice(mag, [0, 0, 0, 0], [B, T, 2, cfg.cropBins])), [0, 1, 3, 2]) as tf.Tensor4D;
}

/** Whole-sequence forward: mag [B, T, 2, bins] → mask [B, T, 2, bins], VAD logits [B, T]. */
export function unetForward(p: ParamStore, cfg: UnetConfig, mag: tf.Tensor4D): { mask: tf.Tensor4D; vadLogit: tf.Tensor2D } {
  const [B, T] = mag.shape;
  const C = cfg.contextFrames;
  const F = cfg.cropBins;
  const feats = unetFeatures(cfg, mag);
  // Windows are built from the input, which needs no gradient: C shifted slices stacked on a new axis.
  const padded = tf.pad(feats, [[0, 0], [C - 1, 0], [0, 0], [0, 0]]);
  const shifted = Array.from({ length: C }, (_, j) => tf.slice(padded, [0, j, 0, 0], [B, T, F, 2]));
  const windows = tf.reshape(tf.stack(shifted, 2), [B * T, C, F, 2]);
  const out = unetCore(tfjsOps(p), cfg, windows);
  return {
    mask: tf.reshape(out.mask, [B, T, 2, cfg.bins]) as tf.Tensor4D,
    vadLogit: tf.reshape(out.vadLogit, [B, T]) as tf.Tensor2D,
  };
}
