/**
 * What the session layer needs from a model: per-stream handles that step one STFT frame at a time with the
 * stream's own recurrent state. Implemented by the batcher (ORT, many streams per call) and by test models.
 */
export interface FrameOutput {
  /** Vocals mask [channels, bins] flattened, valid until the next step of this stream. */
  mask: Float32Array;
  vadProb: number;
}

export interface FrameModelStream {
  /** Steps one frame; at most one step per stream may be outstanding. `features` must stay untouched until it settles. */
  step(features: Float32Array): Promise<FrameOutput>;
  /** Zeros the recurrent state (start of a new segment). Only between steps. */
  resetState(): void;
  /** Releases the stream's slot; an outstanding step still settles. Idempotent. */
  close(): void;
}

export interface FrameModel {
  createStream(): FrameModelStream;
}
