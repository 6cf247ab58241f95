/** The parts of @echogarden/pffft-wasm (PFFFT compiled by Emscripten, WASM SIMD build) that server/dsp/fft.ts uses. */
declare module '@echogarden/pffft-wasm/simd' {
  export interface PffftModule {
    /** View of the module's linear memory; replaced when the memory grows, so read it anew after allocating. */
    HEAPF32: Float32Array;
    /** PFFFT_REAL = 0, PFFFT_COMPLEX = 1; returns 0 for sizes PFFFT does not support. */
    _pffft_new_setup(n: number, transform: number): number;
    _pffft_aligned_malloc(bytes: number): number;
    /** direction: PFFFT_FORWARD = 0, PFFFT_BACKWARD = 1; unnormalised both ways; pointers are byte addresses. */
    _pffft_transform_ordered(setup: number, input: number, output: number, work: number, direction: number): void;
  }
  const PFFFT: () => Promise<PffftModule>;
  export default PFFFT;
}
