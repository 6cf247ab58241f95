/**
 * WAV (RIFF/WAVE) codec: reads 16/24/32-bit integer PCM and 32/64-bit float, plain or WAVE_FORMAT_EXTENSIBLE;
 * writes 16-bit, 24-bit and float32. Audio is planar Float32Array per channel in [-1, 1]; integer PCM is read as
 * int / 2^(bits−1).
 *
 * Written by hand rather than through the `wavefile` library, which we used first: its per-sample conversion cost
 * ~10 µs per sample (a 60 s stereo stem took ~50 s to read; this codec reads it in ~45 ms), and the training
 * sampler needs what no WAV library we found offers — the header parsed on its own and any sample range decoded
 * straight from disk (`parseWavHeader` + `decodeWavSamples`, used by training/data/wav-file.ts). The format needs
 * only a chunk walk and a DataView loop. `wavefile` stays in the tests as an independent reader/writer that
 * cross-checks this codec both ways.
 */
import { readFile, writeFile } from 'node:fs/promises';

export type WavFormat = 's16' | 's24' | 'f32';

export interface WavAudio {
  sampleRateHz: number;
  channels: Float32Array[];
  /** Sample format as stored; 32-bit int and 64-bit float files read fine but report their nearest writable kin. */
  format: WavFormat;
}

export interface WavInfo {
  sampleRateHz: number;
  channels: number;
  sampleFormat: 'int' | 'float';
  bitsPerSample: number;
  blockAlignBytes: number;
  /** Byte offset of the first sample in the file. */
  dataOffsetBytes: number;
  lengthSamples: number;
}

export class WavError extends Error {
  override readonly name = 'WavError';
}

function ascii(bytes: Uint8Array, at: number): string {
  return String.fromCharCode(bytes[at]!, bytes[at + 1]!, bytes[at + 2]!, bytes[at + 3]!);
}

/**
 * Walks the chunks of a WAV file's first bytes (`bytes` may be a prefix of the file) up to the data chunk.
 * `fileSizeBytes` is the whole file's size, used when a streaming writer left the data size at 0 or 0xFFFFFFFF.
 */
export function parseWavHeader(bytes: Uint8Array, fileSizeBytes = bytes.length): WavInfo {
  if (bytes.length < 12 || ascii(bytes, 0) !== 'RIFF' || ascii(bytes, 8) !== 'WAVE') {
    throw new WavError('not a WAV file (no RIFF/WAVE header)');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let fmt: { tag: number; channels: number; rate: number; blockAlign: number; bits: number } | undefined;
  let pos = 12;
  while (pos + 8 <= bytes.length) {
    const id = ascii(bytes, pos);
    const size = view.getUint32(pos + 4, true);
    const body = pos + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > bytes.length) throw new WavError('WAV fmt chunk too short');
      let tag = view.getUint16(body, true);
      if (tag === 0xfffe) {
        if (size < 26 || body + 26 > bytes.length) throw new WavError('WAV extensible fmt chunk too short');
        tag = view.getUint16(body + 24, true); // the sub-format GUID starts with the real format tag
      }
      fmt = {
        tag,
        channels: view.getUint16(body + 2, true),
        rate: view.getUint32(body + 4, true),
        blockAlign: view.getUint16(body + 12, true),
        bits: view.getUint16(body + 14, true),
      };
    } else if (id === 'data') {
      if (fmt === undefined) throw new WavError('WAV data chunk before fmt chunk');
      return describe(fmt, body, size, fileSizeBytes);
    }
    pos = body + size + (size % 2);
  }
  throw new WavError('WAV file has no data chunk in its header');
}

function describe(
  fmt: { tag: number; channels: number; rate: number; blockAlign: number; bits: number },
  dataOffsetBytes: number,
  dataSize: number,
  fileSizeBytes: number,
): WavInfo {
  const sampleFormat = fmt.tag === 1 ? 'int' : fmt.tag === 3 ? 'float' : undefined;
  if (sampleFormat === undefined) throw new WavError(`unsupported WAV sample format tag ${fmt.tag} (PCM or IEEE float only)`);
  const okBits = sampleFormat === 'int' ? [16, 24, 32].includes(fmt.bits) : [32, 64].includes(fmt.bits);
  if (!okBits) throw new WavError(`unsupported ${fmt.bits}-bit ${sampleFormat} WAV samples`);
  if (fmt.channels < 1 || fmt.blockAlign !== (fmt.channels * fmt.bits) / 8) {
    throw new WavError('inconsistent WAV channel count / block size');
  }
  const available = Math.max(0, fileSizeBytes - dataOffsetBytes);
  const bytes = dataSize === 0 || dataSize === 0xffffffff || dataSize > available ? available : dataSize;
  return {
    sampleRateHz: fmt.rate,
    channels: fmt.channels,
    sampleFormat,
    bitsPerSample: fmt.bits,
    blockAlignBytes: fmt.blockAlign,
    dataOffsetBytes,
    lengthSamples: Math.floor(bytes / fmt.blockAlign),
  };
}

