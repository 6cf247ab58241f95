/**
 * The manifest of a test "identity" model (16 kHz, 512/128 STFT, no recurrent state) for engine and session tests
 * that inject their own FrameModelStream instead of loading ONNX.
 */
import { parseManifest } from '../../server/inference/model-manifest.ts';

export const identityManifest = parseManifest({
  schemaVersion: 1,
  name: 'identity',
  arch: 'lstm',
  description: 'identity mask for tests',
  sampleRateHz: 16000,
  channels: 2,
  stft: { nFft: 512, hopSamples: 128, window: 'sqrt-hann' },
  bins: 257,
  latencySamples: 384,
  vadThreshold: 0.5,
  io: {
    input: { name: 'x', shape: ['batch', 2, 257] },
    mask: { name: 'm', shape: ['batch', 2, 257] },
    vad: { name: 'v', shape: ['batch', 1] },
    state: [],
  },
  parameters: 0,
  macsPerFrame: 0,
});
