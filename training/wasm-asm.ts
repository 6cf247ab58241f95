/**
 * A minimal WebAssembly assembler: just enough to write the small SIMD / scalar kernels of the training data path
 * (train/stft-kernel.ts, data/stem-mixer.ts) as readable instruction lists without a wasm toolchain in the repo.
 * A module imports its memory as env.memory and exports functions. Kernels are checked against the JavaScript
 * they replace by tests, bit for bit.
 */

export const op = {
  block: 0x02, loop: 0x03, br: 0x0c, brIf: 0x0d, end: 0x0b, return: 0x0f, localGet: 0x20, localSet: 0x21, localTee: 0x22,
  i32Load16S: 0x2e, f32Load: 0x2a, f32Store: 0x38, i32Const: 0x41, f32Const: 0x43, i32GeU: 0x4f, i32Add: 0x6a,
  i32Shl: 0x74, f32Abs: 0x8b, f32Add: 0x92, f64Add: 0xa0, f64Mul: 0xa2, f32DemoteF64: 0xb6, f64ConvertI32S: 0xb7,
  f64PromoteF32: 0xbb, simd: 0xfd,
} as const;

export const simd = {
  load: 0x00, store: 0x0b, shuffle: 0x0d, store64Lane: 0x5b, demoteF64x2Zero: 0x5e, promoteLowF32x4: 0x5f,
  f32x4Mul: 0xe6, f64x2Sqrt: 0xef, f64x2Add: 0xf0, f64x2Mul: 0xf2,
} as const;

export const type = { i32: 0x7f, f32: 0x7d, f64: 0x7c, v128: 0x7b } as const;
export type ValueType = (typeof type)[keyof typeof type];

export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

/** i32.const for 0..63 (one signed-LEB byte). */
export const i32 = (n: number): number[] => {
  if (!(Number.isInteger(n) && n >= 0 && n < 64)) throw new RangeError(`i32 constant ${n} needs a longer encoding`);
  return [op.i32Const, n];
};
export const get = (i: number): number[] => [op.localGet, i];
export const set = (i: number): number[] => [op.localSet, i];
export const tee = (i: number): number[] => [op.localTee, i];
/** Memory immediate: alignment hint 0 (any address), byte offset. */
export const memarg = (offset = 0): number[] => [0, ...uleb(offset)];
export const v = (code: number, ...imm: number[]): number[] => [op.simd, ...uleb(code), ...imm];
/** Lanes (f32 index) of a 4-lane shuffle, as the 16 byte indices i8x16.shuffle takes. */
export const lanes = (...l: number[]): number[] => l.flatMap((x) => [4 * x, 4 * x + 1, 4 * x + 2, 4 * x + 3]);
/** `block { loop { if (local[i] >= local[end]) break; …body; local[i] += step; continue } }` */
export const forLoop = (i: number, end: number, step: number, body: number[]): number[] => [
  op.block, 0x40, op.loop, 0x40,
  ...get(i), ...get(end), op.i32GeU, op.brIf, 1,
  ...body,
  ...get(i), ...i32(step), op.i32Add, ...set(i),
  op.br, 0, op.end, op.end,
];

export interface WasmFunction {
  name: string;
  params: ValueType[];
  results: ValueType[];
  locals: ValueType[];
  body: number[];
}

const bytesOf = (s: string): number[] => [s.length, ...Array.from(s, (ch) => ch.charCodeAt(0))];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];

/** Module bytes: imports env.memory (at least one page), exports `funcs` by name. */
export function assemble(funcs: WasmFunction[]): Uint8Array<ArrayBuffer> {
  const code = funcs.map((f) => {
    const locals = vec(f.locals.map((t) => [1, t]));
    const body = [...locals, ...f.body, op.end];
    return [...uleb(body.length), ...body];
  });
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(funcs.map((f) => [0x60, ...vec(f.params.map((t) => [t])), ...vec(f.results.map((t) => [t]))]))),
    ...section(2, vec([[...bytesOf('env'), ...bytesOf('memory'), 0x02, 0x00, 0x01]])),
    ...section(3, vec(funcs.map((_, i) => uleb(i)))),
    ...section(7, vec(funcs.map((f, i) => [...bytesOf(f.name), 0x00, ...uleb(i)]))),
    ...section(10, vec(code)),
  ]);
}
