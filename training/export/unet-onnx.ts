/**
 * The per-frame ONNX graph of the U-Net: the same unetCore code as training, run on ONNX ops, behind a context
 * buffer that makes it streamable:
 *
 *   input "mag" [batch, 2, bins] → log(1 + |X|) of the cropped bins, [batch, 1, F, 2]
 *   state "ctx_in" [batch, C − 1, F, 2] (zeros at stream start = silence) ++ newest frame → window [batch, C, F, 2]
 *   state "ctx_out" = window without its oldest frame;  outputs "mask" [batch, 2, bins], "vad" [batch, 1]
 */
import type { UnetConfig } from '../model/config.ts';
import type { ParamStore } from '../model/params.ts';
import { unetCore, type TensorOps } from '../model/unet-core.ts';
import { OnnxGraphBuilder } from './onnx-graph.ts';
import type { StepGraph } from './step-graph.ts';

/** ONNX Slice "to the end" bound. */
const END = 2 ** 31 - 1;

function onnxOps(g: OnnxGraphBuilder, p: ParamStore): TensorOps<string> {
  const params = new Map<string, string>();
  return {
    param: (name) => {
      let v = params.get(name);
      if (v === undefined) {
        const trainable = p.trainable.has(name);
        v = g.floatConst(name.replace(/[^a-zA-Z0-9_]/g, '_'), p.read(name), p.get(name).shape, trainable);
        params.set(name, v);
      }
      return v;
    },
    pad: (x, pads) => g.op('Pad', [x, g.int64Const('pads', [...pads.map((q) => q[0]), ...pads.map((q) => q[1])])]),
    slice: (x, begin, size) => {
      const axes = begin.map((_, i) => i);
      return g.slice(x, begin, size.map((s, i) => (s === -1 ? END : begin[i]! + s)), axes);
    },
    add: (a, b) => g.add(a, b),
    mul: (a, b) => g.mul(a, b),
    matMul: (a, b) => g.matMul(a, b),
    relu: (x) => g.op('Relu', [x]),
    sigmoid: (x) => g.op('Sigmoid', [x]),
    reshape: (x, shape) => g.reshape(x, shape),
    concat: (xs, axis) => g.concat(xs, axis),
    transpose: (x, perm) => g.transpose(x, perm),
    mean: (x, axes) => g.op('ReduceMean', [x], { axes, keepdims: 0 }),
  };
}

export function buildUnetStepGraph(p: ParamStore, cfg: UnetConfig): StepGraph {
  const g = new OnnxGraphBuilder('livestem_unet_step');
  const C = cfg.contextFrames;
  const F = cfg.cropBins;
  const mag = g.input('mag', ['batch', 2, cfg.bins]);
  const ctx = g.input('ctx_in', ['batch', C - 1, F, 2]);
  const one = g.floatConst('one', [1], [1], false);
  const logMag = g.op('Log', [g.add(g.slice(mag, [0], [F], [2]), one)]);
  const newest = g.unsqueeze(g.transpose(logMag, [0, 2, 1]), [1]);
  const window = g.concat([ctx, newest], 1);
  g.output('ctx_out', g.slice(window, [1], [C], [1]), ['batch', C - 1, F, 2]);
  const out = unetCore(onnxOps(g, p), cfg, window);
  g.output('mask', out.mask, ['batch', 2, cfg.bins]);
  g.output('vad', g.op('Sigmoid', [out.vadLogit]), ['batch', 1]);
  return {
    bytes: g.toBytes(`short-context U-Net step, C=${C} frames, crop ${F} bins, channels ${cfg.encoderChannels.join('/')}`),
    io: {
      input: { name: 'mag', shape: ['batch', 2, cfg.bins] },
      mask: { name: 'mask', shape: ['batch', 2, cfg.bins] },
      vad: { name: 'vad', shape: ['batch', 1] },
      state: [{ input: 'ctx_in', output: 'ctx_out', shape: ['batch', C - 1, F, 2] }],
    },
  };
}
