/**
 * Output bundles (server → client, negotiated with `start.outputFraming: 'bundles'`), pure encode/decode: one binary
 * message per output interval carrying every requested kind and the VAD probabilities of the interval's hops, instead
 * of one frame per kind plus a JSON `vad` message. Layout, little-endian, 48-byte header:
 *
 *   offset size  field
 *   0      u8    frameVersion (2 = bundle; 1 is the per-kind frame of audio-frame-codec.ts)
 *   1      u8    streams       number of kinds n (0..3)
 *   2      u8    format        1 s16le · 2 f32le
 *   3      u8    channels      1 | 2
 *   4      u32   sequence      +1 per binary message the session sends
 *   8      u64   sampleOffset  output-rate offset of the first sample
 *   16     u32   sampleCount   samples per channel, the same for every kind
 *   20     u32   sampleRateHz
 *   24     u8×3  kinds         n kind codes (1 vocals · 2 accompaniment · 3 karaoke) in payload order, then zeros
 *   27     u8    flags         bit 0: VAD present · bit 1: vocals active after the last probability (debounced)
 *   28     u32   vadCount      m probabilities
 *   32     f64   vadHopSamples output-rate samples between probabilities (fractional when rates differ)
 *   40     i32   vadOffset     output offset of probability 0 minus sampleOffset
 *   44     u32   reserved (0)
 *   48     f32×m VAD probabilities, then zero padding to a multiple of 8 bytes
 *   ...    PCM   per kind in `kinds` order: interleaved, sampleCount × channels samples
 *
 * Every section starts on a multiple of 8 bytes, so f32 payloads can be viewed without copying.
 */
import type { OutputKind, SampleFormat } from './constants.ts';
import { FORMAT_CODES, FORMATS_BY_CODE, FrameDecodeError, KIND_CODES, KINDS_BY_CODE, type AudioFrameHeader } from './audio-frame-codec.ts';
import { bytesPerSample, decodePcm, encodePcm, PcmDecodeError } from './pcm-codec.ts';

export const BUNDLE_VERSION = 2;
export const BUNDLE_HEADER_BYTES = 48;
const MAX_KINDS = 3;
const FLAG_VAD = 1;
const FLAG_ACTIVE = 2;

export interface BundleVad {
  /** Output offset of probs[0]; probs[i] sits at sampleOffset + i·hopSamples. */
  sampleOffset: number;
  hopSamples: number;
  probs: number[];
  /** Debounced vocal activity after the last probability. */
  active: boolean;
}

/** The frame header's fields but `kind`: a bundle carries every kind. */
export interface OutputBundle extends Omit<AudioFrameHeader, 'kind'> {
  /** Planar samples per kind, each `channels` arrays of `sampleCount`. */
  streams: Array<{ kind: OutputKind; samples: Float32Array[] }>;
  vad: BundleVad | undefined;
}

/** 1 for a per-kind frame, 2 for a bundle: what a reader of either framing dispatches on. */
export function outputMessageVersion(bytes: Uint8Array): number {
  return bytes.byteLength > 0 ? bytes[0]! : 0;
}

const align8 = (n: number): number => Math.ceil(n / 8) * 8;

export function encodeOutputBundle(bundle: Omit<OutputBundle, 'channels' | 'sampleCount'> & { channels?: number }): Uint8Array {
  const { streams, vad, format } = bundle;
  if (streams.length > MAX_KINDS) throw new RangeError(`at most ${MAX_KINDS} kinds per bundle, got ${streams.length}`);
  const channels = bundle.channels ?? streams[0]?.samples.length ?? 1;
  const sampleCount = streams[0]?.samples[0]?.length ?? 0;
  if (channels < 1 || channels > 255) throw new RangeError(`channels must be 1..255, got ${channels}`);
  for (const s of streams) {
    if (s.samples.length !== channels || s.samples.some((ch) => ch.length !== sampleCount)) {
      throw new RangeError(`every kind must have ${channels} channels of ${sampleCount} samples (${s.kind} differs)`);
    }
  }
  if (!Number.isSafeInteger(bundle.sampleOffset) || bundle.sampleOffset < 0) {
    throw new RangeError(`sampleOffset must be a non-negative safe integer, got ${bundle.sampleOffset}`);
  }
  const vadOffset = vad ? vad.sampleOffset - bundle.sampleOffset : 0;
  if (!Number.isInteger(vadOffset) || vadOffset < -(2 ** 31) || vadOffset >= 2 ** 31) {
    throw new RangeError(`VAD offset ${vad?.sampleOffset} is not an integer within 2^31 of sampleOffset`);
  }
  const vadCount = vad?.probs.length ?? 0;
  const pcmStart = BUNDLE_HEADER_BYTES + align8(vadCount * 4);
  const perKindBytes = sampleCount * channels * bytesPerSample(format);
  const out = new Uint8Array(pcmStart + streams.length * perKindBytes);
  const view = new DataView(out.buffer);
  view.setUint8(0, BUNDLE_VERSION);
  view.setUint8(1, streams.length);
  view.setUint8(2, FORMAT_CODES[format]);
  view.setUint8(3, channels);
  view.setUint32(4, bundle.sequence >>> 0, true);
  view.setBigUint64(8, BigInt(bundle.sampleOffset), true);
  view.setUint32(16, sampleCount, true);
  view.setUint32(20, bundle.sampleRateHz, true);
  streams.forEach((s, i) => view.setUint8(24 + i, KIND_CODES[s.kind]));
  view.setUint8(27, (vad ? FLAG_VAD : 0) | (vad?.active ? FLAG_ACTIVE : 0));
  view.setUint32(28, vadCount, true);
  view.setFloat64(32, vad?.hopSamples ?? 0, true);
  view.setInt32(40, vadOffset, true);
  for (let i = 0; i < vadCount; i++) view.setFloat32(BUNDLE_HEADER_BYTES + 4 * i, vad!.probs[i]!, true);
  streams.forEach((s, i) => encodePcm(s.samples, format, out.subarray(pcmStart + i * perKindBytes, pcmStart + (i + 1) * perKindBytes)));
  return out;
}

