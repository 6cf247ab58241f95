/**
 * The short-context U-Net (seeds 003 + 004), written against a tiny tensor-ops interface implemented with tfjs
 * (training/model/unet.ts: training and the parity reference). The ONNX export (training/export/unet-onnx.ts) is the
 * same function built from ONNX Runtime's convolution kernels instead of these per-tap ops; test/model-unet.test.ts
 * holds it to this code (max |ORT − tfjs| ≤ 1e-5), frame by frame.
 *
 * Input: a window of the last C frames of log(1 + |X|), cropped to F bins, [N, C, F, 2] (N = batch).
 *   standardise per (bin, channel)
 *   encoder: 3 levels of depthwise-separable conv (3×3 depthwise + pointwise + relu), 2×2 average pooling between
 *   bottleneck: ASPP — depthwise 3×3 branches dilated 1/2/4… in frequency + a 1×1 branch, concatenated, pointwise
 *   decoder (newest frame only): ×2 frequency upsampling + the encoder level's newest row, pointwise + relu
 *   output: sigmoid mask for the F cropped bins; bins above the crop from the pooled bottleneck (dense + sigmoid);
 *   VAD: an F×c filter over the last decoder feature map → one logit per frame (seed 004's F×1 filter).
 * Causal by construction: the window holds only the current and past frames.
 */
import type { UnetConfig } from './config.ts';

/** The operations the U-Net needs; shapes use -1 for "the rest" (batch axis in reshapes, slice to the end). */
export interface TensorOps<T> {
  param(name: string): T;
  pad(x: T, pads: [number, number][]): T;
  slice(x: T, begin: number[], size: number[]): T;
  add(a: T, b: T): T;
  mul(a: T, b: T): T;
  matMul(a: T, b: T): T;
  relu(x: T): T;
  sigmoid(x: T): T;
  reshape(x: T, shape: number[]): T;
  concat(xs: T[], axis: number): T;
  transpose(x: T, perm: number[]): T;
  mean(x: T, axes: number[]): T;
}

/** Name and shape of every parameter, so tfjs can create them and tests can count them. */
export function unetParamShapes(cfg: UnetConfig): Record<string, number[]> {
  const shapes: Record<string, number[]> = {};
  const F = cfg.cropBins;
  const chans = cfg.encoderChannels;
  shapes['inputMean'] = [F, 2];
  shapes['inputScale'] = [F, 2];
  let inCh = 2;
  chans.forEach((c, level) => {
    for (let tap = 0; tap < 9; tap++) shapes[`enc${level}.dw${tap}`] = [inCh];
    shapes[`enc${level}.pw`] = [inCh, c];
    shapes[`enc${level}.b`] = [c];
    inCh = c;
  });
  const cb = chans[chans.length - 1]!;
  cfg.asppDilations.forEach((_, i) => {
    for (let tap = 0; tap < 9; tap++) shapes[`aspp${i}.dw${tap}`] = [cb];
  });
  const branches = cfg.asppDilations.length + 1;
  shapes['aspp.pw'] = [branches * cb, cb];
  shapes['aspp.b'] = [cb];
  // Decoder level l goes from channels[l+1] (or the bottleneck) to channels[l]… down to level 0, then to 2 (mask).
  for (let level = chans.length - 1; level >= 0; level--) {
    const fromCh = level === chans.length - 1 ? cb : chans[level + 1]!;
    const outCh = level === 0 ? chans[0]! : chans[level]!;
    shapes[`dec${level}.pw`] = [fromCh + chans[level]!, outCh];
    shapes[`dec${level}.b`] = [outCh];
  }
  shapes['out.pw'] = [chans[0]!, 2];
  shapes['out.b'] = [2];
  const high = cfg.bins - F;
  shapes['high.W'] = [cb, 2 * high];
  shapes['high.b'] = [2 * high];
  shapes['vad.W'] = [F * chans[0]!, 1];
  shapes['vad.b'] = [1];
  return shapes;
}

/** Depthwise 3×3 conv, 'same' zero padding, dilation (dt, df); x [N, T, F, C]. */
function depthwise<T>(o: TensorOps<T>, x: T, name: string, T_: number, F: number, dt: number, df: number): T {
  const padded = o.pad(x, [[0, 0], [dt, dt], [df, df], [0, 0]]);
  let sum: T | undefined;
  let tap = 0;
  for (let i = -1; i <= 1; i++) {
    for (let j = -1; j <= 1; j++) {
      const shifted = o.slice(padded, [0, dt + i * dt, df + j * df, 0], [-1, T_, F, -1]);
      const term = o.mul(shifted, o.param(`${name}.dw${tap++}`));
      sum = sum === undefined ? term : o.add(sum, term);
    }
  }
  return sum!;
}

