import t from 'tap';
import { Resampler } from '../server/dsp/resampler.ts';
import { chunkBounds, concat, maxAbsDiff, noise, sine } from './helpers/signals.ts';

function run(r: Resampler, x: Float32Array[], sizes: number[]): Float32Array[] {
  const parts: Float32Array[][] = x.map(() => []);
  for (const [s, e] of chunkBounds(x[0]!.length, sizes)) r.push(x.map((c) => c.subarray(s, e))).forEach((o, c) => parts[c]!.push(o));
  r.flush().forEach((o, c) => parts[c]!.push(o));
  return parts.map(concat);
}

function rms(x: Float32Array, from: number, to: number): number {
  let s = 0;
  for (let i = from; i < to; i++) s += x[i]! * x[i]!;
  return Math.sqrt(s / (to - from));
}

/** Frequency from the phase advance of the analytic correlation with a reference (robust, sub-Hz). */
function estimateFrequencyHz(x: Float32Array, rateHz: number, guessHz: number, from: number, to: number): number {
  // Zero crossings with linear interpolation over a long span.
  const crossings: number[] = [];
  for (let i = from + 1; i < to; i++) {
    if (x[i - 1]! < 0 && x[i]! >= 0) crossings.push(i - 1 + x[i - 1]! / (x[i - 1]! - x[i]!));
  }
  const first = crossings[0]!;
  const last = crossings[crossings.length - 1]!;
  const f = ((crossings.length - 1) * rateHz) / (last - first);
  return Number.isFinite(f) ? f : guessHz;
}

t.test('1 kHz sine 48 kHz → 44.1 kHz → 48 kHz keeps frequency and level; delay is reported', async (t) => {
  const x = sine(48000 * 2, 48000, 1000, 0.5);
  const down = new Resampler(48000, 44100, 1);
  const up = new Resampler(44100, 48000, 1);
  const mid = run(down, [x], [480, 7, 1000])[0]!;
  const y = run(up, [mid], [441, 13])[0]!;
  const delay = down.delayOutputSamples * (48000 / 44100) + up.delayOutputSamples;
  t.ok(delay > 0, `round-trip delay reported: ${delay.toFixed(3)} samples at 48 kHz`);
  const from = 4000;
  const to = x.length - 4000;
  const levelDb = 20 * Math.log10(rms(y, from, to) / rms(x, from, to));
  t.ok(Math.abs(levelDb) < 0.1, `level change ${levelDb.toFixed(4)} dB`);
  const f = estimateFrequencyHz(y, 48000, 1000, from, to);
  t.ok(Math.abs(f - 1000) < 0.05, `frequency ${f.toFixed(4)} Hz`);
  // The output is the input delayed by exactly the reported delay.
  let err = 0;
  for (let i = from; i < to; i++) err = Math.max(err, Math.abs(y[i]! - 0.5 * Math.sin((2 * Math.PI * 1000 * (i - delay)) / 48000)));
  t.ok(err < 1e-3, `matches the input delayed by the reported delay (max error ${err.toExponential(2)})`);
});

t.test('every client rate in 8–48 kHz round-trips through 44.1 kHz at unity gain', async (t) => {
  for (const rate of [8000, 11025, 16000, 22050, 24000, 32000, 44100, 48000]) {
    const x = sine(rate, rate, 440, 0.5);
    const toModel = new Resampler(rate, 44100, 1);
    const back = new Resampler(44100, rate, 1);
    const y = run(back, [run(toModel, [x], [160])[0]!], [441])[0]!;
    const edge = Math.floor(rate / 8);
    const levelDb = 20 * Math.log10(rms(y, edge, rate - edge) / rms(x, edge, rate - edge));
    t.ok(Math.abs(levelDb) < 0.1, `${rate} Hz: level change ${levelDb.toFixed(4)} dB`);
  }
});

t.test('output is bit-identical whatever the chunking', async (t) => {
  const x = [noise(20000, 1), noise(20000, 2)];
  const reference = run(new Resampler(48000, 44100, 2), x, [20000]);
  for (const sizes of [[1], [7], [128, 1000], [4096, 1, 333]]) {
    const y = run(new Resampler(48000, 44100, 2), x, sizes);
    t.same([y[0]!.length, y[1]!.length], [reference[0]!.length, reference[1]!.length], `lengths for ${sizes.join(',')}`);
    t.equal(Math.max(maxAbsDiff(y[0]!, reference[0]!), maxAbsDiff(y[1]!, reference[1]!)), 0, `chunks ${sizes.join(',')}`);
  }
});

