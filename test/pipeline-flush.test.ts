import t from 'tap';
import { SeparationPipeline, type PipelineModelSpec } from '../server/pipeline/separation-pipeline.ts';
import { planRates, segmentPhase } from '../server/pipeline/rate-plan.ts';
import { concat, maxAbsDiff, mulberry32, noise } from './helpers/signals.ts';

const MODEL: PipelineModelSpec = {
  sampleRateHz: 44100,
  stft: { nFft: 1024, hopSamples: 256, window: 'sqrt-hann' },
  channels: 2,
  bins: 513,
};
const STFT_LATENCY_SAMPLES = 1024 - 256;

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

type Mask = (features: Float32Array) => Float32Array;
const identityMask: Mask = () => new Float32Array(2 * 513).fill(1);

/** ceil(n·out/in) in exact integer arithmetic: the protocol's length after n input samples. */
function expectedOutput(inputSamples: number, inputRateHz: number, outputRateHz: number): number {
  return Number((BigInt(inputSamples) * BigInt(outputRateHz) + BigInt(inputRateHz) - 1n) / BigInt(inputRateHz));
}

/**
 * Drives a pipeline the way StreamProcessor does (end → drain → startNextSegment per flush) with a synchronous mask,
 * checks that block offsets are contiguous, and keeps everything it outputs.
 */
class Driver {
  readonly pipeline: SeparationPipeline;
  readonly vocals: Float32Array[][];
  readonly accompaniment: Float32Array[][];
  readonly vad: Array<{ sampleOffset: number }> = [];
  /** `pipeline.outputSamples` reported at each flush (what `flushed.sampleOffset` carries). */
  readonly flushedAt: number[] = [];
  private expectedOffset = 0;

  constructor(
    readonly inputRateHz: number,
    readonly outputRateHz: number,
    channels: number,
    private readonly mask: Mask = identityMask,
  ) {
    this.pipeline = new SeparationPipeline({ model: MODEL, inputRateHz, inputChannels: channels, outputRateHz });
    this.vocals = Array.from({ length: channels }, () => []);
    this.accompaniment = Array.from({ length: channels }, () => []);
  }

  push(input: Float32Array[]): void {
    this.pipeline.push(input);
    this.drain();
  }

  /** Ends the segment like `flush`: everything out, then a fresh segment. */
  flush(): number {
    this.finishSegment();
    this.flushedAt.push(this.pipeline.outputSamples);
    this.pipeline.startNextSegment();
    return this.flushedAt[this.flushedAt.length - 1]!;
  }

  /** Ends the stream like `end`. */
  end(): void {
    this.finishSegment();
  }

  output(kind: 'vocals' | 'accompaniment'): Float32Array[] {
    return this[kind].map(concat);
  }

  private finishSegment(): void {
    this.pipeline.end();
    this.drain();
    if (!this.pipeline.segmentComplete) throw new Error('segment ended without producing all of its output');
  }

  private drain(): void {
    const p = this.pipeline;
    while (p.framesPending > 0) {
      const block = p.completeFrame(this.mask(p.nextFeatures()), 0.5);
      if (block.sampleOffset !== this.expectedOffset) throw new Error(`gap: ${block.sampleOffset} vs ${this.expectedOffset}`);
      this.expectedOffset += block.vocals[0]!.length;
      block.vocals.forEach((ch, c) => this.vocals[c]!.push(ch.slice()));
      block.accompaniment.forEach((ch, c) => this.accompaniment[c]!.push(ch.slice()));
      if (block.vad) this.vad.push(block.vad);
    }
    if (this.expectedOffset !== p.outputSamples) throw new Error(`outputSamples ${p.outputSamples} vs blocks ${this.expectedOffset}`);
  }
}

t.test('five one-sample segments at 44.1 → 48 kHz give ceil(5 · 48000 / 44100) = 6 samples, not 10', async (t) => {
  const d = new Driver(44100, 48000, 1);
  const flushed: number[] = [];
  for (let s = 0; s < 5; s++) {
    d.push([new Float32Array([0.5])]);
    flushed.push(d.flush());
  }
  d.end();
  t.same(flushed, [2, 3, 4, 5, 6], 'flushed offsets: ceil(n · 48000 / 44100) after n samples');
  t.equal(d.pipeline.outputSamples, 6);
  t.equal(d.output('vocals')[0]!.length, 6);
  t.equal(d.output('accompaniment')[0]!.length, 6);
});

