/**
 * The LSTM recurrence as two wasm-backend kernels (forward, backward) behind one tf.customGrad op.
 *
 * Unrolled with tfjs ops, every time step of every layer costs ~70 kernel launches in a training step (gate ops,
 * their gradients, the clones the tape saves, casts in Multiply's gradient), each with ~15 µs of fixed overhead. Here
 * a step is one XNNPACK matMul (h·R forward, dz·Rᵀ backward) plus JS loops over the wasm heap; the only
 * transcendentals are the gate sigmoids (XNNPACK's, one call over the i/f/o blocks) and tanh by a rational
 * approximation accurate to a few float32 ulps (Math.tanh is 4× slower, wasm's Tanh kernel 10×). The backward pass
 * reuses the saved activations, so it has no transcendentals at all, and the recurrent-weight gradient becomes one
 * [H, T·B]·[T·B, 4H] product after the loop.
 *
 * Same math as lstm.ts's reference cell (tfjs/ONNX layout: gate blocks i, f, c, o; sigmoid gates, tanh cell).
 */
import * as tf from '@tensorflow/tfjs';
import { free, heapF32, rawWasmKernel, registerWasmKernel, type TensorInfoLike } from './wasm-kernel-util.ts';

const FORWARD = 'LivestemLstmForward';
const BACKWARD = 'LivestemLstmBackward';

// Rational minimax tanh on [−7.9, 7.9] (Eigen's float tanh coefficients), evaluated in double: max relative error
// ~3 float32 ulps. Outside that range Math.tanh keeps the saturated tail exact.
const A1 = 4.89352455891786e-3;
const A3 = 6.37261928875436e-4;
const A5 = 1.48572235717979e-5;
const A7 = 5.12229709037114e-8;
const A9 = -8.60467152213735e-11;
const A11 = 2.00018790482477e-13;
const A13 = -2.76076847742355e-16;
const B0 = 4.89352518554385e-3;
const B2 = 2.268434632439e-3;
const B4 = 1.18534705686654e-4;
const B6 = 1.19825839466702e-6;

export function fastTanh(x: number): number {
  if (x > 7.9 || x < -7.9) return Math.tanh(x);
  const x2 = x * x;
  const p = x * (A1 + x2 * (A3 + x2 * (A5 + x2 * (A7 + x2 * (A9 + x2 * (A11 + x2 * A13))))));
  return p / (B0 + x2 * (B2 + x2 * (B4 + x2 * B6)));
}

let installed = false;

