/**
 * Model configurations. Everything the exporter and the server need to rebuild the features (STFT, crop, context)
 * lives here and is stored in checkpoints next to the weights.
 */
import type { WindowKind } from '../../server/dsp/window.ts';

export interface StftSettings {
  nFft: number;
  hopSamples: number;
  window: WindowKind;
}

interface CommonConfig {
  sampleRateHz: number;
  stft: StftSettings;
  /** Audio channels (the server contract is stereo). */
  channels: 2;
  /** Full bins, nFft/2 + 1: the mask covers all of them. */
  bins: number;
  /** Lowest bins the network looks at (≈ 16 kHz); higher bins get a mask from the network's hidden state. */
  cropBins: number;
}

export interface LstmConfig extends CommonConfig {
  arch: 'lstm';
  hiddenSize: number;
  layers: number;
  /**
   * VAD head: absent or 0 = linear on the LSTM output (the first models); V > 0 = a V-unit relu layer on the skip
   * features [fc1 output, LSTM output], so the flag also sees the current frame, not only the recurrent memory.
   */
  vadHidden?: number;
}

export interface UnetConfig extends CommonConfig {
  arch: 'unet';
  /** Frames the network sees: the newest one plus contextFrames − 1 before it. */
  contextFrames: number;
  /** Feature channels per encoder level (each level halves time and frequency). */
  encoderChannels: number[];
  /** Dilations (in bottleneck frequency bins) of the ASPP branches. */
  asppDilations: number[];
}

export type ModelConfig = LstmConfig | UnetConfig;

/** Bins below `cutoffHz` (the Open-Unmix bandwidth crop). */
export function binsBelow(cutoffHz: number, sampleRateHz: number, nFft: number): number {
  return Math.min(nFft / 2 + 1, Math.ceil((cutoffHz * nFft) / sampleRateHz));
}