t.test('random segment lengths: after every flush and at end, output == ceil(total input · out / in)', async (t) => {
  const pairs: Array<[number, number]> = [
    [44100, 48000],
    [48000, 44100],
    [16000, 44100],
    [8000, 48000],
    [44100, 44100],
    [48000, 11025],
    [22050, 32000],
    [32000, 8000],
  ];
  const rand = mulberry32(41);
  for (const [inputRateHz, outputRateHz] of pairs) {
    const channels = 1 + Math.floor(rand() * 2);
    const d = new Driver(inputRateHz, outputRateHz, channels);
    const flushes = 12 + Math.floor(rand() * 12);
    let totalInput = 0;
    let wrong = 0;
    for (let k = 0; k < flushes; k++) {
      // Mostly tiny segments (where per-segment rounding showed), some longer than a frame, some empty.
      const r = rand();
      const length = r < 0.15 ? 0 : r < 0.7 ? 1 + Math.floor(rand() * 7) : Math.floor(rand() * 3000);
      if (length > 0) d.push(Array.from({ length: channels }, (_, c) => noise(length, 100 * k + c, 0.3)));
      totalInput += length;
      if (d.flush() !== expectedOutput(totalInput, inputRateHz, outputRateHz)) wrong++;
    }
    const tail = 1 + Math.floor(rand() * 500);
    d.push(Array.from({ length: channels }, (_, c) => noise(tail, 7 + c, 0.3)));
    totalInput += tail;
    d.end();
    const expected = expectedOutput(totalInput, inputRateHz, outputRateHz);
    const label = `${inputRateHz}→${outputRateHz} Hz, ${flushes} flushes, ${totalInput} input samples`;
    t.equal(wrong, 0, `${label}: flushed offset exact after every flush`);
    t.equal(d.pipeline.outputSamples, expected, `${label}: total at end`);
    t.equal(d.output('vocals')[channels - 1]!.length, expected, `${label}: vocals length`);
    t.equal(d.output('accompaniment')[0]!.length, expected, `${label}: accompaniment length`);
  }
});

t.test('equal rates: vocals + accompaniment reproduce the input exactly across flush boundaries', async (t) => {
  const rand = mulberry32(43);
  const mask: Mask = () => Float32Array.from({ length: 2 * 513 }, () => rand());
  const d = new Driver(44100, 44100, 2, mask);
  const input = [noise(30000, 1, 0.4), noise(30000, 2, 0.4)];
  const cuts = [0, 1, 2, 700, 701, 5000, 5256, 12345, 20000, 30000];
  for (let i = 1; i < cuts.length; i++) {
    d.push(input.map((ch) => ch.subarray(cuts[i - 1]!, cuts[i]!)));
    if (i < cuts.length - 1) t.equal(d.flush(), cuts[i], `flushed at ${cuts[i]}`);
  }
  d.end();
  const vocals = d.output('vocals');
  const accompaniment = d.output('accompaniment');
  for (let c = 0; c < 2; c++) {
    const sum = vocals[c]!.map((v, i) => v + accompaniment[c]![i]!);
    const err = maxAbsDiff(sum, input[c]!);
    t.ok(err < 1e-5, `channel ${c}: max error ${err}`);
  }
});

