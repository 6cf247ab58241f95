/**
 * DSP benchmark: streaming STFT analysis + overlap-add synthesis per frame, its stages, the whole separation
 * pipeline per session-hop with the model step left out (a fixed mask), and resampling cost, on one core.
 * Run through `npm run bench` (bench/run.ts).
 */
import { performance } from 'node:perf_hooks';
import { RealFft } from '../server/dsp/fft.ts';
import { Resampler } from '../server/dsp/resampler.ts';
import { OlaSynthesizer, StftAnalyzer, type StftConfig } from '../server/dsp/stft.ts';
import { magnitudeFeatures } from '../server/pipeline/mask.ts';
import { SeparationPipeline } from '../server/pipeline/separation-pipeline.ts';

export interface DspBenchRow {
  stage: string;
  config: string;
  usPerFrame: number;
  framesPerSecond: number;
  realTimeStreamsPerCore: number;
}

function noise(length: number): Float32Array {
  let s = 1;
  return Float32Array.from({ length }, () => ((s = (s * 16807) % 2147483647) / 2147483647) * 2 - 1);
}

function timeIt(fn: () => void, minMs = 1500, warmUp = 50): { iterations: number; ms: number } {
  for (let i = 0; i < warmUp; i++) fn(); // warm up the JIT
  let iterations = 0;
  const start = performance.now();
  let now = start;
  while (now - start < minMs) {
    for (let i = 0; i < 50; i++) fn();
    iterations += 50;
    now = performance.now();
  }
  return { iterations, ms: now - start };
}

function benchStft(cfg: StftConfig, sampleRateHz: number): DspBenchRow {
  const channels = 2;
  const analyzer = new StftAnalyzer(cfg, channels);
  const synth = new OlaSynthesizer(cfg, channels);
  const hop = [noise(cfg.hopSamples), noise(cfg.hopSamples)];
  const { iterations, ms } = timeIt(() => {
    for (const frame of analyzer.push(hop)) synth.push(frame);
  });
  const usPerFrame = (ms * 1000) / iterations;
  const framesPerSecond = 1e6 / usPerFrame;
  return {
    stage: 'STFT+ISTFT (stereo)',
    config: `${cfg.nFft}/${cfg.hopSamples} ${cfg.window} @ ${sampleRateHz} Hz`,
    usPerFrame,
    framesPerSecond,
    realTimeStreamsPerCore: framesPerSecond / (sampleRateHz / cfg.hopSamples),
  };
}

function row(stage: string, config: string, usPerFrame: number, framesPerRealTimeSecond: number): DspBenchRow {
  const framesPerSecond = 1e6 / usPerFrame;
  return { stage, config, usPerFrame, framesPerSecond, realTimeStreamsPerCore: framesPerSecond / framesPerRealTimeSecond };
}

/** The stages of one stereo STFT hop as the pipeline runs them (frames recycled, mask fused into the overlap-add). */
function benchStftStages(cfg: StftConfig, sampleRateHz: number): DspBenchRow[] {
  const config = `${cfg.nFft}/${cfg.hopSamples} ${cfg.window} @ ${sampleRateHz} Hz`;
  const hopsPerSecond = sampleRateHz / cfg.hopSamples;
  const bins = cfg.nFft / 2 + 1;
  const fft = new RealFft(cfg.nFft);
  const x = noise(cfg.nFft);
  const re = new Float32Array(bins);
  const im = new Float32Array(bins);
  const y = new Float64Array(cfg.nFft);
  const transform = timeIt(() => {
    fft.forward(x, re, im);
    fft.inverse(re, im, y);
  });
  const analyzer = new StftAnalyzer(cfg, 2);
  const hop = [noise(cfg.hopSamples), noise(cfg.hopSamples)];
  const analysis = timeIt(() => {
    for (const frame of analyzer.push(hop)) analyzer.recycle(frame);
  });
  const frame = analyzer.push(hop)[0]!;
  const mask = Float32Array.from({ length: 2 * bins }, (_, k) => (k % 7) / 7);
  const features = new Float32Array(2 * bins);
  const magnitudes = timeIt(() => magnitudeFeatures(frame, features));
  const synth = new OlaSynthesizer(cfg, 2);
  const out = [new Float32Array(cfg.hopSamples), new Float32Array(cfg.hopSamples)];
  const synthesis = timeIt(() => synth.pushMasked(frame, mask, out));
  const us = (r: { iterations: number; ms: number }): number => (r.ms * 1000) / r.iterations;
  return [
    row(`real FFT forward + inverse (${fft.backend}, one channel)`, config, us(transform), hopsPerSecond),
    row('STFT analysis (stereo)', config, us(analysis), hopsPerSecond),
    row('magnitude features (stereo)', config, us(magnitudes), hopsPerSecond),
    row('masked overlap-add synthesis (stereo)', config, us(synthesis), hopsPerSecond),
  ];
}

