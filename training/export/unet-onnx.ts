/**
 * The per-frame ONNX graph of the U-Net (training/model/unet-core.ts) as ONNX Runtime's own convolution kernels,
 * NCHW = [N, channels, time, freq]: depthwise 3×3 = grouped Conv, pointwise = 1×1 Conv with bias (+ Relu, which ORT
 * fuses), 2×2 average pooling = AveragePool, ASPP branches = grouped Convs dilated in frequency, ×2 frequency
 * upsampling = Resize (nearest), the pooled high-band head and the VAD filter = Gemm. Weights are initializers in
 * the layouts of unet-conv-weights.ts: channels padded to ORT's block size, level 0's maps frequency-folded (its
 * depthwise + pointwise pair is one Conv strided in frequency; the mask layer unfolds with a ConvTranspose). The
 * first export emitted every tap as Slice + Mul + Add — 253 nodes, ~1.1 ms per step; this graph computes the same
 * function with 57 (max |difference| ~1e-6, float rounding).
 *
 *   input "mag" [batch, 2, bins] → log(1 + |X|)·inputScale of the cropped bins, [batch, 2, 1, F]
 *   state "ctx_in" [batch, 2, C − 1, F]: the previous C − 1 frames of that (zeros at stream start = silence)
 *     ++ newest frame → window [batch, 2, C, F];  state "ctx_out" = window without its oldest frame
 *   outputs "mask" [batch, 2, bins], "vad" [batch, 1]
 *
 * The window is recomputed whole each frame: its 'same' zero padding sits at the window's edges and its 2×2 pooling
 * pairs frames relative to the window start, so intermediate rows are not reusable across frames.
 */
import type { UnetConfig } from '../model/config.ts';
import type { ParamStore } from '../model/params.ts';
import { OnnxGraphBuilder } from './onnx-graph.ts';
import type { StepGraph } from './step-graph.ts';
import {
  biasVector,
  binMajorToChannelRows,
  depthwiseKernel,
  foldingSeparableKernel,
  padRows,
  paddedChannels,
  pointwiseKernel,
  unfoldingPointwiseKernel,
  vadFilterFolded,
  type ChannelSegment,
} from './unet-conv-weights.ts';

/**
 * Streams per ORT call. Measured on the shipped shape (one ORT thread, Xeon with AVX-512): CPU per stream-step is
 * lowest from 4 to 16 streams (~100 µs) and rises to ~110 at 64 and ~130 at 128, when a call's activations
 * (the level-0 map alone is ~0.2 MB per stream) no longer fit the caches.
 */
const MAX_BATCH_PER_RUN = 16;

function taps(p: ParamStore, name: string): Float32Array[] {
  return Array.from({ length: 9 }, (_, k) => p.read(`${name}.dw${k}`));
}

/** A feature map in the graph: its value name, real / padded channel counts and layout. */
interface FeatureMap extends ChannelSegment {
  value: string;
}

/** Builds the conv graph's nodes against one builder; `p` holds unet-core's parameters. */
class UnetConvGraph {
  constructor(
    private readonly g: OnnxGraphBuilder,
    private readonly p: ParamStore,
  ) {}

  /** Depthwise 3×3, 'same' zero padding, dilation (1, df) — unet-core's `depthwise`. */
  depthwise(x: FeatureMap, name: string, df: number): FeatureMap {
    const w = this.g.floatConst(`${name}_dw`, depthwiseKernel(taps(this.p, name), x.padded, x.layout), [x.padded, 1, 3, 3]);
    const value = this.g.op('Conv', [x.value, w], { group: x.padded, kernel_shape: [3, 3], pads: [1, df, 1, df], dilations: [1, df] });
    return { ...x, value };
  }

