/**
 * Picks the fastest TensorFlow.js backend that loads here and patches the gradients training relies on.
 *
 * Order: tfjs-node-gpu (CUDA) → tfjs-node (libtensorflow) → wasm (XNNPACK, one core in Node) → cpu (pure JS).
 * The native packages are optional dependencies whose install downloads libtensorflow; offline they are absent or
 * broken, so a failed import just moves on to the next candidate.
 */
import * as tf from '@tensorflow/tfjs';
import { installFusedLstm } from './model/lstm-fused.ts';
import { installFastWasmKernels } from './model/wasm-fast-kernels.ts';
import { installFastWasmSlices } from './model/wasm-slice-kernels.ts';

export type BackendName = 'tfjs-node-gpu' | 'tfjs-node' | 'wasm' | 'cpu';

export interface BackendChoice {
  name: BackendName;
  /** tf.getBackend() after selection ('tensorflow', 'wasm', 'cpu'). */
  tfBackend: string;
  /** Why each earlier candidate was skipped. */
  skipped: string[];
}

let chosen: BackendChoice | undefined;

async function tryNative(pkg: string): Promise<boolean> {
  // A variable specifier keeps tsc from requiring the optional packages' types.
  const specifier: string = pkg;
  await import(specifier);
  return tf.setBackend('tensorflow');
}

async function tryWasm(): Promise<boolean> {
  await import('@tensorflow/tfjs-backend-wasm');
  return tf.setBackend('wasm');
}

function errorText(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0] ?? text;
}

/**
 * Selects a backend once per process (later calls return the first choice). `prefer` forces a backend, e.g. 'cpu'
 * in tests that must not depend on wasm, or LIVESTEM_TF_BACKEND in the environment.
 */
export async function initBackend(prefer?: BackendName, log: (line: string) => void = () => {}): Promise<BackendChoice> {
  if (chosen !== undefined) return chosen;
  const envPrefer = process.env['LIVESTEM_TF_BACKEND'] as BackendName | undefined;
  const wanted = prefer ?? envPrefer;
  const candidates: [BackendName, () => Promise<boolean>][] = [
    ['tfjs-node-gpu', () => tryNative('@tensorflow/tfjs-node-gpu')],
    ['tfjs-node', () => tryNative('@tensorflow/tfjs-node')],
    ['wasm', tryWasm],
    ['cpu', () => tf.setBackend('cpu')],
  ];
  const skipped: string[] = [];
  for (const [name, attempt] of candidates) {
    if (wanted !== undefined && name !== wanted) continue;
    try {
      if (await attempt()) {
        await tf.ready();
        registerFastGradients();
        installFastWasmSlices();
        installFastWasmKernels();
        installFusedLstm();
        chosen = { name, tfBackend: tf.getBackend(), skipped };
        log(`tfjs backend: ${name} (${chosen.tfBackend})${skipped.length ? `; skipped ${skipped.join('; ')}` : ''}`);
        return chosen;
      }
      skipped.push(`${name}: setBackend returned false`);
    } catch (err) {
      skipped.push(`${name}: ${errorText(err)}`);
    }
  }
  throw new Error(`no tfjs backend could be initialised: ${skipped.join('; ')}`);
}

function swapLastTwo(x: tf.Tensor): tf.Tensor {
  const perm = x.shape.map((_, i) => i);
  const n = perm.length;
  perm[n - 1] = n - 2;
  perm[n - 2] = n - 1;
  return tf.transpose(x, perm);
}

/** Sums a broadcast gradient back down to the operand's batch shape (rank ≥ 3 matMul with broadcasting). */
function reduceToShape(g: tf.Tensor, shape: number[]): tf.Tensor {
  if (g.shape.length === shape.length && g.shape.every((d, i) => d === shape[i])) return g;
  const lead = g.shape.length - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.shape.length - 2; i++) {
    const target = i - lead >= 0 ? shape[i - lead] : 1;
    if (target === 1 && g.shape[i] !== 1) axes.push(i);
  }
  const summed = axes.length > 0 ? tf.sum(g, axes, true) : g;
  return tf.reshape(summed, shape);
}

let gradientsRegistered = false;

/**
 * tfjs's stock BatchMatMul gradient calls matMul with transposeA/transposeB, which wasm runs as a naive loop
 * (0.4–1.9 GFLOP/s) instead of XNNPACK (~20 GFLOP/s). Transposing explicitly first and then calling the plain
 * matMul makes LSTM training ~2.3× faster there; on other backends it is equivalent.
 */
export function registerFastGradients(): void {
  if (gradientsRegistered) return;
  gradientsRegistered = true;
  tf.registerGradient({
    kernelName: tf.BatchMatMul,
    inputsToSave: ['a', 'b'],
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
      const g = Array.isArray(dy) ? dy[0]! : dy;
      const [a0, b0] = saved as [tf.Tensor, tf.Tensor];
      const transposeA = attrs['transposeA'] === true;
      const transposeB = attrs['transposeB'] === true;
      // Effective operands as used in the forward product: C = A·B.
      const a = transposeA ? swapLastTwo(a0) : a0;
      const b = transposeB ? swapLastTwo(b0) : b0;
      return {
        a: () => {
          const dA = tf.matMul(g, swapLastTwo(b));
          return reduceToShape(transposeA ? swapLastTwo(dA) : dA, a0.shape);
        },
        b: () => {
          // Aᵀ·G needs one operand transposed explicitly, and XNNPACK repacks the right operand of every product
          // with fresh weights: packing the narrower of A and G pays more than the extra transpose of the wider one
          // (fc3: G [N, 1026], A [N, 128] → (Gᵀ·A)ᵀ, 65 vs 85 ms at N = 5536).
          const dB =
            a.rank === 2 && g.size > a.size ? swapLastTwo(tf.matMul(swapLastTwo(g), a)) : tf.matMul(swapLastTwo(a), g);
          return reduceToShape(transposeB ? swapLastTwo(dB) : dB, b0.shape);
        },
      };
    },
  });
}
