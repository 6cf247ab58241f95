/**
 * What the SDK hands out for each binary output frame: the decoded samples and where they sit, without the wire
 * details (format, channel and sample counts are implied by `samples`, so trimming a chunk cannot leave them stale).
 */
import { decodeAudioFrame, type OutputKind } from './protocol/index.ts';

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