/** Registers the kernels on the wasm backend (call with wasm active); other backends keep the op-by-op cell. */
export function installFusedLstm(): void {
  if (installed || tf.getBackend() !== 'wasm') return;
  installed = true;
  const matMul = rawWasmKernel(tf.BatchMatMul);
  const sigmoid = rawWasmKernel(tf.Sigmoid);
  const plain = { transposeA: false, transposeB: false };

  // Inputs xz [T, B, 4H] (x·K + b), recurrent [H, 4H], h0, c0 [B, H]. Outputs: out [T + 1, B, H] (h per step, then
  // the final c), and for the backward pass the activated gates, cells c [T, B, H] and tanh(c) [T, B, H]. Per step
  // the gates are stored as the sigmoid output [B, 3H] (i, f, o: copied whole) followed by g = tanh(z_c) [B, H].
  registerWasmKernel(FORWARD, ({ inputs, backend }) => {
    const { xz, recurrent, h0, c0 } = inputs as Record<'xz' | 'recurrent' | 'h0' | 'c0', TensorInfoLike>;
    const [T, B, G] = xz.shape as [number, number, number];
    const H = G / 4;
    const BH = B * H;
    const out = backend.makeOutput([T + 1, B, H], 'float32');
    const gates = backend.makeOutput([T, B, G], 'float32');
    const cells = backend.makeOutput([T, B, H], 'float32');
    const tanhs = backend.makeOutput([T, B, H], 'float32');
    const hBuf = backend.makeOutput([B, H], 'float32');
    const sIn = backend.makeOutput([B, 3 * H], 'float32');
    for (let t = 0; t < T; t++) {
      const mm = matMul(backend, { a: t === 0 ? h0 : hBuf, b: recurrent }, plain);
      const xzv = heapF32(backend, xz);
      const mmv = heapF32(backend, mm);
      const sv = heapF32(backend, sIn);
      let gv = heapF32(backend, gates);
      const gOff = t * B * G + 3 * BH;
      // Pre-activations: i, f, o packed into sIn for one sigmoid call; the c block goes through tanh here.
      for (let b = 0; b < B; b++) {
        const xo = t * B * G + b * G;
        const mo = b * G;
        const so = b * 3 * H;
        for (let j = 0; j < H; j++) {
          sv[so + j] = xzv[xo + j]! + mmv[mo + j]!;
          sv[so + H + j] = xzv[xo + H + j]! + mmv[mo + H + j]!;
          sv[so + 2 * H + j] = xzv[xo + 3 * H + j]! + mmv[mo + 3 * H + j]!;
          gv[gOff + b * H + j] = fastTanh(xzv[xo + 2 * H + j]! + mmv[mo + 2 * H + j]!);
        }
      }
      free(backend, mm);
      const s = sigmoid(backend, { x: sIn });
      const act = heapF32(backend, s);
      gv = heapF32(backend, gates);
      const cv = heapF32(backend, cells);
      const tv = heapF32(backend, tanhs);
      const ov = heapF32(backend, out);
      const hv = heapF32(backend, hBuf);
      const cPrev = t === 0 ? heapF32(backend, c0) : cv.subarray((t - 1) * BH, t * BH);
      for (let b = 0; b < B; b++) {
        const so = b * 3 * H;
        for (let j = 0; j < H; j++) {
          const k = b * H + j;
          const i = act[so + j]!;
          const f = act[so + H + j]!;
          const o = act[so + 2 * H + j]!;
          const g = gv[gOff + k]!;
          const at = t * BH + k;
          cv[at] = f * cPrev[k]! + i * g;
          // tanh of the stored (float32) cell, so the backward pass sees exactly the values used here.
          const tc = fastTanh(cv[at]!);
          tv[at] = tc;
          const h = o * tc;
          ov[at] = h;
          hv[k] = h;
        }
      }
      gv.set(act, t * B * G);
      free(backend, s);
    }
    heapF32(backend, out).set(heapF32(backend, cells).subarray((T - 1) * BH, T * BH), T * BH);
    free(backend, hBuf);
    free(backend, sIn);
    return [out, gates, cells, tanhs];
  });

  // Inputs dOut [T + 1, B, H] (gradient of `out`), recurrentT [4H, H], the saved gates/cells/tanhs and c0.
  // Outputs dxz [T, B, 4H], dh0 and dc0 [B, H].
  registerWasmKernel(BACKWARD, ({ inputs, backend }) => {
    const { dOut, recurrentT, gates, cells, tanhs, c0 } = inputs as Record<
      'dOut' | 'recurrentT' | 'gates' | 'cells' | 'tanhs' | 'c0',
      TensorInfoLike
    >;
    const [T, B, G] = gates.shape as [number, number, number];
    const H = G / 4;
    const BH = B * H;
    const dxz = backend.makeOutput([T, B, G], 'float32');
    const dzBuf = backend.makeOutput([B, G], 'float32');
    const dc0 = backend.makeOutput([B, H], 'float32');
    // dL/dc carried back through the forget gate; starts as the gradient of the final cell state.
    const dcRec = heapF32(backend, dOut).slice(T * BH, (T + 1) * BH);
    let dhRec: TensorInfoLike | undefined;
    for (let t = T - 1; t >= 0; t--) {
      const dyv = heapF32(backend, dOut);
      const gv = heapF32(backend, gates);
      const cv = heapF32(backend, cells);
      const tv = heapF32(backend, tanhs);
      const cPrev = t === 0 ? heapF32(backend, c0) : cv.subarray((t - 1) * BH, t * BH);
      const dv = heapF32(backend, dxz);
      const zb = heapF32(backend, dzBuf);
      const rv = dhRec === undefined ? undefined : heapF32(backend, dhRec);
      const gOff = t * B * G + 3 * BH;
      for (let b = 0; b < B; b++) {
        const so = t * B * G + b * 3 * H;
        const zo = b * G;
        for (let j = 0; j < H; j++) {
          const k = b * H + j;
          const at = t * BH + k;
          const dh = rv === undefined ? dyv[at]! : dyv[at]! + rv[k]!;
          const i = gv[so + j]!;
          const f = gv[so + H + j]!;
          const o = gv[so + 2 * H + j]!;
          const g = gv[gOff + k]!;
          const tc = tv[at]!;
           const dc = dcRec[k]! + dh * o * (1 - tc * tc);
          const dzi = dc * g * i * (1 - i);
          const dzf = dc * cPrev[k]! * f * (1 - f);
          const dzg = dc * i * (1 - g * g);
          const dzo = dh * tc * o * (1 - o);
          dcRec[k] = dc * f;
          zb[zo + j] = dzi;
          zb[zo + H + j] = dzf;
          zb[zo + 2 * H + j] = dzg;
          zb[zo + 3 * H + j] = dzo;
        }
      }
      dv.set(zb, t * B * G);
      if (dhRec !== undefined) free(backend, dhRec);
      dhRec = matMul(backend, { a: dzBuf, b: recurrentT }, plain);
    }
    heapF32(backend, dc0).set(dcRec);
    free(backend, dzBuf);
    const dh0 = dhRec!;
    dh0.shape = [B, H];
    return [dxz, dh0, dc0];
  });
}

