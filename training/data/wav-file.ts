/**
 * Random-access reading of WAV files: parses the RIFF header once, then reads any sample range straight from disk,
 * so a training sampler can draw excerpts from a whole data set without holding it in memory (a 60 s stereo stem
 * is 21 MB as float32; MUSDB18-HQ is ~30 GB). The format itself is `server/dsp/wav.ts`; this file adds the file
 * handles and maps codec errors to dataset error codes.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { decodeWavSamples, parseWavHeader, WavError, type WavInfo } from '../../server/dsp/wav.ts';
import { DatasetError } from './dataset-error.ts';

export interface WavFileInfo extends WavInfo {
  path: string;
}

/** Enough for any header we have met (fmt + LIST/bext chunks); larger ones are read again whole. */
const HEADER_PREFIX_BYTES = 64 * 1024;

async function readAt(fh: FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  const { bytesRead } = await fh.read(buf, 0, length, position);
  return buf.subarray(0, bytesRead);
}

/** Parses the header of the WAV file at `path`. */
export async function readWavInfo(path: string): Promise<WavFileInfo> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new DatasetError('LIVESTEM_DATA_MISSING_STEM', path, `cannot open WAV file: ${code ?? String(err)}`, { cause: err });
  }
  try {
    const size = (await fh.stat()).size;
    let head = await readAt(fh, 0, Math.min(size, HEADER_PREFIX_BYTES));
    try {
      return { path, ...parseWavHeader(head, size) };
    } catch (err) {
      if (!(err instanceof WavError) || head.length === size) throw err;
      head = await readAt(fh, 0, size); // a header longer than the prefix: rare, so read it all once
      return { path, ...parseWavHeader(head, size) };
    }
  } catch (err) {
    if (err instanceof WavError) {
      throw new DatasetError('LIVESTEM_DATA_BAD_WAV', path, `not a readable WAV file: ${err.message}`, { cause: err });
    }
    throw err;
  } finally {
    await fh.close();
  }
}

/**
 * Reads samples [start, start + length) as planar float32 in [-1, 1] (int PCM scaled by 2^(bits−1)).
 * Samples outside the file read as zeros.
 */
export async function readWavRange(info: WavFileInfo, start: number, length: number): Promise<Float32Array[]> {
  const out = Array.from({ length: info.channels }, () => new Float32Array(length));
  const from = Math.max(0, start);
  const to = Math.min(info.lengthSamples, start + length);
  if (to <= from) return out;
  const fh = await open(info.path, 'r');
  let buf: Buffer;
  try {
    buf = await readAt(fh, info.dataOffsetBytes + from * info.blockAlignBytes, (to - from) * info.blockAlignBytes);
  } finally {
    await fh.close();
  }
  decodeWavSamples(buf, info, out, from - start);
  return out;
}
