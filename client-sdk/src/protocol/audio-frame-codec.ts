/**
 * Binary output frames (server → client), pure encode/decode. Layout, little-endian, 24-byte header:
 *
 *   offset size  field
 *   0      u8    frameVersion (1)
 *   1      u8    kind          1 vocals · 2 accompaniment · 3 karaoke
 *   2      u8    format        1 s16le · 2 f32le
 *   3      u8    channels      1 | 2
 *   4      u32   sequence      +1 per binary frame the session sends (replays after resume get new numbers)
 *   8      u64   sampleOffset  output-rate offset of the first sample; aligns with input time
 *   16     u32   sampleCount   samples per channel in this frame
 *   20     u32   sampleRateHz
 *   24     ...   interleaved PCM, sampleCount × channels samples
 *
 * The header is a multiple of 8 bytes so f32 payloads are aligned for a zero-copy Float32Array view.
 * The server encodes, the SDK and the load tester decode: one implementation, so the layout cannot drift.
 */
import type { OutputKind, SampleFormat } from './constants.ts';
import { bytesPerSample, decodePcm, encodePcm, PcmDecodeError } from './pcm-codec.ts';

export const FRAME_VERSION = 1;
export const FRAME_HEADER_BYTES = 24;

/** Wire codes of output kinds and sample formats, shared with the bundle codec (output-bundle-codec.ts). */
export const KIND_CODES: Readonly<Record<OutputKind, number>> = { vocals: 1, accompaniment: 2, karaoke: 3 };
export const KINDS_BY_CODE: readonly (OutputKind | undefined)[] = [undefined, 'vocals', 'accompaniment', 'karaoke'];
export const FORMAT_CODES: Readonly<Record<SampleFormat, number>> = { s16le: 1, f32le: 2 };
export const FORMATS_BY_CODE: readonly (SampleFormat | undefined)[] = [undefined, 's16le', 'f32le'];

export interface AudioFrameHeader {
  kind: OutputKind;
  format: SampleFormat;
  channels: number;
  sequence: number;
  sampleOffset: number;
  sampleCount: number;
  sampleRateHz: number;
}

export interface AudioFrame extends AudioFrameHeader {
  /** Planar samples, one array per channel. */
  samples: Float32Array[];
}

export class FrameDecodeError extends Error {
  override readonly name = 'FrameDecodeError';
}

/** Encodes planar samples (clipped to [-1, 1] for s16le) after a header; returns one buffer ready to send. */
export function encodeAudioFrame(header: Omit<AudioFrameHeader, 'sampleCount' | 'channels'>, samples: readonly Float32Array[]): Uint8Array {
  const channels = samples.length;
  const sampleCount = samples[0]?.length ?? 0;
  if (channels < 1 || channels > 255) throw new RangeError(`channels must be 1..255, got ${channels}`);
  if (!Number.isSafeInteger(header.sampleOffset) || header.sampleOffset < 0) {
    throw new RangeError(`sampleOffset must be a non-negative safe integer, got ${header.sampleOffset}`);
  }
  const payloadBytes = sampleCount * channels * bytesPerSample(header.format);
  const out = new Uint8Array(FRAME_HEADER_BYTES + payloadBytes);
  const view = new DataView(out.buffer);
  view.setUint8(0, FRAME_VERSION);
  view.setUint8(1, KIND_CODES[header.kind]);
  view.setUint8(2, FORMAT_CODES[header.format]);
  view.setUint8(3, channels);
  view.setUint32(4, header.sequence >>> 0, true);
  view.setBigUint64(8, BigInt(header.sampleOffset), true);
  view.setUint32(16, sampleCount, true);
  view.setUint32(20, header.sampleRateHz, true);
  encodePcm(samples, header.format, out.subarray(FRAME_HEADER_BYTES));
  return out;
}

export function decodeAudioFrameHeader(bytes: Uint8Array): AudioFrameHeader {
  if (bytes.byteLength < FRAME_HEADER_BYTES) {
    throw new FrameDecodeError(`frame of ${bytes.byteLength} bytes is shorter than the ${FRAME_HEADER_BYTES}-byte header`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint8(0);
  if (version !== FRAME_VERSION) throw new FrameDecodeError(`unknown frame version ${version}`);
  const kind = KINDS_BY_CODE[view.getUint8(1)];
  if (kind === undefined) throw new FrameDecodeError(`unknown stream kind ${view.getUint8(1)}`);
  const format = FORMATS_BY_CODE[view.getUint8(2)];
  if (format === undefined) throw new FrameDecodeError(`unknown sample format ${view.getUint8(2)}`);
  const channels = view.getUint8(3);
  const sampleCount = view.getUint32(16, true);
  const expected = FRAME_HEADER_BYTES + sampleCount * channels * bytesPerSample(format);
  if (bytes.byteLength !== expected) {
    throw new FrameDecodeError(`frame is ${bytes.byteLength} bytes, header announces ${expected}`);
  }
  const offset = view.getBigUint64(8, true);
  if (offset > BigInt(Number.MAX_SAFE_INTEGER)) throw new FrameDecodeError('sampleOffset beyond 2^53');
  return {
    kind,
    format,
    channels,
    sequence: view.getUint32(4, true),
    sampleOffset: Number(offset),
    sampleCount,
    sampleRateHz: view.getUint32(20, true),
  };
}

/**
 * Decodes header and samples. Every fault is a FrameDecodeError, a non-finite f32 sample included: the server never
 * sends one (it zeroes model output that is not finite), so such a frame is corrupt, not audio.
 */
export function decodeAudioFrame(bytes: Uint8Array): AudioFrame {
  const header = decodeAudioFrameHeader(bytes);
  try {
    const samples = decodePcm(bytes.subarray(FRAME_HEADER_BYTES), header.format, header.channels);
    return { ...header, samples };
  } catch (err) {
    if (err instanceof PcmDecodeError) throw new FrameDecodeError(`frame payload: ${err.message}`, { cause: err });
    throw err;
  }
}
