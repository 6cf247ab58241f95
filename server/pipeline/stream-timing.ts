/**
 * What a stream's framing promises a client before any audio is processed (announced in `ready`): the latency in
 * output samples and the VAD hop in output samples, from the model's STFT and the two client rates. Pure; the same
 * rate plan the pipeline runs on, so the announcement cannot drift from what the engine does.
 */
import { stftLatencySamples } from '../dsp/stft.ts';
import { planRates } from './rate-plan.ts';
import type { PipelineModelSpec } from './separation-pipeline.ts';

export interface StreamTiming {
  /** Output-rate samples between an input sample and its output (an integer). */
  latencySamples: number;
  /** One model hop in output-rate samples (fractional when rates differ). */
  vadHopSamples: number;
}

export function streamTiming(model: Pick<PipelineModelSpec, 'sampleRateHz' | 'stft'>, inputRateHz: number, outputRateHz: number): StreamTiming {
  const plan = planRates(inputRateHz, model.sampleRateHz, outputRateHz, stftLatencySamples(model.stft));
  return { latencySamples: plan.latencyOutputSamples, vadHopSamples: (model.stft.hopSamples * outputRateHz) / model.sampleRateHz };
}
