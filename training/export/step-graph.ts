/** What a model-specific ONNX builder hands the exporter: the serialised step graph and its manifest `io` block. */
import type { ModelManifest, StateSpec } from '../../server/inference/model-manifest.ts';

export type StateSpecOut = StateSpec;

export interface StepGraph {
  bytes: Uint8Array;
  io: ModelManifest['io'];
  /** The manifest's maxBatchPerRun, for graphs whose per-call batch should be capped. */
  maxBatchPerRun?: number;
}
