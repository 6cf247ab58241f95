/**
 * What the SDK hands out for each binary output frame: the decoded samples and where they sit, without the wire
 * details (format, channel and sample counts are implied by `samples`, so trimming a chunk cannot leave them stale).
 * A bundle (`outputFraming: 'bundles'`) decodes to one chunk per kind plus the VAD of its hops.
 */
import {
  BUNDLE_VERSION,
  decodeAudioFrame,
  decodeOutputBundle,
  outputMessageVersion,
  type OutputKind,
  type VadMessage,
} from './protocol/index.ts';

/** One decoded output frame: planar samples of one kind, `sampleOffset` aligned with input time (output rate). */
export interface OutputChunk {
  kind: OutputKind;
  sequence: number;
  sampleOffset: number;
  sampleRateHz: number;
  samples: Float32Array[];
}

/** Decodes a binary output frame; throws the protocol's FrameDecodeError on a malformed or corrupt one. */
export function decodeOutputFrame(bytes: Uint8Array): OutputChunk {
  const { kind, sequence, sampleOffset, sampleRateHz, samples } = decodeAudioFrame(bytes);
  return { kind, sequence, sampleOffset, sampleRateHz, samples };
}

/**
 * Decodes any binary output message, frame or bundle: its chunks (one per kind) and, for a bundle, the VAD of its
 * hops as a `vad` message without transitions (the server sends a JSON `vad` message ahead of any interval that holds
 * one). Throws FrameDecodeError on a malformed or corrupt message.
 */
export function decodeOutputMessage(bytes: Uint8Array): { chunks: OutputChunk[]; vad: VadMessage | undefined } {
  if (outputMessageVersion(bytes) !== BUNDLE_VERSION) return { chunks: [decodeOutputFrame(bytes)], vad: undefined };
  const b = decodeOutputBundle(bytes);
  const chunks = b.streams.map((s) => ({ kind: s.kind, sequence: b.sequence, sampleOffset: b.sampleOffset, sampleRateHz: b.sampleRateHz, samples: s.samples }));
  const vad: VadMessage | undefined = b.vad && { type: 'vad', ...b.vad, transitions: [] };
  return { chunks, vad };
}
