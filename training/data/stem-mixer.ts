/**
 * Reads the four stems of one training excerpt and mixes them: vocals = g₀·vocals, accompaniment = g₁·drums +
 * g₂·bass + g₃·other, mixture = vocals + accompaniment (each stem optionally left/right swapped), and the mixture's
 * mean |x| for the sampler's silence check.
 *
 * Two paths, equal bit for bit (test/train-batch.test.ts):
 * - 16-bit stereo PCM WAV tracks (MUSDB18-HQ, the synthetic sets): the stems' bytes are read synchronously straight
 *   into wasm memory and one scalar wasm kernel decodes, scales, swaps, sums and measures them in a single pass.
 *   The async read path (open / read / close through the thread pool per stem) and the JavaScript decode and mix
 *   passes were most of the batch worker's sampling CPU. Blocking reads are fine there: the worker does nothing else.
 * - anything else (24-bit / float WAV, .stem.mp4): MusdbTrack.read and the same arithmetic in JavaScript.
 * Rounding, both paths: sample·gain in float64 then to float32 (int16 samples are k/32768, exact), float32 sums left to
 * right from +0, then mixture = vocals + accompaniment in float32; mean |x| summed in float64 over channel 0 then 1.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { assemble, forLoop, get, i32, memarg, op, set, tee, type, type WasmFunction } from '../wasm-asm.ts';
import type { MusdbTrack, StemName } from './musdb.ts';
import { readWavInfo, type WavFileInfo } from './wav-file.ts';

/** One stem of the excerpt: stems come as [vocals, drums, bass, other]. */
export interface StemDraw {
  track: MusdbTrack;
  stem: StemName;
  startSample: number;
  gain: number;
  swap: boolean;
}

/** On the WAV path the six channels are views into one block (see `recycle`): use them, not their `.buffer`. */
export interface MixedExcerpt {
  vocals: Float32Array[];
  accompaniment: Float32Array[];
  mixture: Float32Array[];
  mixtureMeanAbs: number;
}

// mix(p0..p3 0-3: byte address of this channel's first int16 in each stem's interleaved stereo data, stride 4 bytes;
//     g0..g3 4-7: gain / 32768 (f64); outV 8, outA 9, outM 10; n 11; sum 12 (f64, running Σ|mixture|)) → new sum.
// locals: i 13 (byte offset, both strides are 4 bytes), end 14, vocal 15 (f32), accompaniment 16 (f32), mixture 17.
// Gain / 32768 is exact (a power-of-two scale), so int16·(gain/32768) rounds as (int16/32768)·gain did.
const scaled = (k: number): number[] => [
  ...get(k), ...get(13), op.i32Add, op.i32Load16S, ...memarg(), op.f64ConvertI32S, ...get(4 + k), op.f64Mul, op.f32DemoteF64,
];
const mixKernel: WasmFunction = {
  name: 'mix',
  params: [type.i32, type.i32, type.i32, type.i32, type.f64, type.f64, type.f64, type.f64, type.i32, type.i32, type.i32, type.i32, type.f64],
  results: [type.f64],
  locals: [type.i32, type.i32, type.f32, type.f32, type.f32],
  body: [
    ...get(11), ...i32(2), op.i32Shl, ...set(14),
    ...forLoop(13, 14, 4, [
      ...scaled(0), ...set(15),
      ...get(8), ...get(13), op.i32Add, ...get(15), op.f32Store, ...memarg(),
      op.f32Const, 0, 0, 0, 0, ...scaled(1), op.f32Add, ...scaled(2), op.f32Add, ...scaled(3), op.f32Add, ...set(16),
      ...get(9), ...get(13), op.i32Add, ...get(16), op.f32Store, ...memarg(),
      ...get(10), ...get(13), op.i32Add, ...get(15), ...get(16), op.f32Add, ...tee(17), op.f32Store, ...memarg(),
      ...get(12), ...get(17), op.f32Abs, op.f64PromoteF32, op.f64Add, ...set(12),
    ]),
    ...get(12),
  ],
};

