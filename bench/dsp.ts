/**
 * DSP benchmark: streaming STFT analysis + overlap-add synthesis per frame, and resampling cost, on one core.
 * Run through `npm run bench` (bench/run.ts).
 */
import { performance } from 'node:perf_hooks';
import { Resampler } from '../server/dsp/resampler.ts';
import { OlaSynthesizer, StftAnalyzer, type StftConfig } from '../server/dsp/stft.ts';

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

function timeIt(fn: () => void, minMs = 1500): { iterations: number; ms: number } {
  for (let i = 0; i < 50; i++) fn(); // warm up the JIT
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
    benchResampler(48000, 44100),
    benchResampler(44100, 48000),
    benchResampler(16000, 44100),
  ];
}
