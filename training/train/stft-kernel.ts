/**
 * PFFFT (the server's FFT, server/dsp/fft.ts) plus small WebAssembly SIMD kernels that run in the same wasm memory,
 * for the training batch's STFT:
 * - `window(src, win, dst, n)`: dst = src · win, n floats (n a multiple of 4), f32x4;
 * - `magnitude(spec, out, half)`: |X| of PFFFT's ordered real spectrum [r0, r(n/2), r1, i1, …] into out[0..half];
 * - `unpack(spec, re, im, half)`: the same spectrum as planar re/im (for the time-domain losses' mixture STFT).
 *
 * Why wasm: in JavaScript the window and magnitude passes cost ~2× the FFT itself per frame (~66 k frames per 64 × 1 s batch), on
 * the core the gradient replicas need. Why the results equal fft.ts + a JavaScript magnitude bit for bit:
 * - a float32 product x·w is exact in float64, so JavaScript's "multiply in float64, store to Float32Array" and
 *   f32x4.mul both give the correctly rounded float32 product;
 * - the magnitude is computed in float64 exactly as JavaScript does (r² and i² exact, one rounded add, a correctly
 *   rounded sqrt, one rounding to float32), with f64x2 lanes; DC and Nyquist (real) are |r|, = sqrt(r² + 0²).
 *
 * The kernels are written with training/wasm-asm.ts (no wasm toolchain in the repo); test/train-batch.test.ts checks
 * their output against offlineStft.
 */
/// <reference path="../../server/dsp/pffft-wasm.d.ts" />
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import PFFFT from '@echogarden/pffft-wasm/simd';
import type { PffftModule } from '@echogarden/pffft-wasm/simd';
import { assemble, forLoop, get, i32, lanes, memarg, op, set, simd, tee, type, v, type WasmFunction } from '../wasm-asm.ts';

export interface StftKernels {
  pffft: PffftModule;
  /** Byte addresses; n floats, a multiple of 4. */
  window(src: number, win: number, dst: number, n: number): void;
  /** Byte addresses; writes half + 1 magnitudes. */
  magnitude(spec: number, out: number, half: number): void;
  /** Byte addresses; writes half + 1 real and imaginary parts. */
  unpack(spec: number, re: number, im: number, half: number): void;
}

// window(src 0, win 1, dst 2, n 3); locals: i 4 (byte offset), end 5
const windowKernel: WasmFunction = {
  name: 'window',
  params: [type.i32, type.i32, type.i32, type.i32],
  results: [],
  locals: [type.i32, type.i32],
  body: [
    ...get(3), ...i32(2), op.i32Shl, ...set(5),
    ...forLoop(4, 5, 16, [
      ...get(2), ...get(4), op.i32Add,
      ...get(0), ...get(4), op.i32Add, ...v(simd.load, ...memarg()),
      ...get(1), ...get(4), op.i32Add, ...v(simd.load, ...memarg()),
      ...v(simd.f32x4Mul),
      ...v(simd.store, ...memarg()),
    ]),
  ],
};

// magnitude(spec 0, out 1, half 2); locals: k 3, x 4 (v128), t 5 (v128). Pairs of bins k, k+1 for k = 0, 2, …;
// pair 0 reads (r0, r(n/2)) as if it were (r0, i0), so bins 0 and half are written again afterwards.
const squaredPart = (lane: number): number[] => [
  ...get(4), ...get(4), ...v(simd.shuffle, ...lanes(lane, lane + 2, lane, lane + 2)), ...v(simd.promoteLowF32x4),
  ...tee(5), ...get(5), ...v(simd.f64x2Mul),
];
const magnitudeKernel: WasmFunction = {
  name: 'magnitude',
  params: [type.i32, type.i32, type.i32],
  results: [],
  locals: [type.i32, type.v128, type.v128],
  body: [
    ...forLoop(3, 2, 2, [
      ...get(0), ...get(3), ...i32(3), op.i32Shl, op.i32Add, ...v(simd.load, ...memarg()), ...set(4),
      ...get(1), ...get(3), ...i32(2), op.i32Shl, op.i32Add,
      ...squaredPart(0), ...squaredPart(1), ...v(simd.f64x2Add), ...v(simd.f64x2Sqrt), ...v(simd.demoteF64x2Zero),
      ...v(simd.store64Lane, ...memarg(), 0),
    ]),
    ...get(1), ...get(0), op.f32Load, ...memarg(), op.f32Abs, op.f32Store, ...memarg(),
    ...get(1), ...get(2), ...i32(2), op.i32Shl, op.i32Add, ...get(0), op.f32Load, ...memarg(4), op.f32Abs, op.f32Store, ...memarg(),
  ],
};