type MixFn = (p0: number, p1: number, p2: number, p3: number, g0: number, g1: number, g2: number, g3: number,
  outV: number, outA: number, outM: number, n: number, sum: number) => number;

const PAGE_BYTES = 65536;
/** A batch's worth and more (blocks are 24 bytes per sample: 6.3 MB for a 6 s excerpt). */
const MAX_SPARE_BLOCKS = 128;
const kernelModule = new WebAssembly.Module(assemble([mixKernel]));

function isPcm16Stereo(info: WavFileInfo): boolean {
  return info.sampleFormat === 'int' && info.bitsPerSample === 16 && info.channels === 2 && info.blockAlignBytes === 4;
}

export class StemMixer {
  private readonly memory = new WebAssembly.Memory({ initial: 1 });
  private readonly mix: MixFn;
  /** Header of each stem file, parsed once; undefined: not a WAV folder track. */
  private readonly headers = new Map<string, Promise<WavFileInfo | undefined>>();
  /**
   * Output blocks handed back through `recycle` (six channels each). Fresh large typed arrays cost a page fault per
   * 4 KiB on first touch, which on the training VMs was as much CPU as the mixing itself.
   */
  private readonly spare: Float32Array[] = [];

  constructor() {
    const instance = new WebAssembly.Instance(kernelModule, { env: { memory: this.memory } });
    this.mix = instance.exports.mix as MixFn;
  }

  /** `draws` = [vocals, drums, bass, other]. */
  async read(draws: StemDraw[], lengthSamples: number): Promise<MixedExcerpt> {
    if (draws.length !== 4) throw new RangeError('an excerpt has four stems');
    const infos = await Promise.all(draws.map((d) => this.header(d.track, d.stem)));
    if (infos.every((i): i is WavFileInfo => i !== undefined && isPcm16Stereo(i))) return this.mixPcm16(draws, infos, lengthSamples);
    const audio = await Promise.all(draws.map((d) => d.track.read(d.stem, d.startSample, lengthSamples)));
    return mixStems(audio.map((channels, k) => ({ channels: draws[k]!.swap ? [...channels].reverse() : channels, gain: draws[k]!.gain })));
  }

  private header(track: MusdbTrack, stem: StemName): Promise<WavFileInfo | undefined> {
    const path = join(track.path, `${stem}.wav`);
    let info = this.headers.get(path);
    if (info === undefined) {
      // A header that cannot be read sends the excerpt down the general path, whose MusdbTrack.read reports it.
      info = track.format === 'wav' ? readWavInfo(path).catch(() => undefined) : Promise.resolve(undefined);
      this.headers.set(path, info);
    }
    return info;
  }

  private mixPcm16(draws: StemDraw[], infos: WavFileInfo[], n: number): MixedExcerpt {
    const inBytes = 4 * n; // per stem: interleaved stereo int16
    const outBytes = 4 * n; // per output channel: float32
    this.reserve(4 * inBytes + 6 * outBytes);
    const bytes = new Uint8Array(this.memory.buffer);
    draws.forEach((d, k) => readPcm(infos[k]!, d.startSample, n, bytes, k * inBytes));
    const out = 4 * inBytes;
    const g = draws.map((d) => d.gain / 32768);
    let sum = 0;
    for (let c = 0; c < 2; c++) {
      const p = draws.map((d, k) => k * inBytes + 2 * (d.swap ? 1 - c : c));
      sum = this.mix(p[0]!, p[1]!, p[2]!, p[3]!, g[0]!, g[1]!, g[2]!, g[3]!, out + c * outBytes, out + (2 + c) * outBytes, out + (4 + c) * outBytes, n, sum);
    }
    const block = this.takeBlock(6 * n);
    block.set(new Float32Array(this.memory.buffer, out, 6 * n));
    const channel = (i: number): Float32Array => block.subarray(i * n, (i + 1) * n);
    return {
      vocals: [channel(0), channel(1)],
      accompaniment: [channel(2), channel(3)],
      mixture: [channel(4), channel(5)],
      mixtureMeanAbs: n > 0 ? sum / (2 * n) : 0,
    };
  }