/** 1×1 conv over the last axis: [..., Cin] → [..., Cout], with bias; `dims` are the axes between batch and channel. */
function pointwise<T>(o: TensorOps<T>, x: T, w: string, b: string, dims: number[], cin: number, cout: number): T {
  const flat = o.reshape(x, [-1, cin]);
  const y = o.add(o.matMul(flat, o.param(w)), o.param(b));
  return o.reshape(y, [-1, ...dims, cout]);
}

function pool2x2<T>(o: TensorOps<T>, x: T, T_: number, F: number, c: number): T {
  return o.mean(o.reshape(x, [-1, T_ / 2, 2, F / 2, 2, c]), [2, 4]);
}

/** [N, F, c] → [N, 2F, c], each bin repeated. */
function upsampleFreq<T>(o: TensorOps<T>, x: T, F: number, c: number): T {
  const u = o.reshape(x, [-1, F, 1, c]);
  return o.reshape(o.concat([u, u], 2), [-1, 2 * F, c]);
}

function newestRow<T>(o: TensorOps<T>, x: T, T_: number, F: number, c: number): T {
  return o.reshape(o.slice(x, [0, T_ - 1, 0, 0], [-1, 1, F, c]), [-1, F, c]);
}

/**
 * window [N, C, F, 2] of raw log(1 + |X|) → mask [N, 2, bins] (vocals), vadLogit [N, 1].
 */
export function unetCore<T>(o: TensorOps<T>, cfg: UnetConfig, window: T): { mask: T; vadLogit: T } {
  const chans = cfg.encoderChannels;
  let T_ = cfg.contextFrames;
  let F = cfg.cropBins;
  let x = o.mul(o.add(window, o.param('inputMean')), o.param('inputScale'));
  let inCh = 2;
  const skips: { x: T; T: number; F: number; c: number }[] = [];
  chans.forEach((c, level) => {
    if (level > 0) {
      x = pool2x2(o, x, T_, F, inCh);
      T_ /= 2;
      F /= 2;
    }
    x = depthwise(o, x, `enc${level}`, T_, F, 1, 1);
    x = o.relu(pointwise(o, x, `enc${level}.pw`, `enc${level}.b`, [T_, F], inCh, c));
    skips.push({ x, T: T_, F, c });
    inCh = c;
  });
  x = pool2x2(o, x, T_, F, inCh);
  T_ /= 2;
  F /= 2;
  const cb = inCh;
  const branches = [x, ...cfg.asppDilations.map((d, i) => depthwise(o, x, `aspp${i}`, T_, F, 1, d))];
  x = o.relu(pointwise(o, o.concat(branches, 3), 'aspp.pw', 'aspp.b', [T_, F], branches.length * cb, cb));
  const pooled = o.reshape(o.mean(x, [1, 2]), [-1, cb]);

  let d = newestRow(o, x, T_, F, cb);
  let dCh = cb;
  for (let level = chans.length - 1; level >= 0; level--) {
    const skip = skips[level]!;
    d = o.concat([upsampleFreq(o, d, F, dCh), newestRow(o, skip.x, skip.T, skip.F, skip.c)], 2);
    F *= 2;
    const outCh = chans[level]!;
    d = o.relu(pointwise(o, d, `dec${level}.pw`, `dec${level}.b`, [F], dCh + skip.c, outCh));
    dCh = outCh;
  }
  const low = o.transpose(o.sigmoid(pointwise(o, d, 'out.pw', 'out.b', [F], dCh, 2)), [0, 2, 1]);
  const high = cfg.bins - cfg.cropBins;
  const highMask = o.reshape(o.sigmoid(o.add(o.matMul(pooled, o.param('high.W')), o.param('high.b'))), [-1, 2, high]);
  const mask = o.concat([low, highMask], 2);
  const vadLogit = o.add(o.matMul(o.reshape(d, [-1, F * dCh]), o.param('vad.W')), o.param('vad.b'));
  return { mask, vadLogit };
}

/** MACs per frame (one window through the network). */
export function unetMacsPerFrame(cfg: UnetConfig): number {
  let macs = 0;
  let T_ = cfg.contextFrames;
  let F = cfg.cropBins;
  let inCh = 2;
  cfg.encoderChannels.forEach((c, level) => {
    if (level > 0) {
      T_ /= 2;
      F /= 2;
    }
    macs += T_ * F * (9 * inCh + inCh * c);
    inCh = c;
  });
  T_ /= 2;
  F /= 2;
  const branches = cfg.asppDilations.length + 1;
  macs += T_ * F * (9 * inCh * cfg.asppDilations.length + branches * inCh * inCh);
  let dF = F;
  let dCh = inCh;
  for (let level = cfg.encoderChannels.length - 1; level >= 0; level--) {
    dF *= 2;
    const c = cfg.encoderChannels[level]!;
    macs += dF * (dCh + c) * c;
    dCh = c;
  }
  macs += dF * dCh * 2 + inCh * 2 * (cfg.bins - cfg.cropBins) + dF * dCh;
  return macs;
}
