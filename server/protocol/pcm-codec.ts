/**
 * Interleaved little-endian PCM ⇄ planar Float32 (pure). s16le reads as int / 32768 and writes
 * round(x · 32768) clipped to [−32768, 32767], the same convention as server/dsp/wav.ts.
 */
import { endianness } from 'node:os';
import type { SampleFormat } from './messages.ts';

const LITTLE_ENDIAN_HOST = endianness() === 'LE';

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

/**
 * Decodes interleaved PCM into planar channels. Throws PcmDecodeError('misaligned') when the byte length is not a
 * whole number of sample frames and PcmDecodeError('non-finite') on any NaN/±Infinity (f32le), before returning
 * anything: a rejected frame leaves no partial audio behind.
 */
export function decodePcm(bytes: Uint8Array, format: SampleFormat, channels: number): Float32Array[] {
  const frameBytes = bytesPerSample(format) * channels;
  if (bytes.byteLength % frameBytes !== 0) {
    throw new PcmDecodeError(
      'misaligned',
      `${bytes.byteLength} bytes is not a multiple of ${frameBytes} (${bytesPerSample(format)}-byte ${format} × ${channels} channels)`,
    );
  }
  const frames = bytes.byteLength / frameBytes;
  const out = Array.from({ length: channels }, () => new Float32Array(frames));
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

/**
 * f32le input beyond ±INPUT_SAMPLE_LIMIT is clamped to it. Finite but huge values (±3.4e38) overflow the STFT's
 * power sums to Infinity and come back as NaN; 32 (+30 dBFS) leaves ample headroom above full scale for any real
 * source while keeping every stage finite.
 */
export const INPUT_SAMPLE_LIMIT = 32;

/** Clamps planar samples to [−limit, limit] in place; returns how many sample frames had a clamped channel. */
export function clampSamples(samples: Float32Array[], limit: number = INPUT_SAMPLE_LIMIT): number {
  const frames = samples[0]?.length ?? 0;
  let clampedFrames = 0;
  for (let i = 0; i < frames; i++) {
    let clamped = false;
    for (const ch of samples) {
      const v = ch[i]!;
      if (v > limit) {
        ch[i] = limit;
        clamped = true;
      } else if (v < -limit) {
        ch[i] = -limit;
        clamped = true;
      }
    }
    if (clamped) clampedFrames++;
  }
  return clampedFrames;
}

/** Writes planar samples as interleaved PCM into `out` (which must hold exactly the samples) or a new buffer. */
export function encodePcm(samples: Float32Array[], format: SampleFormat, out?: Uint8Array): Uint8Array {
  const channels = samples.length;
  const frames = samples[0]?.length ?? 0;
  const bytes = out ?? new Uint8Array(frames * channels * bytesPerSample(format));
  if (bytes.byteLength !== frames * channels * bytesPerSample(format)) {
    throw new RangeError(`output buffer is ${bytes.byteLength} bytes, need ${frames * channels * bytesPerSample(format)}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (format === 's16le') {
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