t.test('resampled segments stay sample-aligned: a tone across flushes matches the tone at the global offset', async (t) => {
  // A tone well inside every passband; outside a margin around each boundary (filter tails meet the segment's zero
  // padding there) segment output must be the tone at global output time t/Ro. Ignoring a segment's sub-sample lead
  // would shift that segment by up to one output sample: at 3 kHz that is an error of up to ~0.1 here.
  const freqHz = 3000;
  const amplitude = 0.5;
  const cases: Array<[number, number]> = [
    [44100, 48000],
    [48000, 44100],
    [16000, 44100],
    [22050, 32000],
    [48000, 11025],
    [32000, 8000],
  ];
  const rand = mulberry32(47);
  for (const [inputRateHz, outputRateHz] of cases) {
    const total = Math.round(inputRateHz * 0.6);
    const input = Float32Array.from({ length: total }, (_, i) => amplitude * Math.sin((2 * Math.PI * freqHz * i) / inputRateHz));
    // Uneven cuts so the segments start at many different sub-sample leads.
    const cuts = [0];
    while (cuts[cuts.length - 1]! < total) cuts.push(Math.min(total, cuts[cuts.length - 1]! + 1500 + Math.floor(rand() * 3000)));
    const d = new Driver(inputRateHz, outputRateHz, 1);
    for (let i = 1; i < cuts.length; i++) {
      d.push([input.subarray(cuts[i - 1]!, cuts[i]!)]);
      if (i < cuts.length - 1) d.flush();
    }
    d.end();
    const out = d.output('vocals')[0]!;
    t.equal(out.length, expectedOutput(total, inputRateHz, outputRateHz));
    // Margin: both filters' half-widths (16 periods of the lower rate each) plus slack, in output samples.
    const margin = Math.ceil(outputRateHz * (40 / Math.min(inputRateHz, 44100) + 40 / Math.min(44100, outputRateHz)));
    const boundaries = cuts.map((c) => expectedOutput(c, inputRateHz, outputRateHz));
    let err = 0;
    let checked = 0;
    for (let j = 0; j < out.length; j++) {
      if (boundaries.some((b) => Math.abs(j - b) < margin)) continue;
      err = Math.max(err, Math.abs(out[j]! - amplitude * Math.sin((2 * Math.PI * freqHz * j) / outputRateHz)));
      checked++;
    }
    t.ok(checked > out.length / 3, `${inputRateHz}→${outputRateHz}: ${checked} of ${out.length} samples checked`);
    t.ok(err < 5e-4, `${inputRateHz}→${outputRateHz}, ${cuts.length - 2} flushes: tone error ${err.toExponential(2)}`);
  }
});

t.test('VAD offsets after a flush follow the segment lead', async (t) => {
  // 44.1 → 48 kHz: no input resampler, so hop k of a segment starting at input I is at output I·Ro/Ri + k·hop·Ro/Rm.
  const d = new Driver(44100, 48000, 1);
  d.push([noise(1001, 3, 0.3)]);
  d.flush();
  const before = d.vad.length;
  d.push([noise(4000, 4, 0.3)]);
  d.end();
  const second = d.vad.slice(before);
  t.equal(second.length, Math.floor(4000 / 256));
  second.forEach((v, k) => t.equal(v.sampleOffset, Math.round(((1001 + k * 256) * 48000) / 44100), `hop ${k}`));
});

t.test('segmentPhase: the resampler phases add up to the lead exactly, within what each resampler accepts', async (t) => {
  const rates = [8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000];
  const rand = mulberry32(53);
  let bad = 0;
  let checked = 0;
  for (const modelRateHz of [44100, 48000, 16000, 22050, 44099]) {
    for (const ri of rates) {
      for (const ro of rates) {
        // segmentPhase reads only the rates; planRates' delay search is too slow to run for 243 triples here.
        const plan = { ...planRates(44100, 44100, 44100, STFT_LATENCY_SAMPLES), inputRateHz: ri, modelRateHz, outputRateHz: ro };
        // The resamplers' L (outRate / gcd): their offsetPhases are in 1/L of their input sample.
        const inUp = modelRateHz / gcd(ri, modelRateHz);
        const outUp = ro / gcd(modelRateHz, ro);
        for (let trial = 0; trial < 20; trial++) {
          const offset = trial === 0 ? 0 : Math.floor(rand() * 1e9);
          const { leadOutputSamples: lead, inputOffsetPhases: q, outputOffsetPhases: p } = segmentPhase(plan, offset);
          checked++;
          // Lead·Ri = B·Ri − I·Ro (an integer); the phases must sum to it: q/(inUp·Ri) + p/(outUp·Rm) = lead/Ro.
          const n = BigInt(expectedOutput(offset, ri, ro)) * BigInt(ri) - BigInt(offset) * BigInt(ro);
          const lhs = BigInt(q) * BigInt(ro) * BigInt(outUp) * BigInt(modelRateHz) + BigInt(p) * BigInt(ro) * BigInt(inUp) * BigInt(ri);
          const rhs = n * BigInt(inUp) * BigInt(outUp) * BigInt(modelRateHz);
          const ok =
            lhs === rhs &&
            Math.abs(lead - Number(n) / ri) < 1e-12 &&
            lead >= 0 &&
            lead < 1 &&
            q >= 0 &&
            p > -outUp &&
            (ri !== modelRateHz || q === 0) &&
            (ro !== modelRateHz || p === 0);
          if (!ok) {
            bad++;
            t.fail(`${ri}→${modelRateHz}→${ro} at ${offset}: lead ${lead}, q ${q}, p ${p}`);
          }
        }
      }
    }
  }
  t.equal(bad, 0, `${checked} cases`);
});
