/**
 * The U-Net's trained weights (training/model/unet-core.ts layout: channels-last [N, T, F, c], per-tap depthwise
 * vectors, [in, out] pointwise matrices) rearranged for ONNX convolutions in NCHW = [N, c, T, F], with every feature
 * map's channel count padded up to a multiple of CHANNEL_BLOCK by zero weights. Pure array code, so the layout rules
 * are tested on their own and the graph builder only wires operators.
 *
 * Why pad: ONNX Runtime runs convolutions and pooling in a blocked layout (NCHWc, 16 channels per block with AVX-512,
 * 8 with AVX2) and only keeps a map in it between operators when its channel count is a multiple of the block;
 * otherwise it reorders the map to NCHW and back around every pooling, which costs more than the convolutions here.
 * Padded channels have zero weights and zero bias, so they stay exactly 0 through Relu, pooling and upsampling, and
 * the layers reading them give them zero weights: the function computed is unchanged.
 */

export const CHANNEL_BLOCK = 16;

/**
 * Frequency folding (level 0's maps only): a map [c, T, F] is stored as [2c, T, F/2] with bin f = 2j + φ in channel
 * c·2 + φ at position j. Level 0 has the largest map and only 2 input channels; folded, its convolution writes 16
 * real channels instead of 8 padded to 16, the 2×2 pooling becomes a time-only pooling plus an average over the
 * phase pair (folded into the next layer's weights), and the decoder's last ×2 upsampling disappears.
 */
export type SegmentLayout = 'plain' | 'phase-pairs';

export function paddedChannels(channels: number): number {
  return Math.ceil(channels / CHANNEL_BLOCK) * CHANNEL_BLOCK;
}

/** Part of a concatenated input: `channels` real channels stored in `padded` slots. */
export interface ChannelSegment {
  channels: number;
  padded: number;
  /** 'phase-pairs': the map is frequency-folded and holds 2·channels channels (c·2 + φ). Default 'plain'. */
  layout?: SegmentLayout;
}

function stored(s: ChannelSegment): number {
  return s.layout === 'phase-pairs' ? 2 * s.channels : s.channels;
}

/**
 * The 9 per-tap vectors `${name}.dw{tap}` (tap = 3·(time offset + 1) + freq offset + 1), each [c]
 * → grouped Conv W [padded, 1, 3, 3]. On a phase-pairs map each channel's taps serve both of its phases: the
 * depthwise conv of the pair average (what unet-core pools to) is the pair average of the depthwise convs.
 */
export function depthwiseKernel(taps: readonly Float32Array[], padded: number, layout: SegmentLayout = 'plain'): Float32Array {
  if (taps.length !== 9) throw new RangeError(`depthwise kernel needs 9 taps, got ${taps.length}`);
  const channels = taps[0]!.length;
  const copies = layout === 'phase-pairs' ? 2 : 1;
  if (padded < copies * channels) throw new RangeError(`cannot pad ${copies * channels} channels into ${padded}`);
  const out = new Float32Array(padded * 9);
  // ONNX Conv is a cross-correlation with kernel index k ↔ offset (k − 1)·dilation: the same tap order as unet-core.
  taps.forEach((tap, k) => {
    if (tap.length !== channels) throw new RangeError(`tap ${k} has ${tap.length} channels, expected ${channels}`);
    for (let c = 0; c < channels * copies; c++) out[c * 9 + k] = tap[Math.floor(c / copies)]!;
  });
  return out;
}

/**
 * Pointwise [in, out] (x·W) over an input concatenated from `segments` → 1×1 Conv W [outPadded, Σ padded, 1, 1];
 * row r of W belongs to the segment whose real channels cover r, in order.
 * Plain outputs (outFolded false): a phase-pairs segment is read as its pair average (weights w/2 on both phases).
 * Folded outputs (o·2 + φ, outFolded true): a plain input channel feeds both phases of every output (it is constant
 * across each bin pair: an upsampled map), a phase-pairs channel (c, ψ) only the outputs of its own phase ψ.
 */
export function pointwiseKernel(
  w: Float32Array,
  segments: readonly ChannelSegment[],
  outCh: number,
  outPadded: number,
  outFolded = false,
): Float32Array {
  const inCh = segments.reduce((a, s) => a + s.channels, 0);
  const inPadded = segments.reduce((a, s) => a + s.padded, 0);
  const outPhases = outFolded ? 2 : 1;
  if (w.length !== inCh * outCh) throw new RangeError(`pointwise weight has ${w.length} values, expected ${inCh}×${outCh}`);
  if (outPadded < outPhases * outCh) throw new RangeError(`cannot pad ${outPhases * outCh} output channels into ${outPadded}`);
  const out = new Float32Array(outPadded * inPadded);
  let row = 0;
  let slot = 0;
  for (const s of segments) {
    if (stored(s) > s.padded) throw new RangeError(`segment of ${stored(s)} channels does not fit ${s.padded} slots`);
    const inPhases = s.layout === 'phase-pairs' ? 2 : 1;
    for (let i = 0; i < s.channels; i++) {
      for (let o = 0; o < outCh; o++) {
        const v = w[(row + i) * outCh + o]!;
        for (let psi = 0; psi < inPhases; psi++) {
          for (let phi = 0; phi < outPhases; phi++) {
            if (outFolded && inPhases === 2 && psi !== phi) continue;
            const weight = !outFolded && inPhases === 2 ? v / 2 : v;
            out[(o * outPhases + phi) * inPadded + slot + i * inPhases + psi] = weight;
          }
        }
      }
    }
    row += s.channels;
    slot += s.padded;
  }
  return out;
}