  /** 1×1 conv with bias and Relu over the channel-concatenation of `xs` — unet-core's `relu(pointwise(concat))`. */
  pointwiseRelu(xs: FeatureMap[], name: string, outCh: number, outFolded = false): FeatureMap {
    const padded = paddedChannels(outFolded ? 2 * outCh : outCh);
    const inPadded = xs.reduce((a, x) => a + x.padded, 0);
    const w = pointwiseKernel(this.p.read(`${name}.pw`), xs, outCh, padded, outFolded);
    const weight = this.g.floatConst(`${name}_pw`, w, [padded, inPadded, 1, 1]);
    const bias = this.g.floatConst(`${name}_b`, biasVector(this.p.read(`${name}.b`), padded, outFolded), [padded]);
    const input = xs.length === 1 ? xs[0]!.value : this.g.concat(xs.map((x) => x.value), 1);
    const value = this.g.op('Relu', [this.g.op('Conv', [input, weight, bias], { kernel_shape: [1, 1] })]);
    return { value, channels: outCh, padded, layout: outFolded ? 'phase-pairs' : 'plain' };
  }

  /**
   * Encoder level 0: depthwise + pointwise + Relu as one dense Conv, strided in frequency so it writes the folded
   * map; `pads` [top, left, bottom, right].
   */
  level0(x: string, outCh: number, pads: number[]): FeatureMap {
    const padded = paddedChannels(2 * outCh);
    const w = foldingSeparableKernel(taps(this.p, 'enc0'), this.p.read('enc0.pw'), outCh, padded);
    const weight = this.g.floatConst('enc0_dense', w, [padded, 2, 3, 4]);
    const bias = this.g.floatConst('enc0_b', biasVector(this.p.read('enc0.b'), padded, true), [padded]);
    const value = this.g.op('Relu', [this.g.op('Conv', [x, weight, bias], { kernel_shape: [3, 4], strides: [1, 2], pads })]);
    return { value, channels: outCh, padded, layout: 'phase-pairs' };
  }

  /** unet-core's 2×2 average pooling; on a folded map only the time half (the bin pair is averaged by the reader). */
  pool2x2(x: FeatureMap): FeatureMap {
    const kernel = x.layout === 'phase-pairs' ? [2, 1] : [2, 2];
    return { ...x, value: this.g.op('AveragePool', [x.value], { kernel_shape: kernel, strides: kernel }) };
  }

  /**
   * The last time row of [N, c, T, F] as [N, c, 1, F]. Taken by a depthwise Conv whose [T, 1] kernel is one-hot on
   * the last frame (exact: the other frames add 0·x = 0) rather than a Slice, because ORT keeps a Conv's input in
   * its blocked layout but converts the whole map back to NCHW for a Slice.
   */
  newestRow(x: FeatureMap, frames: number): FeatureMap {
    const w = new Float32Array(x.padded * frames);
    for (let c = 0; c < x.padded; c++) w[c * frames + frames - 1] = 1;
    const kernel = this.g.floatConst('newest_row', w, [x.padded, 1, frames, 1], false);
    return { ...x, value: this.g.op('Conv', [x.value, kernel], { group: x.padded, kernel_shape: [frames, 1] }) };
  }