export function fusedLstmAvailable(): boolean {
  return installed && tf.getBackend() === 'wasm';
}

const runKernel = (name: string, inputs: tf.NamedTensorMap): tf.Tensor[] =>
  tf.engine().runKernel(name, inputs, {}) as tf.Tensor[];

/**
 * One LSTM layer over time-major rows x [T·B, In] (row t·B + b) from state (h0, c0): returns [T + 1, B, H], the
 * outputs h_1..h_T followed by the final cell state, differentiable in every input. T ≥ 1.
 *
 * The input projection x·K + b is inside the op so that the backward pass gets the kernel and recurrent gradients
 * from one product over all steps, (dzᵀ·[x, h_{t−1}])ᵀ, instead of one per weight.
 */
type GradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor[];

export const fusedLstmLayer = tf.customGrad(
  (...args: (tf.Tensor | tf.GradSaveFunc)[]): { value: tf.Tensor; gradFunc: GradFunc } => {
    const [x, kernel, bias, recurrent, h0, c0, save] = args as [
      tf.Tensor2D,
      tf.Tensor2D,
      tf.Tensor1D,
      tf.Tensor2D,
      tf.Tensor2D,
      tf.Tensor2D,
      tf.GradSaveFunc,
    ];
    const [B, H] = h0.shape;
    const G = 4 * H;
    const T = x.shape[0] / B;
    const inSize = x.shape[1];
    const xz = tf.reshape(tf.add(tf.matMul(x, kernel), bias), [T, B, G]);
    const [out, gates, cells, tanhs] = runKernel(FORWARD, { xz, recurrent, h0, c0 }) as [
      tf.Tensor3D,
      tf.Tensor,
      tf.Tensor,
      tf.Tensor,
    ];
    save([x, kernel, recurrent, h0, c0, out, gates, cells, tanhs]);
    return {
      value: out,
      gradFunc: (dOut, saved) => {
        const [sx, sk, r, sh0, sc0, sOut, sGates, sCells, sTanhs] = saved as [
          tf.Tensor2D,
          tf.Tensor2D,
          tf.Tensor2D,
          tf.Tensor2D,
          tf.Tensor,
          tf.Tensor3D,
          tf.Tensor,
          tf.Tensor,
          tf.Tensor,
        ];
        const recurrentT = tf.transpose(r);
        const [dxz, dh0, dc0] = runKernel(BACKWARD, { dOut, recurrentT, gates: sGates, cells: sCells, tanhs: sTanhs, c0: sc0 });
        const dz = tf.reshape(dxz!, [T * B, G]);
        const first = tf.reshape(sh0, [1, B, H]);
        const hPrev = T > 1 ? tf.concat([first, tf.slice(sOut, [0, 0, 0], [T - 1, B, H])], 0) : first;
        // [dK; dR] = [x, h_{t−1}]ᵀ·dz, computed as (dzᵀ·[x, h_{t−1}])ᵀ: explicit transposes (wasm's transposeA path
        // is a slow naive loop), and XNNPACK packs the narrower [T·B, In + H] operand instead of dz.
        const inputs = tf.concat([sx, tf.reshape(hPrev, [T * B, H])], 1);
        const dW = tf.transpose(tf.matMul(tf.transpose(dz), inputs));
        const dK = tf.slice(dW, [0, 0], [inSize, G]);
        const dR = tf.slice(dW, [inSize, 0], [H, G]);
        const dx = tf.matMul(dz, tf.transpose(sk));
        return [dx, dK, tf.sum(dz, 0), dR, dh0!, dc0!];
      },
    };
  },
) as (
  x: tf.Tensor2D,
  kernel: tf.Tensor2D,
  bias: tf.Tensor1D,
  recurrent: tf.Tensor2D,
  h0: tf.Tensor2D,
  c0: tf.Tensor2D,
) => tf.Tensor3D;
