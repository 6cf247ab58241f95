/**
 * The backend picks a working tfjs backend, and the replacement matMul gradient (explicit transposes + plain
 * matMul) gives the same gradients as the definition, for every transpose flag and for batched operands.
 */
import t from 'tap';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../training/backend.ts';

const choice = await initBackend();

t.test('a backend was selected and named', async (t) => {
  t.ok(['tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu'].includes(choice.name), choice.name);
  t.equal(tf.getBackend(), choice.tfBackend);
});

/** Reference gradients of L = Σ W ⊙ (A·B) for 2-D A [m,k], B [k,n]: dA = W·Bᵀ, dB = Aᵀ·W, computed in plain JS. */
function reference(a: number[][], b: number[][], w: number[][]): { da: number[][]; db: number[][] } {
  const m = a.length;
  const k = b.length;
  const n = b[0]!.length;
  const da = Array.from({ length: m }, (_, i) => Array.from({ length: k }, (_, p) => b[p]!.reduce((s, bv, j) => s + w[i]![j]! * bv, 0)));
  const db = Array.from({ length: k }, (_, p) => Array.from({ length: n }, (_, j) => a.reduce((s, row, i) => s + row[p]! * w[i]![j]!, 0)));
  return { da, db };
}

const transpose = (x: number[][]): number[][] => x[0]!.map((_, j) => x.map((row) => row[j]!));

t.test('matMul gradients match the definition for all transpose flags', async (t) => {
  const a = [[1, 2, 3], [4, 5, 6]];
  const b = [[1, -1], [0.5, 2], [3, 0]];
  const w = [[1, 2], [-1, 0.5]];
  const ref = reference(a, b, w);
  for (const ta of [false, true]) {
    for (const tb of [false, true]) {
      const A = tf.tensor2d(ta ? transpose(a) : a);
      const B = tf.tensor2d(tb ? transpose(b) : b);
      const W = tf.tensor2d(w);
      const [gA, gB] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x as tf.Tensor2D, y as tf.Tensor2D, ta, tb), W)))([A, B]);
      const da = gA!.arraySync() as number[][];
      const db = gB!.arraySync() as number[][];
      t.same(da, ta ? transpose(ref.da) : ref.da, `dA, transposeA=${ta} transposeB=${tb}`);
      t.same(db, tb ? transpose(ref.db) : ref.db, `dB, transposeA=${ta} transposeB=${tb}`);
      tf.dispose([A, B, W, gA!, gB!]);
    }
  }
});

t.test('batched matMul with a broadcast operand sums the gradient over the batch', async (t) => {
  const A = tf.tensor3d([[[1, 2]], [[3, 4]]]); // [2, 1, 2]
  const B = tf.tensor2d([[1], [1]]); // [2, 1], broadcast over the batch
  const [gA, gB] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.matMul(x as tf.Tensor3D, y as tf.Tensor3D)))([A, B]);
  t.same(gA!.shape, [2, 1, 2]);
  t.same(gB!.arraySync(), [[4], [6]], 'dB = Σ_batch Aᵀ·1');
  tf.dispose([A, B, gA!, gB!]);
});
