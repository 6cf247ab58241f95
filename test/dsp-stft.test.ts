import t from 'tap';
import {
  OlaSynthesizer,
  StftAnalyzer,
  offlineStft,
  stftLatencySamples,
  type StftConfig,
  type StftFrame,
} from '../server/dsp/stft.ts';
import { StreamAligner } from '../server/dsp/stream-aligner.ts';
import { chunkBounds, concat, maxAbsDiff, mulberry32, noise, sineSweep } from './helpers/signals.ts';

const CONFIGS: StftConfig[] = [
  { nFft: 1024, hopSamples: 256, window: 'sqrt-hann' },
  { nFft: 512, hopSamples: 128, window: 'sqrt-hann' },
  { nFft: 2048, hopSamples: 512, window: 'hann' },
];
const CHUNK_ORDERS = [[1], [7], [128], [256], [1000], [4096], [1, 7, 128, 256, 1000, 4096], [4096, 1000, 7, 256, 1, 128]];

/** Streams planar `signal` through analysis → synthesis in the given chunking, with latency compensation + flush. */
function roundTrip(signal: Float32Array[], cfg: StftConfig, sizes: number[]): { out: Float32Array[]; delayed: Float32Array[] } {
  const channels = signal.length;
  const analyzer = new StftAnalyzer(cfg, channels);
  const synth = new OlaSynthesizer(cfg, channels);
  const aligner = new StreamAligner(stftLatencySamples(cfg), cfg.hopSamples);
  const aligned: Float32Array[][] = Array.from({ length: channels }, () => []);
  const delayed: Float32Array[][] = Array.from({ length: channels }, () => []);
  const run = (chunk: Float32Array[]): void => {
    for (const frame of analyzer.push(chunk)) {
      const block = synth.push(frame);
      block.forEach((b, c) => delayed[c]!.push(b));
      aligner.align(block).forEach((b, c) => aligned[c]!.push(b));
    }
  };
  for (const [s, e] of chunkBounds(signal[0]!.length, sizes)) {
    aligner.noteInput(e - s);
    run(signal.map((x) => x.subarray(s, e)));
  }
  const pad = aligner.flushPaddingSamples();
  run(signal.map(() => new Float32Array(pad)));
  return { out: aligned.map(concat), delayed: delayed.map(concat) };
}

t.test('identity round trip reconstructs the input delayed by exactly the declared latency', async (t) => {
  const rate = 44100;
  for (const cfg of CONFIGS) {
    const latency = stftLatencySamples(cfg);
    const length = 3 * rate + 123;
    const signals = { noise: [noise(length, 1), noise(length, 2)], sweep: [sineSweep(length, rate), sineSweep(length, rate, 40, 16000)] };
    for (const [name, signal] of Object.entries(signals)) {
      for (const sizes of CHUNK_ORDERS) {
        const { out, delayed } = roundTrip(signal, cfg, sizes);
        // Raw synthesizer output is the input shifted right by `latency` samples (zeros first, flush zeros last).
        const shifted = signal.map((x) => {
          const ref = new Float32Array(delayed[0]!.length);
          ref.set(x, latency);
          return ref;
        });
        const errRaw = Math.max(...delayed.map((d, c) => maxAbsDiff(d, shifted[c]!)));
        const errAligned = Math.max(...out.map((o, c) => maxAbsDiff(o, signal[c]!)));
        t.ok(errRaw < 1e-5, `${cfg.nFft}/${cfg.hopSamples} ${name} chunks ${sizes.join(',')}: delayed error ${errRaw.toExponential(2)}`);
        t.ok(errAligned < 1e-5, `${cfg.nFft}/${cfg.hopSamples} ${name} chunks ${sizes.join(',')}: aligned error ${errAligned.toExponential(2)}`);
        t.equal(out[0]!.length, length, 'output length equals input length after flush');
      }
    }
  }
});

t.test('an impulse at sample k comes out at exactly k + latency', async (t) => {
  const cfg = CONFIGS[0]!;
  for (const k of [0, 1, 255, 256, 1000, 5000]) {
    const x = new Float32Array(8192);
    x[k] = 1;
    const { delayed } = roundTrip([x], cfg, [333]);
    const d = delayed[0]!;
    let peak = 0;
    for (let i = 1; i < d.length; i++) if (Math.abs(d[i]!) > Math.abs(d[peak]!)) peak = i;
    t.equal(peak, k + stftLatencySamples(cfg), `impulse at ${k}`);
    t.ok(Math.abs(d[peak]! - 1) < 1e-5, 'unit gain');
  }
});

