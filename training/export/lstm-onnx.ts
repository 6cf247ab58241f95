/**
 * The per-frame ONNX graph of the causal LSTM model (training/model/lstm.ts), in inference mode with BatchNorm
 * folded into the fully connected layers and the recurrence carried by ONNX LSTM operators with explicit state:
 *
 *   input  "mag"        [batch, 2, bins]   → mask "mask" [batch, 2, bins], vad "vad" [batch, 1]
 *   state  "h{l}_in"/"c{l}_in" [1, batch, H] → "h{l}_out"/"c{l}_out" (one pair per layer, zeros at stream start)
 */
import { foldBatchNorm } from '../model/batchnorm.ts';
import type { LstmConfig } from '../model/config.ts';
import type { ParamStore } from '../model/params.ts';
import { OnnxGraphBuilder } from './onnx-graph.ts';
import type { StateSpecOut, StepGraph } from './step-graph.ts';

/** ONNX gate block g (order i, o, f, c) comes from tfjs gate block TFJS_GATE_OF_ONNX[g] (order i, f, c, o). */
const TFJS_GATE_OF_ONNX = [0, 3, 1, 2] as const;

/** tfjs [in, 4H] (gates i,f,c,o along columns) → ONNX [4H, in] (gates i,o,f,c along rows). */
export function tfjsKernelToOnnx(kernel: Float32Array, inSize: number, hidden: number): Float32Array {
  const out = new Float32Array(4 * hidden * inSize);
  for (let g = 0; g < 4; g++) {
    const src = TFJS_GATE_OF_ONNX[g]!;
    for (let j = 0; j < hidden; j++) {
      const row = g * hidden + j;
      const col = src * hidden + j;
      for (let i = 0; i < inSize; i++) out[row * inSize + i] = kernel[i * 4 * hidden + col]!;
    }
  }
  return out;
}

export function tfjsBiasToOnnx(bias: Float32Array, hidden: number): Float32Array {
  // B = [Wb | Rb]; tfjs has a single bias, so it goes to Wb and Rb stays zero.
  const out = new Float32Array(8 * hidden);
  for (let g = 0; g < 4; g++) {
    const src = TFJS_GATE_OF_ONNX[g]!;
    for (let j = 0; j < hidden; j++) out[g * hidden + j] = bias[src * hidden + j]!;
  }
  return out;
}

export function buildLstmStepGraph(p: ParamStore, cfg: LstmConfig): StepGraph {
  const g = new OnnxGraphBuilder('livestem_lstm_step');
  const H = cfg.hiddenSize;
  const crop = cfg.cropBins;
  const bins = cfg.bins;
  const mag = g.input('mag', ['batch', 2, bins]);
  const states: StateSpecOut[] = [];
  const stateInputs: { h: string; c: string }[] = [];
  for (let l = 0; l < cfg.layers; l++) {
    const h = g.input(`h${l}_in`, [1, 'batch', H]);
    const c = g.input(`c${l}_in`, [1, 'batch', H]);
    stateInputs.push({ h, c });
  }

  const cropped = g.reshape(g.slice(mag, [0], [crop], [2]), [0, 2 * crop]);
  const standardised = g.mul(
    g.add(cropped, g.floatConst('inputMean', p.read('inputMean'), [2 * crop], false)),
    g.floatConst('inputScale', p.read('inputScale'), [2 * crop], false),
  );
  const fc1 = foldBatchNorm(p, 'bn1', p.read('fc1.W'), H);
  const e = g.op('Tanh', [g.dense(standardised, fc1.weight, 2 * crop, H, fc1.bias)]);

  let x = e;
  for (let l = 0; l < cfg.layers; l++) {
    const W = g.floatConst(`lstm${l}_W`, tfjsKernelToOnnx(p.read(`lstm${l}.kernel`), H, H), [1, 4 * H, H]);
    const R = g.floatConst(`lstm${l}_R`, tfjsKernelToOnnx(p.read(`lstm${l}.recurrent`), H, H), [1, 4 * H, H]);
    const B = g.floatConst(`lstm${l}_B`, tfjsBiasToOnnx(p.read(`lstm${l}.bias`), H), [1, 8 * H]);
    const { h, c } = stateInputs[l]!;
    const [y, yh, yc] = g.node('LSTM', [g.unsqueeze(x, [0]), W, R, B, '', h, c], { hidden_size: H }, 3);
    g.output(`h${l}_out`, yh!, [1, 'batch', H]);
    g.output(`c${l}_out`, yc!, [1, 'batch', H]);
    states.push({ input: h, output: `h${l}_out`, shape: [1, 'batch', H] });
    states.push({ input: c, output: `c${l}_out`, shape: [1, 'batch', H] });
    // Y is [seq=1, directions=1, batch, H].
    x = g.squeeze(y!, [0, 1]);
  }

  const skip = g.concat([e, x], 1);
  const fc2 = foldBatchNorm(p, 'bn2', p.read('fc2.W'), H);
  const f2 = g.op('Relu', [g.dense(skip, fc2.weight, 2 * H, H, fc2.bias)]);
  const fc3 = foldBatchNorm(p, 'bn3', p.read('fc3.W'), 2 * bins);
  const mask = g.reshape(g.op('Sigmoid', [g.dense(f2, fc3.weight, H, 2 * bins, fc3.bias)]), [0, 2, bins]);
  g.output('mask', mask, ['batch', 2, bins]);
  const V = cfg.vadHidden ?? 0;
  const vadLogit = V > 0
    ? g.dense(g.op('Relu', [g.dense(skip, p.read('vad.W1'), 2 * H, V, p.read('vad.b1'))]), p.read('vad.W2'), V, 1, p.read('vad.b2'))
    : g.dense(x, p.read('vad.W'), H, 1, p.read('vad.b'));
  const vad = g.op('Sigmoid', [vadLogit]);
  g.output('vad', vad, ['batch', 1]);

  return {
    bytes: g.toBytes(`causal Open-Unmix LSTM step, H=${H} x ${cfg.layers}, crop ${crop} bins`),
    io: {
      input: { name: 'mag', shape: ['batch', 2, bins] },
      mask: { name: 'mask', shape: ['batch', 2, bins] },
      vad: { name: 'vad', shape: ['batch', 1] },
      state: states,
    },
  };
}