export type OutputBundleHeader = Omit<OutputBundle, 'streams' | 'vad'> & { kinds: OutputKind[] };

/** The header alone, checked against the length (no PCM decoded: load generators that only time output). */
export function decodeOutputBundleHeader(bytes: Uint8Array): OutputBundleHeader {
  const version = outputMessageVersion(bytes);
  if (version !== BUNDLE_VERSION) throw new FrameDecodeError(`not a bundle: frame version ${version}`);
  if (bytes.byteLength < BUNDLE_HEADER_BYTES) {
    throw new FrameDecodeError(`bundle of ${bytes.byteLength} bytes is shorter than the ${BUNDLE_HEADER_BYTES}-byte header`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = view.getUint8(1);
  if (count > MAX_KINDS) throw new FrameDecodeError(`bundle announces ${count} kinds, at most ${MAX_KINDS}`);
  const format = FORMATS_BY_CODE[view.getUint8(2)];
  if (format === undefined) throw new FrameDecodeError(`unknown sample format ${view.getUint8(2)}`);
  const channels = view.getUint8(3);
  if (channels < 1) throw new FrameDecodeError('bundle announces 0 channels');
  const kinds = Array.from({ length: count }, (_, i) => {
    const kind = KINDS_BY_CODE[view.getUint8(24 + i)];
    if (kind === undefined) throw new FrameDecodeError(`unknown stream kind ${view.getUint8(24 + i)}`);
    return kind;
  });
  const sampleCount = view.getUint32(16, true);
  const expected = bundleLayout(view.getUint32(28, true), count, sampleCount, channels, format).totalBytes;
  if (bytes.byteLength !== expected) throw new FrameDecodeError(`bundle is ${bytes.byteLength} bytes, header announces ${expected}`);
  const offset = view.getBigUint64(8, true);
  if (offset > BigInt(Number.MAX_SAFE_INTEGER)) throw new FrameDecodeError('sampleOffset beyond 2^53');
  return { format, channels, sequence: view.getUint32(4, true), sampleOffset: Number(offset), sampleCount, sampleRateHz: view.getUint32(20, true), kinds };
}

function bundleLayout(vadCount: number, kinds: number, sampleCount: number, channels: number, format: SampleFormat): { pcmStart: number; perKindBytes: number; totalBytes: number } {
  const pcmStart = BUNDLE_HEADER_BYTES + align8(vadCount * 4);
  const perKindBytes = sampleCount * channels * bytesPerSample(format);
  return { pcmStart, perKindBytes, totalBytes: pcmStart + kinds * perKindBytes };
}

/** Decodes a bundle; every fault (a non-finite sample included) is a FrameDecodeError. */
export function decodeOutputBundle(bytes: Uint8Array): OutputBundle {
  const header = decodeOutputBundleHeader(bytes);
  const { kinds, format, channels, sampleCount, sampleOffset } = header;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const flags = view.getUint8(27);
  const vadCount = view.getUint32(28, true);
  const { pcmStart, perKindBytes } = bundleLayout(vadCount, kinds.length, sampleCount, channels, format);
  let streams: OutputBundle['streams'];
  try {
    streams = kinds.map((kind, i) => ({
      kind,
      samples: decodePcm(bytes.subarray(pcmStart + i * perKindBytes, pcmStart + (i + 1) * perKindBytes), format, channels),
    }));
  } catch (err) {
    if (err instanceof PcmDecodeError) throw new FrameDecodeError(`bundle payload: ${err.message}`, { cause: err });
    throw err;
  }
  const vad: BundleVad | undefined =
    (flags & FLAG_VAD) === 0
      ? undefined
      : {
          sampleOffset: sampleOffset + view.getInt32(40, true),
          hopSamples: view.getFloat64(32, true),
          probs: Array.from({ length: vadCount }, (_, i) => view.getFloat32(BUNDLE_HEADER_BYTES + 4 * i, true)),
          active: (flags & FLAG_ACTIVE) !== 0,
        };
  const { kinds: _kinds, ...fields } = header;
  return { ...fields, streams, vad };
}