/** Decodes whole sample frames from `data` (bytes starting at a frame boundary) into `out` from `outOffset`. */
export function decodeWavSamples(data: Uint8Array, info: WavInfo, out: Float32Array[], outOffset = 0): number {
  const { channels, bitsPerSample: bits, sampleFormat, blockAlignBytes: step } = info;
  const frames = Math.min(Math.floor(data.length / step), (out[0]?.length ?? 0) - outOffset);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const width = bits / 8;
  for (let c = 0; c < channels; c++) {
    const ch = out[c]!;
    let p = c * width;
    if (sampleFormat === 'float') {
      if (bits === 32) for (let i = 0; i < frames; i++, p += step) ch[outOffset + i] = view.getFloat32(p, true);
      else for (let i = 0; i < frames; i++, p += step) ch[outOffset + i] = view.getFloat64(p, true);
    } else if (bits === 16) {
      for (let i = 0; i < frames; i++, p += step) ch[outOffset + i] = view.getInt16(p, true) / 32768;
    } else if (bits === 24) {
      for (let i = 0; i < frames; i++, p += step) {
        ch[outOffset + i] = (view.getUint8(p) | (view.getUint8(p + 1) << 8) | (view.getInt8(p + 2) << 16)) / 8388608;
      }
    } else {
      for (let i = 0; i < frames; i++, p += step) ch[outOffset + i] = view.getInt32(p, true) / 2147483648;
    }
  }
  return frames;
}

export function decodeWav(bytes: Uint8Array): WavAudio {
  const info = parseWavHeader(bytes);
  const channels = Array.from({ length: info.channels }, () => new Float32Array(info.lengthSamples));
  decodeWavSamples(bytes.subarray(info.dataOffsetBytes), info, channels);
  const format: WavFormat = info.sampleFormat === 'float' ? 'f32' : info.bitsPerSample === 24 ? 's24' : 's16';
  return { sampleRateHz: info.sampleRateHz, channels, format };
}

export function encodeWav(channels: readonly Float32Array[], sampleRateHz: number, format: WavFormat = 's16'): Uint8Array {
  if (channels.length === 0) throw new WavError('cannot write a WAV file with no channels');
  const numChannels = channels.length;
  const frames = channels[0]!.length;
  const width = format === 's16' ? 2 : format === 's24' ? 3 : 4;
  const dataBytes = frames * numChannels * width;
  const out = new Uint8Array(44 + dataBytes + (dataBytes % 2));
  const view = new DataView(out.buffer);
  const text = (at: number, s: string): void => {
    for (let i = 0; i < 4; i++) out[at + i] = s.charCodeAt(i);
  };
  text(0, 'RIFF');
  view.setUint32(4, out.length - 8, true);
  text(8, 'WAVE');
  text(12, 'fmt ');
  view.setUint32(16, 16, true);
  view.setUint16(20, format === 'f32' ? 3 : 1, true);
  view.setUint16(22, numChannels, true);
  view.setUint32(24, sampleRateHz, true);
  view.setUint32(28, sampleRateHz * numChannels * width, true);
  view.setUint16(32, numChannels * width, true);
  view.setUint16(34, width * 8, true);
  text(36, 'data');
  view.setUint32(40, dataBytes, true);
  const full = format === 's16' ? 32768 : 8388608;
  for (let c = 0; c < numChannels; c++) {
    const ch = channels[c]!;
    let p = 44 + c * width;
    const step = numChannels * width;
    for (let i = 0; i < frames; i++, p += step) {
      const x = ch[i]!;
      if (format === 'f32') {
        view.setFloat32(p, x, true);
        continue;
      }
      const v = Math.round(x * full);
      const q = v >= full ? full - 1 : v < -full ? -full : v;
      if (format === 's16') view.setInt16(p, q, true);
      else {
        view.setUint8(p, q & 0xff);
        view.setUint8(p + 1, (q >> 8) & 0xff);
        view.setInt8(p + 2, q >> 16);
      }
    }
  }
  return out;
}

export async function readWav(path: string): Promise<WavAudio> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new WavError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
  try {
    return decodeWav(bytes);
  } catch (err) {
    throw new WavError(`${path}: ${(err as Error).message}`, { cause: err });
  }
}

export async function writeWav(path: string, channels: readonly Float32Array[], sampleRateHz: number, format: WavFormat = 's16'): Promise<void> {
  await writeFile(path, encodeWav(channels, sampleRateHz, format));
}