// unpack(spec 0, re 1, im 2, half 3): PFFFT's ordered spectrum to planar re[0..half], im[0..half] (im of DC and Nyquist
// = 0). locals: k 4, x 5 (v128). Pairs as in `magnitude`, then bins 0 and half again.
const unpackKernel: WasmFunction = {
  name: 'unpack',
  params: [type.i32, type.i32, type.i32, type.i32],
  results: [],
  locals: [type.i32, type.v128],
  body: [
    ...forLoop(4, 3, 2, [
      ...get(0), ...get(4), ...i32(3), op.i32Shl, op.i32Add, ...v(simd.load, ...memarg()), ...set(5),
      ...get(1), ...get(4), ...i32(2), op.i32Shl, op.i32Add,
      ...get(5), ...get(5), ...v(simd.shuffle, ...lanes(0, 2, 0, 2)), ...v(simd.store64Lane, ...memarg(), 0),
      ...get(2), ...get(4), ...i32(2), op.i32Shl, op.i32Add,
      ...get(5), ...get(5), ...v(simd.shuffle, ...lanes(1, 3, 1, 3)), ...v(simd.store64Lane, ...memarg(), 0),
    ]),
    ...get(1), ...get(0), op.f32Load, ...memarg(), op.f32Store, ...memarg(),
    ...get(2), op.f32Const, 0, 0, 0, 0, op.f32Store, ...memarg(),
    ...get(1), ...get(3), ...i32(2), op.i32Shl, op.i32Add, ...get(0), op.f32Load, ...memarg(4), op.f32Store, ...memarg(),
    ...get(2), ...get(3), ...i32(2), op.i32Shl, op.i32Add, op.f32Const, 0, 0, 0, 0, op.f32Store, ...memarg(),
  ],
};

const kernelBytes = assemble([windowKernel, magnitudeKernel, unpackKernel]);

// --- instantiation ---------------------------------------------------------------------------------------------------
type EmscriptenInstantiate = (imports: WebAssembly.Imports, done: (instance: WebAssembly.Instance) => void) => object;
/** The Emscripten factory also takes module overrides; pffft-wasm.d.ts (server-owned) declares only the no-argument form. */
const factory = PFFFT as unknown as (overrides: { instantiateWasm: EmscriptenInstantiate }) => Promise<PffftModule>;

async function load(): Promise<StftKernels> {
  // Instantiate PFFFT ourselves (Emscripten's instantiateWasm hook) to get hold of its memory, which it does not export
  // to JavaScript: the kernels must import that very memory to work on PFFFT's buffers in place.
  const wasmPath = join(dirname(createRequire(import.meta.url).resolve('@echogarden/pffft-wasm/simd')), 'pffft.wasm');
  const binary = readFileSync(wasmPath);
  let memory: WebAssembly.Memory | undefined;
  // A failed instantiation would otherwise leave the factory's promise pending forever: race it against the failure.
  let fail: (err: unknown) => void = () => {};
  const failure = new Promise<never>((_, reject) => {
    fail = reject;
  });
  const created = factory({
    instantiateWasm: (imports, done) => {
      WebAssembly.instantiate(binary, imports).then(({ instance }) => {
        memory = Object.values(instance.exports).find((e): e is WebAssembly.Memory => e instanceof WebAssembly.Memory);
        done(instance);
      }, fail);
      return {};
    },
  });
  const module = await Promise.race([created, failure]);
  if (memory === undefined) throw new Error('PFFFT wasm exports no memory');
  const instance = new WebAssembly.Instance(new WebAssembly.Module(kernelBytes), { env: { memory } });
  const exports = instance.exports as Pick<StftKernels, 'window' | 'magnitude' | 'unpack'>;
  return { pffft: module, window: exports.window, magnitude: exports.magnitude, unpack: exports.unpack };
}

/** Loaded once per thread when this module is first imported. */
export const stftKernels: StftKernels = await load();
