/**
 * Interleaved little-endian PCM ⇄ planar Float32 (pure). s16le reads as int / 32768 and writes round(x · 32768)
 * clipped to [−32768, 32767], the same convention as server/dsp/wav.ts. Used by the server (input), the SDK and the
 * load tester (output), in Node and in browsers: hence no Buffer and no node:os, only typed arrays and DataView.
 */
import type { SampleFormat } from './constants.ts';

/**
 * Whether this host stores a Float32Array's bytes little-endian, i.e. in wire order, so f32le can be copied as bytes.
 * Read from a typed array rather than node:os so browsers get the same answer.
 */
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export function bytesPerSample(format: SampleFormat): number {
  return format === 's16le' ? 2 : 4;
}

export class PcmDecodeError extends Error {
  override readonly name = 'PcmDecodeError';
  constructor(
    readonly reason: 'misaligned' | 'non-finite',
    message: string,
  ) {
    super(message);
  }
}

/** Sample frames (samples per channel) in `bytes`; PcmDecodeError('misaligned') when not a whole number. */
export function pcmFrames(bytes: Uint8Array, format: SampleFormat, channels: number): number {
  const frameBytes = bytesPerSample(format) * channels;
  if (bytes.byteLength % frameBytes !== 0) {
    throw new PcmDecodeError(
      'misaligned',
      `${bytes.byteLength} bytes is not a multiple of ${frameBytes} (${bytesPerSample(format)}-byte ${format} × ${channels} channels)`,
    );
  }
  return bytes.byteLength / frameBytes;
}

/**
 * Decodes interleaved PCM into planar channels: new arrays, or `into` (one array per channel, each exactly
 * `pcmFrames` long: a caller that reuses buffers). Throws PcmDecodeError('misaligned') when the byte length is not a
 * whole number of sample frames and PcmDecodeError('non-finite') on any NaN/±Infinity (f32le); a rejected frame's
 * samples must not be used (new arrays are never returned, `into` may hold part of it).
 */
export function decodePcm(bytes: Uint8Array, format: SampleFormat, channels: number, into?: Float32Array[]): Float32Array[] {
  const frames = pcmFrames(bytes, format, channels);
  if (into !== undefined && (into.length !== channels || into.some((ch) => ch.length !== frames))) {
    throw new RangeError(`decodePcm: need ${channels} arrays of ${frames} samples`);
  }
  const out = into ?? Array.from({ length: channels }, () => new Float32Array(frames));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (format === 's16le') {
    for (let i = 0, p = 0; i < frames; i++) {
      for (let c = 0; c < channels; c++, p += 2) out[c]![i] = view.getInt16(p, true) / 32768;
    }
    return out;
  }
  for (let i = 0, p = 0; i < frames; i++) {
    for (let c = 0; c < channels; c++, p += 4) {
      const v = view.getFloat32(p, true);
      if (!Number.isFinite(v)) {
        throw new PcmDecodeError('non-finite', `sample ${i} of channel ${c} is ${v}`);
      }
      out[c]![i] = v;
    }
  }
  return out;
}

/** Writes planar samples as interleaved PCM into `out` (which must hold exactly the samples) or a new buffer. */
export function encodePcm(samples: readonly Float32Array[], format: SampleFormat, out?: Uint8Array): Uint8Array {
  const channels = samples.length;
  const frames = samples[0]?.length ?? 0;
  const bytes = out ?? new Uint8Array(frames * channels * bytesPerSample(format));
  if (bytes.byteLength !== frames * channels * bytesPerSample(format)) {
    throw new RangeError(`output buffer is ${bytes.byteLength} bytes, need ${frames * channels * bytesPerSample(format)}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (format === 's16le') {
    if (LITTLE_ENDIAN_HOST) {
      // Native int16 stores, straight into `bytes` when it is 2-byte aligned: about 4× faster than DataView per sample
      // and the server encodes every output sample of every stream with this.
      const aligned = bytes.byteOffset % 2 === 0;
      const ints = aligned ? new Int16Array(bytes.buffer, bytes.byteOffset, frames * channels) : new Int16Array(frames * channels);
      for (let c = 0; c < channels; c++) {
        const ch = samples[c]!;
        for (let i = 0, p = c; i < frames; i++, p += channels) {
          const v = Math.round(ch[i]! * 32768);
          ints[p] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
        }
      }
      if (!aligned) bytes.set(new Uint8Array(ints.buffer));
      return bytes;
    }
    for (let i = 0, p = 0; i < frames; i++) {
      for (let c = 0; c < channels; c++, p += 2) {
        const v = Math.round(samples[c]![i]! * 32768);
        view.setInt16(p, v > 32767 ? 32767 : v < -32768 ? -32768 : v, true);
      }
    }
    return bytes;
  }
  if (LITTLE_ENDIAN_HOST) {
    // Interleave into native floats and copy the bytes: several times faster than DataView per sample.
    const interleaved = new Float32Array(frames * channels);
    for (let c = 0; c < channels; c++) {
      const ch = samples[c]!;
      for (let i = 0, p = c; i < frames; i++, p += channels) interleaved[p] = ch[i]!;
    }
    bytes.set(new Uint8Array(interleaved.buffer));
    return bytes;
  }
  for (let i = 0, p = 0; i < frames; i++) {
    for (let c = 0; c < channels; c++, p += 4) view.setFloat32(p, samples[c]![i]!, true);
  }
  return bytes;
}
