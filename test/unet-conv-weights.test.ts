/**
 * The U-Net's weight layouts for ONNX convolutions (training/export/unet-conv-weights.ts), index by index on small
 * cases: tap order, channel padding with zeros, concatenated and frequency-folded inputs and outputs, and the level-0
 * strided conv against a direct depthwise + pointwise computation.
 */
import t from 'tap';
import {
  biasVector,
  binMajorToChannelRows,
  depthwiseKernel,
  foldingSeparableKernel,
  paddedChannels,
  pointwiseKernel,
  unfoldingPointwiseKernel,
  vadFilterFolded,
} from '../training/export/unet-conv-weights.ts';
import { Rng } from '../training/model/rng.ts';

const rng = new Rng(7);
const rand = (n: number): Float32Array => Float32Array.from({ length: n }, () => rng.uniform(-1, 1));

t.test('paddedChannels rounds up to the 16-channel block', async (t) => {
  t.same([1, 8, 16, 17, 24, 32].map(paddedChannels), [16, 16, 16, 32, 32, 32]);
});

t.test('depthwiseKernel: W[c, 0, kt, kf] = tap 3·kt + kf, zero padded channels, phase pairs share taps', async (t) => {
  const taps = Array.from({ length: 9 }, (_, k) => Float32Array.from([k, 10 + k]));
  const w = depthwiseKernel(taps, 4);
  t.same(Array.from(w.subarray(0, 9)), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
  t.same(Array.from(w.subarray(9, 18)), [10, 11, 12, 13, 14, 15, 16, 17, 18]);
  t.same(Array.from(w.subarray(18)), new Array(18).fill(0), 'padded channels are zero');
  const pairs = depthwiseKernel(taps, 4, 'phase-pairs');
  t.same(Array.from(pairs.subarray(9, 18)), Array.from(pairs.subarray(0, 9)), 'channel 0 phase 1 = channel 0 phase 0');
  t.equal(pairs[2 * 9 + 4], 14, 'channel 1 phase 0 has channel 1 taps');
  t.throws(() => depthwiseKernel(taps, 3, 'phase-pairs'), RangeError);
});

t.test('pointwiseKernel: [in, out] → [outPadded, Σ padded], segments, pair averages and folded outputs', async (t) => {
  // Two plain segments: 2 real channels in 3 slots, then 1 real channel in 2 slots; 2 outputs padded to 3.
  const w = Float32Array.from([1, 2, 3, 4, 5, 6]); // rows = input channels 0..2, columns = outputs 0..1
  const k = pointwiseKernel(w, [{ channels: 2, padded: 3 }, { channels: 1, padded: 2 }], 2, 3);
  t.same(Array.from(k), [1, 3, 0, 5, 0, 2, 4, 0, 6, 0, 0, 0, 0, 0, 0]);
  // A phase-pairs input read as its pair average: each phase gets half the weight.
  const avg = pointwiseKernel(Float32Array.from([4]), [{ channels: 1, padded: 2, layout: 'phase-pairs' }], 1, 1);
  t.same(Array.from(avg), [2, 2]);
  // Folded outputs: a plain input feeds both phases, a phase-pairs input only its own phase.
  const folded = pointwiseKernel(Float32Array.from([3, 5]), [{ channels: 1, padded: 1 }, { channels: 1, padded: 2, layout: 'phase-pairs' }], 1, 2, true);
  t.same(Array.from(folded), [3, 5, 0, 3, 0, 5]);
  t.throws(() => pointwiseKernel(w, [{ channels: 3, padded: 3 }], 3, 3), RangeError, 'wrong weight size');
});

t.test('biasVector and binMajorToChannelRows', async (t) => {
  t.same(Array.from(biasVector(Float32Array.from([1, 2]), 4)), [1, 2, 0, 0]);
  t.same(Array.from(biasVector(Float32Array.from([1, 2]), 5, true)), [1, 1, 2, 2, 0]);
  t.same(Array.from(binMajorToChannelRows(Float32Array.from([1, 2, 3, 4, 5, 6]), 3)), [1, 3, 5, 2, 4, 6]);
});

t.test('foldingSeparableKernel: the strided [3, 4] conv equals depthwise 3×3 + pointwise, bin by bin', async (t) => {
  const inCh = 2;
  const outCh = 3;
  const T = 4;
  const F = 10;
  const taps = Array.from({ length: 9 }, () => rand(inCh));
  const pw = rand(inCh * outCh);
  const x = rand(inCh * T * F); // [in, T, F]
  const at = (c: number, r: number, f: number): number => (r < 0 || r >= T || f < 0 || f >= F ? 0 : x[(c * T + r) * F + f]!);
  const padded = paddedChannels(2 * outCh);
  const w = foldingSeparableKernel(taps, pw, outCh, padded);
  let worst = 0;
  for (let o = 0; o < outCh; o++) {
    for (let r = 0; r < T; r++) {
      for (let f = 0; f < F; f++) {
        let direct = 0;
        for (let i = 0; i < inCh; i++) {
          let dw = 0;
          for (let dt = -1; dt <= 1; dt++) for (let df = -1; df <= 1; df++) dw += taps[(dt + 1) * 3 + df + 1]![i]! * at(i, r + dt, f + df);
          direct += pw[i * outCh + o]! * dw;
        }
        // ONNX Conv, strides [1, 2], pads 1 on every side: output (o·2 + φ, r, j) with f = 2j + φ.
        const j = Math.floor(f / 2);
        const phi = f % 2;
        let conv = 0;
        for (let i = 0; i < inCh; i++) {
          for (let kt = 0; kt < 3; kt++) for (let kf = 0; kf < 4; kf++) conv += w[(((o * 2 + phi) * inCh + i) * 3 + kt) * 4 + kf]! * at(i, r + kt - 1, 2 * j + kf - 1);
        }
        worst = Math.max(worst, Math.abs(direct - conv));
      }
    }
  }
  t.ok(worst < 1e-6, `max |direct − folded conv| = ${worst}`);
  t.same(Array.from(w.subarray(2 * outCh * inCh * 12)), new Array((padded - 2 * outCh) * inCh * 12).fill(0), 'padded outputs are zero');
});

t.test('unfoldingPointwiseKernel and vadFilterFolded put bin 2j + φ of channel c at (c·2 + φ, j)', async (t) => {
  const w = Float32Array.from([1, 2, 3, 4]); // [c = 2, out = 2]
  const k = unfoldingPointwiseKernel(w, 2, 5, 2); // [padded 5, out 2, 1, 2]
  // ConvTranspose: input channel (c, φ) writes output bin 2j + φ (kernel column φ) with weight w[c, out].
  t.same(Array.from(k.subarray(0, 8)), [1, 0, 2, 0, 0, 1, 0, 2]);
  t.same(Array.from(k.subarray(8, 16)), [3, 0, 4, 0, 0, 3, 0, 4]);
  t.same(Array.from(k.subarray(16)), [0, 0, 0, 0]);
  // VAD filter [F = 4, c = 2] bin-major (f·2 + c) → folded channel-major ((c·2 + φ)·2 + j).
  const vad = vadFilterFolded(Float32Array.from([0, 1, 2, 3, 4, 5, 6, 7]), 4, 2, 5);
  t.same(Array.from(vad), [0, 4, 2, 6, 1, 5, 3, 7, 0, 0]);
});