  /**
   * Hands back an excerpt this mixer returned once nothing reads it any more: a later excerpt of the same length
   * reuses its memory. Optional; excerpts from the general path are ignored.
   */
  recycle(excerpt: { vocals: Float32Array[] }): void {
    const first = excerpt.vocals[0];
    if (first === undefined || first.byteOffset !== 0 || first.buffer.byteLength !== 6 * first.byteLength) return;
    const buffer = first.buffer;
    // Handing the same excerpt back twice must not let two later excerpts share one block.
    if (!(buffer instanceof ArrayBuffer) || this.spare.length >= MAX_SPARE_BLOCKS || this.spare.some((b) => b.buffer === buffer)) return;
    this.spare.push(new Float32Array(buffer));
  }

  private takeBlock(floats: number): Float32Array {
    const spare = this.spare.pop();
    if (spare?.length === floats) return spare;
    this.spare.length = 0; // another excerpt length: the old blocks will not fit
    return new Float32Array(floats);
  }

  private reserve(bytes: number): void {
    const have = this.memory.buffer.byteLength;
    if (bytes > have) this.memory.grow(Math.ceil((bytes - have) / PAGE_BYTES));
  }
}

/** Samples [start, start + n) of a 16-bit stereo WAV file into `bytes` at `offset`; zeros outside the file. */
function readPcm(info: WavFileInfo, start: number, n: number, bytes: Uint8Array, offset: number): void {
  const from = Math.max(0, start);
  const to = Math.max(from, Math.min(info.lengthSamples, start + n));
  const at = offset + Math.min(n, from - start) * 4;
  const want = (to - from) * 4;
  let got = 0;
  if (want > 0) {
    const fd = openSync(info.path, 'r');
    try {
      for (let r = -1; got < want && r !== 0; got += r) r = readSync(fd, bytes, at + got, want - got, info.dataOffsetBytes + from * 4 + got);
    } finally {
      closeSync(fd);
    }
  }
  // Before the file, past its end, and any trailing partial frame of a short read are zeros (as readWavRange gives).
  bytes.fill(0, offset, at);
  bytes.fill(0, at + got - (got % 4), offset + 4 * n);
}

interface ScaledStem {
  /** Planar channels (already swapped); scaled in place. */
  channels: Float32Array[];
  gain: number;
}

/** The JavaScript path (any format): same arithmetic and rounding as the kernel. */
export function mixStems(stems: ScaledStem[]): MixedExcerpt {
  const [voc, d, b, o] = stems;
  if (voc === undefined || d === undefined || b === undefined || o === undefined) throw new RangeError('an excerpt has four stems');
  const f = Math.fround;
  const [g0, g1, g2, g3] = [voc.gain, d.gain, b.gain, o.gain];
  const accompaniment: Float32Array[] = [];
  const mixture: Float32Array[] = [];
  // A plain loop, not a callback: there the running sum lived in a closure context and the loop ran several times
  // slower. One running sum over both channels, in order.
  let sumAbs = 0;
  let count = 0;
  for (let c = 0; c < voc.channels.length; c++) {
    const v = voc.channels[c]!;
    const x1 = d.channels[c]!;
    const x2 = b.channels[c]!;
    const x3 = o.channels[c]!;
    const acc = new Float32Array(v.length);
    const mix = new Float32Array(v.length);
    for (let i = 0; i < v.length; i++) {
      const vi = f(v[i]! * g0);
      v[i] = vi;
      const a = f(f(f(0 + f(x1[i]! * g1)) + f(x2[i]! * g2)) + f(x3[i]! * g3));
      acc[i] = a;
      const m = f(vi + a);
      mix[i] = m;
      sumAbs += Math.abs(m);
    }
    count += v.length;
    accompaniment.push(acc);
    mixture.push(mix);
  }
  return { vocals: voc.channels, accompaniment, mixture, mixtureMeanAbs: count > 0 ? sumAbs / count : 0 };
}