/**
 * Everything SeparationPipeline does per session-hop except the model step (a fixed mask stands in for it): input
 * resampling when the client rate differs, STFT, magnitude features, mask + overlap-add, delay line, accompaniment,
 * output resampling and alignment. Stereo client audio, one model hop of input per call.
 */
function benchPipeline(clientRateHz: number): DspBenchRow {
  const cfg: StftConfig = { nFft: 1024, hopSamples: 256, window: 'sqrt-hann' };
  const model = { sampleRateHz: 44100, stft: cfg, channels: 2, bins: 513 };
  const pipeline = new SeparationPipeline({ model, inputRateHz: clientRateHz, inputChannels: 2, outputRateHz: clientRateHz });
  const mask = Float32Array.from({ length: 2 * model.bins }, (_, k) => (k % 7) / 7);
  const block = Math.round((cfg.hopSamples * clientRateHz) / model.sampleRateHz);
  const chunk = [noise(block), noise(block)];
  const step = (): void => {
    pipeline.push(chunk);
    while (pipeline.framesPending > 0) {
      pipeline.nextFeatures();
      pipeline.completeFrame(mask, 0.5);
    }
  };
  for (let i = 0; i < 1000; i++) step(); // JIT warm-up, past the initial latency
  const before = pipeline.framesProcessed;
  const { ms } = timeIt(step, 1500, 0);
  const hops = pipeline.framesProcessed - before;
  return row(
    'pipeline per session-hop, model step excluded',
    `1024/256 @ 44100 Hz, client ${clientRateHz} Hz stereo`,
    (ms * 1000) / hops,
    model.sampleRateHz / cfg.hopSamples,
  );
}

function benchResampler(inRateHz: number, outRateHz: number): DspBenchRow {
  const blockSamples = Math.round(inRateHz / 100); // 10 ms client frames
  const r = new Resampler(inRateHz, outRateHz, 2);
  const block = [noise(blockSamples), noise(blockSamples)];
  const { iterations, ms } = timeIt(() => r.push(block));
  const usPerFrame = (ms * 1000) / iterations;
  return {
    stage: 'resample (stereo, per 10 ms)',
    config: `${inRateHz} → ${outRateHz} Hz`,
    usPerFrame,
    framesPerSecond: 1e6 / usPerFrame,
    realTimeStreamsPerCore: 1e6 / usPerFrame / 100,
  };
}

export function runDspBench(): DspBenchRow[] {
  return [
    benchStft({ nFft: 1024, hopSamples: 256, window: 'sqrt-hann' }, 44100),
    benchStft({ nFft: 2048, hopSamples: 512, window: 'sqrt-hann' }, 44100),
    ...benchStftStages({ nFft: 1024, hopSamples: 256, window: 'sqrt-hann' }, 44100),
    benchPipeline(44100),
    benchPipeline(48000),
    benchResampler(48000, 44100),
    benchResampler(44100, 48000),
    benchResampler(16000, 44100),
  ];
}
