/**
 * The livestem wire protocol as the SDK sees it (docs/protocol.md, version 1): server message types, the binary
 * output frame decoder and the PCM encoder for input. Declared here rather than imported so the SDK has no runtime
 * dependency on server code; `test/sdk-contract.test.ts` checks these match the server's definitions.
 */
import type { ServerErrorCode } from './errors.ts';

export const PROTOCOL_VERSION = 1;
export type OutputKind = 'vocals' | 'accompaniment' | 'karaoke';
export type SampleFormat = 's16le' | 'f32le';
export const OUTPUT_KINDS: readonly OutputKind[] = ['vocals', 'accompaniment', 'karaoke'];

export interface ReadyMessage {
  type: 'ready' | 'resumed';
  protocolVersion: number;
  sessionId: string;
  resumeToken: string;
  streamId?: string;
  model: { name: string; arch: string; sampleRateHz: number; nFft: number; hopSamples: number };
  input: { sampleRateHz: number; channels: number; format: SampleFormat };
  output: { sampleRateHz: number; channels: number; format: SampleFormat; outputs: OutputKind[]; vocalGain: number };
  latency: { samples: number; ms: number };
  vadHopSamples: number;
  limits: {
    maxMessageBytes: number;
    maxBufferedInputMs: number;
    idleTimeoutMs: number;
    resumeGraceMs: number;
    resumeBufferMs: number;
  };
}

export interface VadEvent {
  type: 'vad';
  /** Output-rate offset of probs[0]'s hop; probs[i] sits at sampleOffset + i·hopSamples. */
  sampleOffset: number;
  hopSamples: number;
  probs: number[];
  /** Debounced vocal activity after the last prob. */
  active: boolean;
  transitions: { active: boolean; sampleOffset: number }[];
}

export interface StatsEvent {
  type: 'stats';
  id?: string | number;
  sessionId: string;
  state: string;
  inputSamples: number;
  outputSamples: number;
  frames: number;
  lateFrames: number;
  bufferedInputMs: number;
  sendBufferedBytes: number;
  processingLatencyMs: { last: number; mean: number; max: number };
  uptimeMs: number;
}

export interface DoneEvent {
  type: 'done';
  reason: 'end' | 'shutdown';
  inputSamples: number;
  outputSamples: number;
  frames: number;
  lateFrames: number;
  durationMs: number;
}

export interface ServerErrorMessage {
  type: 'error';
  code: ServerErrorCode;
  message: string;
  retryable: boolean;
}

export type ServerMessage =
  | ReadyMessage
  | VadEvent
  | StatsEvent
  | DoneEvent
  | ServerErrorMessage
  | { type: 'pong'; id?: string | number; serverTimeMs: number }
  | { type: 'configured'; sampleOffset: number; outputs: OutputKind[]; vocalGain: number }
  | { type: 'flushed'; sampleOffset: number }
  | { type: 'draining'; deadlineMs: number };

/** One decoded output frame: planar samples of one kind, `sampleOffset` aligned with input time (output rate). */
export interface OutputChunk {
  kind: OutputKind;
  sequence: number;
  sampleOffset: number;
  sampleRateHz: number;
  samples: Float32Array[];
}

const FRAME_HEADER_BYTES = 24;
const KINDS: readonly (OutputKind | undefined)[] = [undefined, 'vocals', 'accompaniment', 'karaoke'];

export class FrameError extends Error {
  override readonly name = 'FrameError';
}

/** Decodes a binary output frame (24-byte little-endian header + interleaved PCM) into planar float samples. */
export function decodeOutputFrame(bytes: Uint8Array): OutputChunk {
  if (bytes.byteLength < FRAME_HEADER_BYTES) throw new FrameError(`frame of ${bytes.byteLength} bytes has no header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint8(0) !== 1) throw new FrameError(`unknown frame version ${view.getUint8(0)}`);
  const kind = KINDS[view.getUint8(1)];
  if (kind === undefined) throw new FrameError(`unknown output kind ${view.getUint8(1)}`);
  const formatCode = view.getUint8(2);
  if (formatCode !== 1 && formatCode !== 2) throw new FrameError(`unknown sample format ${formatCode}`);
  const channels = view.getUint8(3);
  const sampleCount = view.getUint32(16, true);
  const bytesPerSample = formatCode === 1 ? 2 : 4;
  if (bytes.byteLength !== FRAME_HEADER_BYTES + sampleCount * channels * bytesPerSample) {
    throw new FrameError(`frame is ${bytes.byteLength} bytes, header announces ${sampleCount} × ${channels} samples`);
  }
  const samples = Array.from({ length: channels }, () => new Float32Array(sampleCount));
  let p = FRAME_HEADER_BYTES;
  for (let i = 0; i < sampleCount; i++) {
    for (let c = 0; c < channels; c++) {
      if (formatCode === 1) {
        samples[c]![i] = view.getInt16(p, true) / 32768;
        p += 2;
      } else {
        samples[c]![i] = view.getFloat32(p, true);
        p += 4;
      }
    }
  }
  return {
    kind,
    sequence: view.getUint32(4, true),
    sampleOffset: Number(view.getBigUint64(8, true)),
    sampleRateHz: view.getUint32(20, true),
    samples,
  };
}

/** Planar float → interleaved little-endian PCM in `format` (s16le: round(x·32768) clipped, like the server). */
export function encodePcm(planar: readonly Float32Array[], format: SampleFormat): Uint8Array {
  const channels = planar.length;
  const frames = planar[0]?.length ?? 0;
  const bytesPerSample = format === 's16le' ? 2 : 4;
  const out = new Uint8Array(frames * channels * bytesPerSample);
  const view = new DataView(out.buffer);
  let p = 0;
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < channels; c++) {
      const x = planar[c]![i]!;
      if (format === 's16le') {
        const v = Math.round(x * 32768);
        view.setInt16(p, v > 32767 ? 32767 : v < -32768 ? -32768 : v, true);
        p += 2;
      } else {
        view.setFloat32(p, x, true);
        p += 4;
      }
    }
  }
  return out;
}