  /** [N, c, 1, F] → [N, c, 1, 2F], each bin repeated (floor(x_out / 2) is exactly "repeat"). */
  upsampleFreq(x: FeatureMap): FeatureMap {
    const scales = this.g.floatConst('up_scales', [1, 1, 1, 2], [4], false);
    const value = this.g.op('Resize', [x.value, '', scales], { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' });
    return { ...x, value };
  }

  /** x [N, inSize] · W [inSize, outSize] + b → sigmoid. */
  denseSigmoid(x: string, w: Float32Array, b: Float32Array, inSize: number, outSize: number, name: string): string {
    const weight = this.g.floatConst(`${name}_W`, w, [inSize, outSize]);
    const bias = this.g.floatConst(`${name}_b`, b, [outSize]);
    return this.g.op('Sigmoid', [this.g.op('Gemm', [x, weight, bias])]);
  }
}

export function buildUnetStepGraph(p: ParamStore, cfg: UnetConfig): StepGraph {
  const g = new OnnxGraphBuilder('livestem_unet_step');
  const n = new UnetConvGraph(g, p);
  const C = cfg.contextFrames;
  const chans = cfg.encoderChannels;
  const crop = cfg.cropBins;
  const mag = g.input('mag', ['batch', 2, cfg.bins]);
  const ctxShape: ['batch', number, number, number] = ['batch', 2, C - 1, crop];
  const ctx = g.input('ctx_in', ctxShape);
  const one = g.floatConst('one', [1], [1], false);
  // The state holds log(1 + |X|)·inputScale, zero for silence like the raw features, so adding the standardised
  // silence (inputMean·inputScale) standardises the window with one Add instead of an Add and a Mul over C frames.
  const scaleRows = binMajorToChannelRows(p.read('inputScale'), crop);
  const silence = binMajorToChannelRows(p.read('inputMean'), crop).map((m, i) => m * scaleRows[i]!);
  const scale = g.floatConst('inputScale', scaleRows, [2, crop], false);
  const features = g.mul(g.op('Log', [g.add(g.slice(mag, [0], [crop], [2]), one)]), scale);
  const window = g.concat([ctx, g.unsqueeze(features, [2])], 2);
  g.output('ctx_out', g.slice(window, [1], [C], [2]), ctxShape);
  const standardised = g.add(window, g.floatConst('standardisedSilence', silence, [2, 1, crop], false));
  // Level 0's newest row needs only the window's last two rows (and the zero row below them): computing it apart
  // keeps the full level-0 map in ORT's blocked layout instead of reordering all of it for one row.
  let x = n.level0(standardised, chans[0]!, [1, 1, 1, 1]);
  const skips: FeatureMap[] = [n.level0(g.slice(standardised, [C - 2], [C], [2]), chans[0]!, [0, 1, 1, 1])];
  let T = C;
  for (let level = 1; level < chans.length; level++) {
    x = n.pool2x2(x);
    T /= 2;
    x = n.pointwiseRelu([n.depthwise(x, `enc${level}`, 1)], `enc${level}`, chans[level]!);
    skips.push(n.newestRow(x, T));
  }
  x = n.pool2x2(x);
  T /= 2;
  const bottleneck = x;
  x = n.pointwiseRelu([x, ...cfg.asppDilations.map((d, i) => n.depthwise(bottleneck, `aspp${i}`, d))], 'aspp', bottleneck.channels);

  const high = cfg.bins - crop;
  const pooled = g.reshape(g.op('GlobalAveragePool', [x.value]), [0, x.padded]);
  const highW = padRows(p.read('high.W'), x.channels, 2 * high, x.padded);
  const highMask = g.reshape(n.denseSigmoid(pooled, highW, p.read('high.b'), x.padded, 2 * high, 'high'), [0, 2, high]);

  let d = n.newestRow(x, T);
  for (let level = chans.length - 1; level >= 1; level--) d = n.pointwiseRelu([n.upsampleFreq(d), skips[level]!], `dec${level}`, chans[level]!);
  // Level 0 writes the folded map directly: the upsampled d is constant across each bin pair, so no Resize.
  d = n.pointwiseRelu([d, skips[0]!], 'dec0', chans[0]!, true);
  const outW = g.floatConst('out_pw', unfoldingPointwiseKernel(p.read('out.pw'), d.channels, d.padded, 2), [d.padded, 2, 1, 2]);
  const outB = g.floatConst('out_b', p.read('out.b'), [2]);
  const lowMap = g.op('ConvTranspose', [d.value, outW, outB], { kernel_shape: [1, 2], strides: [1, 2] });
  const low = g.reshape(g.op('Sigmoid', [lowMap]), [0, 2, crop]);
  g.output('mask', g.concat([low, highMask], 2), ['batch', 2, cfg.bins]);
  const vadW = vadFilterFolded(p.read('vad.W'), crop, d.channels, d.padded);
  const vad = n.denseSigmoid(g.reshape(d.value, [0, (d.padded * crop) / 2]), vadW, p.read('vad.b'), (d.padded * crop) / 2, 1, 'vad');
  g.output('vad', vad, ['batch', 1]);
  return {
    bytes: g.toBytes(`short-context U-Net step (ORT conv kernels), C=${C} frames, crop ${crop} bins, channels ${chans.join('/')}`),
    io: {
      input: { name: 'mag', shape: ['batch', 2, cfg.bins] },
      mask: { name: 'mask', shape: ['batch', 2, cfg.bins] },
      vad: { name: 'vad', shape: ['batch', 1] },
      state: [{ input: 'ctx_in', output: 'ctx_out', shape: ctxShape }],
    },
    maxBatchPerRun: MAX_BATCH_PER_RUN,
  };
}