t.test('a chosen whole-sample delay makes the round trip an integer delay', async (t) => {
  // 48 kHz client, 44.1 kHz model: a model-side delay that is a multiple of 147 maps to whole client samples.
  const up = new Resampler(44100, 48000, 1, { delayInputSamples: 147 });
  t.equal(up.delayOutputSamples, 160);
  const impulse = new Float32Array(44100);
  impulse[1000] = 1;
  const y = run(up, [impulse], [512])[0]!;
  let peak = 0;
  for (let i = 1; i < y.length; i++) if (y[i]! > y[peak]!) peak = i;
  t.equal(peak, Math.round((1000 * 48000) / 44100) + 160, 'impulse lands delayed by the declared whole-sample delay');
  t.throws(() => new Resampler(44100, 48000, 1, { delayInputSamples: 3 }), /delayInputSamples/);
  t.throws(() => new Resampler(44100.5, 48000, 1), /integers/);
});

t.test('equal rates are a pure delay of delayInputSamples', async (t) => {
  const x = noise(5000, 9);
  const r = new Resampler(44100, 44100, 1, { delayInputSamples: 10 });
  const y = run(r, [x], [37])[0]!;
  t.equal(maxAbsDiff(y.subarray(10, 5010), x), 0);
  t.equal(new Resampler(44100, 44100, 1).delayOutputSamples, 0);
});

t.test('offsetPhases shifts the output grid by P/L of an input sample, any chunking, down to one sample early', async (t) => {
  // 44.1 → 48 kHz: L = 160, M = 147. Output j sits at input time (j·147 + P)/160 − D.
  const x = sine(8000, 44100, 2000, 0.5);
  const D = Resampler.minDelayInputSamples(44100, 48000);
  for (const offsetPhases of [-159, -1, 1, 80, 159, 160, 1000]) {
    const r = new Resampler(44100, 48000, 1, { offsetPhases });
    t.equal(r.offsetPhases, offsetPhases);
    const y = run(r, [x], [1000])[0]!;
    let err = 0;
    for (let j = 200; j < 8000; j++) {
      const at = (j * 147 + offsetPhases) / 160 - D;
      if (at > x.length - 2 * D) break;
      err = Math.max(err, Math.abs(y[j]! - 0.5 * Math.sin((2 * Math.PI * 2000 * at) / 44100)));
    }
    t.ok(err < 1e-3, `offsetPhases ${offsetPhases}: max error ${err.toExponential(2)}`);
    t.ok(y.every(Number.isFinite), `offsetPhases ${offsetPhases}: no read outside the zero history`);
    const chunked = run(new Resampler(44100, 48000, 1, { offsetPhases }), [x], [1, 7, 333]);
    t.equal(maxAbsDiff(chunked[0]!, y), 0, `offsetPhases ${offsetPhases}: chunking-invariant`);
  }
  t.throws(() => new Resampler(44100, 48000, 1, { offsetPhases: -160 }), /offsetPhases/);
  t.throws(() => new Resampler(44100, 48000, 1, { offsetPhases: 0.5 }), /offsetPhases/);
});

t.test('stereo and multichannel output equals each channel resampled alone, bit for bit', async (t) => {
  // Stereo takes a two-channel pass over the taps, other counts one channel at a time: same sums, same order.
  const cases: Array<[number, number, { delayInputSamples?: number; offsetPhases?: number }]> = [
    [48000, 44100, {}],
    [44100, 48000, { offsetPhases: 37 }],
    [16000, 44100, { delayInputSamples: 40 }],
    [44100, 32000, { delayInputSamples: 35, offsetPhases: -1 }],
  ];
  for (const [inRate, outRate, options] of cases) {
    for (const channels of [2, 3]) {
      const x = Array.from({ length: channels }, (_, c) => noise(6000, 20 + c));
      const y = run(new Resampler(inRate, outRate, channels, options), x, [480, 1, 2049]);
      for (let c = 0; c < channels; c++) {
        const alone = run(new Resampler(inRate, outRate, 1, options), [x[c]!], [4096, 3])[0]!;
        t.equal(y[c]!.length, alone.length);
        t.equal(maxAbsDiff(y[c]!, alone), 0, `${inRate} → ${outRate} ${JSON.stringify(options)}, ${channels} channels, channel ${c}`);
      }
    }
  }
});

t.test('each push returns fresh output arrays', async (t) => {
  const r = new Resampler(48000, 44100, 2);
  const block = [noise(480, 5), noise(480, 6)];
  const first = r.push(block);
  const copy = first.map((c) => c.slice());
  const second = r.push(block);
  t.not(first[0], second[0]);
  t.equal(maxAbsDiff(first[0]!, copy[0]!) + maxAbsDiff(first[1]!, copy[1]!), 0, 'earlier output is left alone');
});
