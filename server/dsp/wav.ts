/**
 * WAV encode/decode (16-bit, 24-bit PCM and 32-bit float; any channel count) through the `wavefile` library.
 * Audio is planar Float32Array per channel in [-1, 1]; integer PCM is read as int / 2^(bits−1).
 */
import { readFile, writeFile } from 'node:fs/promises';
import wavefile from 'wavefile';

export type WavFormat = 's16' | 's24' | 'f32';

export interface WavAudio {
  sampleRateHz: number;
  channels: Float32Array[];
  format: WavFormat;
}

const BIT_DEPTH: Record<WavFormat, string> = { s16: '16', s24: '24', f32: '32f' };

export class WavError extends Error {
  override readonly name = 'WavError';
}

export function decodeWav(bytes: Uint8Array): WavAudio {
  let wav: wavefile.WaveFile;
  try {
    wav = new wavefile.WaveFile(bytes);
  } catch (err) {
    throw new WavError(`not a readable WAV file: ${(err as Error).message}`, { cause: err });
  }
  const fmt = wav.fmt as { sampleRate: number; numChannels: number };
  const bitDepth = wav.bitDepth;
  const format: WavFormat | undefined = bitDepth === '16' ? 's16' : bitDepth === '24' ? 's24' : bitDepth === '32f' ? 'f32' : undefined;
  if (format === undefined) throw new WavError(`unsupported WAV sample format "${bitDepth}" (use 16, 24 or 32f)`);
  const raw = wav.getSamples(false, Float64Array) as unknown as Float64Array | Float64Array[];
  const planes = fmt.numChannels === 1 ? [raw as Float64Array] : (raw as Float64Array[]);
  const scale = format === 's16' ? 1 / 32768 : format === 's24' ? 1 / 8388608 : 1;
  const channels = planes.map((p) => {
    const out = new Float32Array(p.length);
    for (let i = 0; i < p.length; i++) out[i] = p[i]! * scale;
    return out;
  });
  return { sampleRateHz: fmt.sampleRate, channels, format };
}

export function encodeWav(channels: Float32Array[], sampleRateHz: number, format: WavFormat = 's16'): Uint8Array {
  if (channels.length === 0) throw new WavError('cannot write a WAV file with no channels');
  const full = format === 's16' ? 32767 : format === 's24' ? 8388607 : 0;
  const planes = channels.map((ch) => {
    if (format === 'f32') return Float64Array.from(ch);
    const out = new Int32Array(ch.length);
    for (let i = 0; i < ch.length; i++) {
      const v = Math.round(ch[i]! * (full + 1));
      out[i] = v > full ? full : v < -full - 1 ? -full - 1 : v;
    }
    return out;
  });
  const wav = new wavefile.WaveFile();
  wav.fromScratch(channels.length, sampleRateHz, BIT_DEPTH[format], planes.length === 1 ? planes[0]! : planes);
  return wav.toBuffer();
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

export async function writeWav(path: string, channels: Float32Array[], sampleRateHz: number, format: WavFormat = 's16'): Promise<void> {
  await writeFile(path, encodeWav(channels, sampleRateHz, format));
}