/**
 * Level 0: depthwise 3×3 followed by pointwise [in, out] as ONE dense Conv that writes the folded map straight
 * from the unfolded window: kernel [3, 4], strides [1, 2], pads [1, 1, 1, 1] → W [outPadded, in, 3, 4], output
 * channel o·2 + φ. Output position j reads bins 2j − 1 … 2j + 2, so kernel column k_f is the unfolded frequency
 * offset δ = k_f − 1 − φ of output bin 2j + φ; columns with |δ| > 1 are zero. Unfolded, the composition is
 * W[o, i, k] = pw[i, o]·dw_k[i] (both linear, nothing between them): exact up to float rounding.
 */
export function foldingSeparableKernel(taps: readonly Float32Array[], pw: Float32Array, outCh: number, outPadded: number): Float32Array {
  const inCh = taps[0]?.length ?? 0;
  const dw = depthwiseKernel(taps, inCh);
  if (pw.length !== inCh * outCh) throw new RangeError(`pointwise weight has ${pw.length} values, expected ${inCh}×${outCh}`);
  if (outPadded < 2 * outCh) throw new RangeError(`cannot pad ${2 * outCh} output channels into ${outPadded}`);
  const out = new Float32Array(outPadded * inCh * 12);
  for (let o = 0; o < outCh; o++) {
    for (let phi = 0; phi < 2; phi++) {
      for (let i = 0; i < inCh; i++) {
        for (let kt = 0; kt < 3; kt++) {
          for (let kf = 0; kf < 4; kf++) {
            const delta = kf - 1 - phi;
            if (Math.abs(delta) > 1) continue;
            out[(((o * 2 + phi) * inCh + i) * 3 + kt) * 4 + kf] = pw[i * outCh + o]! * dw[i * 9 + kt * 3 + delta + 1]!;
          }
        }
      }
    }
  }
  return out;
}

/**
 * The output layer on the folded last decoder map, unfolding as it goes: pointwise [c, out] as a ConvTranspose
 * with kernel [1, 2] and strides [1, 2] → W [padded, out, 1, 2]; output bin 2j + φ takes only phase φ's channels.
 */
export function unfoldingPointwiseKernel(w: Float32Array, channels: number, padded: number, outCh: number): Float32Array {
  if (w.length !== channels * outCh) throw new RangeError(`pointwise weight has ${w.length} values, expected ${channels}×${outCh}`);
  if (padded < 2 * channels) throw new RangeError(`cannot fold ${channels} channels into ${padded}`);
  const out = new Float32Array(padded * outCh * 2);
  for (let c = 0; c < channels; c++) {
    for (let phi = 0; phi < 2; phi++) for (let k = 0; k < outCh; k++) out[((c * 2 + phi) * outCh + k) * 2 + phi] = w[c * outCh + k]!;
  }
  return out;
}

/** A per-(bin, channel) vector stored [F, 2] → [2, 1, F], broadcastable over the window [N, 2, T, F]. */
export function binMajorToChannelRows(v: Float32Array, bins: number): Float32Array {
  if (v.length !== 2 * bins) throw new RangeError(`expected ${2 * bins} values, got ${v.length}`);
  const out = new Float32Array(2 * bins);
  for (let f = 0; f < bins; f++) for (let c = 0; c < 2; c++) out[c * bins + f] = v[f * 2 + c]!;
  return out;
}

/** A dense layer [c, out] reading a GlobalAveragePool of `padded` channels → [padded, out] (zero rows). */
export function padRows(w: Float32Array, rows: number, cols: number, paddedRows: number): Float32Array {
  if (w.length !== rows * cols) throw new RangeError(`matrix has ${w.length} values, expected ${rows}×${cols}`);
  const out = new Float32Array(paddedRows * cols);
  out.set(w);
  return out;
}

/**
 * The VAD filter reads the last decoder map flattened bin-major (f·c + ch, from [N, F, c]); the conv graph's last
 * decoder map is frequency-folded [N, padded, 1, F/2], flattened (ch·2 + φ)·F/2 + j with f = 2j + φ. Same weights,
 * rows permuted, zero rows for padded channels: [F·c, 1] → [padded·F/2, 1].
 */
export function vadFilterFolded(w: Float32Array, bins: number, channels: number, padded: number): Float32Array {
  if (w.length !== bins * channels) throw new RangeError(`VAD filter has ${w.length} values, expected ${bins}×${channels}`);
  if (padded < 2 * channels || bins % 2 !== 0) throw new RangeError(`cannot fold ${channels} channels × ${bins} bins into ${padded} channels`);
  const half = bins / 2;
  const out = new Float32Array(padded * half);
  for (let f = 0; f < bins; f++) {
    for (let c = 0; c < channels; c++) out[(c * 2 + (f % 2)) * half + Math.floor(f / 2)] = w[f * channels + c]!;
  }
  return out;
}

/** A bias [c] for a layer with `outFolded` outputs (o·2 + φ share b[o]), zero-padded to [padded]. */
export function biasVector(b: Float32Array, padded: number, outFolded = false): Float32Array {
  const phases = outFolded ? 2 : 1;
  if (padded < phases * b.length) throw new RangeError(`cannot pad ${phases * b.length} values into ${padded}`);
  const out = new Float32Array(padded);
  for (let o = 0; o < b.length; o++) for (let phi = 0; phi < phases; phi++) out[o * phases + phi] = b[o]!;
  return out;
}