t.test('end of stream: output length equals input length for any length', async (t) => {
  const cfg = CONFIGS[0]!;
  for (const length of [0, 1, 255, 256, 257, 767, 768, 769, 10000]) {
    const { out } = roundTrip([noise(length, length + 7)], cfg, [100]);
    t.equal(out[0]!.length, length, `length ${length}`);
  }
});

function naiveDftFrame(x: Float32Array, start: number, cfg: StftConfig, window: Float32Array): { re: Float64Array; im: Float64Array } {
  const bins = cfg.nFft / 2 + 1;
  const re = new Float64Array(bins);
  const im = new Float64Array(bins);
  for (let k = 0; k < bins; k++) {
    for (let n = 0; n < cfg.nFft; n++) {
      const v = start + n < 0 ? 0 : x[start + n]! * window[n]!;
      const phi = (-2 * Math.PI * k * n) / cfg.nFft;
      re[k]! += v * Math.cos(phi);
      im[k]! += v * Math.sin(phi);
    }
  }
  return { re, im };
}

function frameDiff(a: StftFrame, b: StftFrame): number {
  let m = 0;
  a.re.forEach((re, c) => {
    m = Math.max(m, maxAbsDiff(re, b.re[c]!), maxAbsDiff(a.im[c]!, b.im[c]!));
  });
  return m;
}

t.test('streaming STFT frames equal the offline STFT of the whole signal', async (t) => {
  const rate = 44100;
  for (const cfg of CONFIGS) {
    const signal = [noise(rate, 11), sineSweep(rate, rate)];
    const offline = offlineStft(signal, cfg);
    t.equal(offline.length, Math.floor(rate / cfg.hopSamples), 'complete frames only');
    for (const sizes of [[1, 7, 128, 256, 1000, 4096], [4096]]) {
      const analyzer = new StftAnalyzer(cfg, 2);
      const streamed: StftFrame[] = [];
      for (const [s, e] of chunkBounds(rate, sizes)) streamed.push(...analyzer.push(signal.map((x) => x.subarray(s, e))));
      t.equal(streamed.length, offline.length, 'same frame count');
      const err = Math.max(...streamed.map((f, k) => frameDiff(f, offline[k]!)));
      t.ok(err < 1e-5, `${cfg.nFft}/${cfg.hopSamples} chunks ${sizes.join(',')}: max diff ${err.toExponential(2)}`);
    }
  }
});

t.test('offline STFT frames equal a direct DFT of the documented framing (zeros before the stream)', async (t) => {
  const cfg = CONFIGS[1]!;
  const x = noise(4000, 5);
  const frames = offlineStft([x], cfg);
  const { makeWindow } = await import('../server/dsp/window.ts');
  const window = makeWindow(cfg.window, cfg.nFft);
  const rand = mulberry32(3);
  for (const k of [0, 1, 2, 3, 4, Math.floor(rand() * frames.length)]) {
    const ref = naiveDftFrame(x, (k + 1) * cfg.hopSamples - cfg.nFft, cfg, window);
    const err = Math.max(maxAbsDiff(frames[k]!.re[0]!, ref.re), maxAbsDiff(frames[k]!.im[0]!, ref.im));
    t.ok(err < 1e-4, `frame ${k}: ${err.toExponential(2)} (values up to ~${cfg.nFft / 4})`);
  }
});

t.test('bad configurations are rejected with a clear error', async (t) => {
  t.throws(() => new StftAnalyzer({ nFft: 1000, hopSamples: 250, window: 'hann' }, 1), /power of two/);
  t.throws(() => new StftAnalyzer({ nFft: 1024, hopSamples: 2048, window: 'hann' }, 1), /hopSamples/);
  t.throws(() => new OlaSynthesizer({ nFft: 1024, hopSamples: 1024, window: 'hann' }, 1), /gaps/);
  t.throws(() => new StftAnalyzer(CONFIGS[0]!, 2).push([new Float32Array(4)]), /channels/);
});
