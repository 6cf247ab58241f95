/**
 * The training batch path's fast kernels against the code they replace, bit for bit: the batch STFT (wasm window /
 * PFFFT / magnitude) against the server's offlineStft, and the stem mixer's 16-bit WAV kernel against the general
 * JavaScript path and against the original scale / sum / add / mean-|x| passes.
 */
import t from 'tap';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { offlineStft, stftLatencySamples, type StftConfig } from '../server/dsp/stft.ts';
import { writeWav } from '../server/dsp/wav.ts';
import { openWavSplit, STEM_NAMES, sumSignals, TRACK_FILES, type MusdbTrack, type TrackFile } from '../training/data/musdb.ts';
import { mixStems, StemMixer, type StemDraw } from '../training/data/stem-mixer.ts';
import { vocalActivityPerStftFrame } from '../training/data/vad-labels.ts';
import { batchArrays, prepareBatch } from '../training/train/batch.ts';
import { BatchStft } from '../training/train/batch-stft.ts';
import { inProcessPipeline, workerPipeline, type PipelineSpec } from '../training/train/pipeline.ts';
import { mulberry32, noise, sineSweep } from './helpers/signals.ts';

const SR = 44100;

/** Index of the first differing element, or -1 (Float32Array bit patterns: also tells -0 from +0). */
function firstDifference(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return 0;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return i;
  return -1;
}

/** What prepareBatch computed before batch-stft.ts: offlineStft frames, then sqrt(re² + im²) per bin in JavaScript. */
function reference(signal: Float32Array[], cfg: StftConfig, frames: number): { mag: Float32Array; re: Float32Array; im: Float32Array } {
  const bins = cfg.nFft / 2 + 1;
  const size = frames * signal.length * bins;
  const out = { mag: new Float32Array(size), re: new Float32Array(size), im: new Float32Array(size) };
  offlineStft(signal, cfg).slice(0, frames).forEach((frame, t) => {
    for (let c = 0; c < signal.length; c++) {
      const o = (t * signal.length + c) * bins;
      for (let k = 0; k < bins; k++) {
        const r = frame.re[c]![k]!;
        const i = frame.im[c]![k]!;
        out.mag[o + k] = Math.sqrt(r * r + i * i);
        out.re[o + k] = r;
        out.im[o + k] = i;
      }
    }
  });
  return out;
}

t.test('batch STFT equals offlineStft magnitudes and spectra bit for bit', async (t) => {
  const configs: StftConfig[] = [
    { nFft: 1024, hopSamples: 256, window: 'sqrt-hann' },
    { nFft: 512, hopSamples: 128, window: 'hann' },
    { nFft: 2048, hopSamples: 512, window: 'sqrt-hann' },
    { nFft: 1024, hopSamples: 1024, window: 'hann' },
    { nFft: 16, hopSamples: 4, window: 'hann' }, // below PFFFT's sizes: the offlineStft fallback
  ];
  const loud = noise(SR, 3, 1);
  const quiet = Float32Array.from(noise(SR, 4), (v) => v * 1e-6);
  const sparse = Float32Array.from(sineSweep(SR, SR), (v, i) => (i % 3000 < 1000 ? 0 : v));
  for (const cfg of configs) {
    const stft = new BatchStft(cfg);
    for (const signal of [[loud, sparse], [quiet, loud], [sparse]]) {
      const length = signal[0]!.length - 37; // not a whole number of hops
      const cut = signal.map((x) => x.subarray(0, length));
      const frames = Math.floor(length / cfg.hopSamples);
      const ref = reference(cut, cfg, frames);
      const base = 5; // writes at an offset into a larger array
      const size = ref.mag.length;
      const mag = new Float32Array(size + 2 * base);
      const re = new Float32Array(size + 2 * base);
      const im = new Float32Array(size + 2 * base);
      stft.magnitudes(cut, mag, base, frames, { re, im });
      const label = `${cfg.nFft}/${cfg.hopSamples} ${cfg.window}, ${cut.length} ch`;
      t.equal(firstDifference(mag.subarray(base, base + size), ref.mag), -1, `${label}: magnitudes identical`);
      t.equal(firstDifference(re.subarray(base, base + size), ref.re), -1, `${label}: real parts identical`);
      t.equal(firstDifference(im.subarray(base, base + size), ref.im), -1, `${label}: imaginary parts identical`);
      t.ok(mag[base - 1] === 0 && mag[base + size] === 0, `${label}: nothing written outside the rows`);
      const magOnly = new Float32Array(size);
      stft.magnitudes(cut, magOnly, 0, frames);
      t.equal(firstDifference(magOnly, ref.mag), -1, `${label}: magnitudes without the complex output identical`);
    }
  }
});

t.test('prepareBatch: server STFT magnitudes, VAD labels (given or computed), delayed time targets', async (t) => {
  const cfg: StftConfig = { nFft: 1024, hopSamples: 256, window: 'sqrt-hann' };
  const length = 40 * 256 + 100;
  const rand = mulberry32(11);
  const excerpt = (): { mixture: Float32Array[]; vocals: Float32Array[]; accompaniment: Float32Array[] } => {
    const vocals = [0, 1].map(() => Float32Array.from({ length }, (_, i) => (i > 4000 && i < 7000 ? 0.3 * (rand() - 0.5) : 0)));
    const accompaniment = [0, 1].map(() => Float32Array.from({ length }, () => 0.4 * (rand() - 0.5)));
    return { vocals, accompaniment, mixture: vocals.map((v, c) => Float32Array.from(v, (x, i) => x + accompaniment[c]![i]!)) };
  };
  const items = [excerpt(), excerpt()];
  const given = prepareBatch([{ ...items[0]!, vad: vocalActivityPerStftFrame(items[0]!.vocals, cfg) }, items[1]!], cfg, true);
  const computed = prepareBatch(items, cfg, true);
  const frames = Math.floor(length / cfg.hopSamples);
  const per = frames * 2 * given.bins;
  t.equal(given.frames, frames);
  items.forEach((item, b) => {
    const slice = (a: Float32Array | undefined): Float32Array => a!.subarray(b * per, (b + 1) * per);
    const mix = reference(item.mixture, cfg, frames);
    t.equal(firstDifference(slice(given.mixMag), mix.mag), -1, `item ${b}: mixture magnitudes = offlineStft's`);
    t.equal(firstDifference(slice(given.mixRe), mix.re), -1, `item ${b}: mixture real parts = offlineStft's`);
    t.equal(firstDifference(slice(given.mixIm), mix.im), -1, `item ${b}: mixture imaginary parts = offlineStft's`);
    t.equal(firstDifference(slice(given.vocMag), reference(item.vocals, cfg, frames).mag), -1, `item ${b}: vocal magnitudes`);
    t.equal(firstDifference(slice(given.accMag), reference(item.accompaniment, cfg, frames).mag), -1, `item ${b}: accompaniment magnitudes`);
    const labels = Float32Array.from(vocalActivityPerStftFrame(item.vocals, cfg));
    t.equal(firstDifference(given.vad.subarray(b * frames, (b + 1) * frames), labels), -1, `item ${b}: VAD labels`);
    const delay = stftLatencySamples(cfg);
    const samples = frames * cfg.hopSamples;
    for (let c = 0; c < 2; c++) {
      const expected = new Float32Array(samples);
      expected.set(item.vocals[c]!.subarray(0, samples - delay), delay);
      t.equal(firstDifference(given.vocTime!.subarray((b * 2 + c) * samples, (b * 2 + c + 1) * samples), expected), -1, `item ${b} ch ${c}: delayed vocals`);
    }
  });
  t.ok(labelsPresent(given.vad), 'the test signal has vocal and non-vocal frames');
  for (const key of ['mixMag', 'vocMag', 'accMag', 'vad', 'mixRe', 'mixIm', 'vocTime', 'accTime'] as const) {
    t.equal(firstDifference(given[key]!, computed[key]!), -1, `${key}: same with labels given or computed`);
  }
});

function labelsPresent(vad: Float32Array): boolean {
  return vad.includes(0) && vad.includes(1);
}

// --- stem mixer --------------------------------------------------------------------------------------------------------
const root = mkdtempSync(join(tmpdir(), 'livestem-stem-mixer-'));
t.teardown(() => rmSync(root, { recursive: true, force: true }));

async function writeTrack(dir: string, n: number, seed: number, format: 's16' | 'f32'): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const rand = mulberry32(seed);
  for (const f of TRACK_FILES) {
    // Full scale and exact zeros (also negative ones after a swap) both occur.
    const channel = (): Float32Array => Float32Array.from({ length: n }, (_, i) => (i % 500 < 50 ? 0 : 2 * rand() - 1));
    await writeWav(join(dir, `${f}.wav`), [channel(), channel()], SR, format);
  }
}

/** The same track seen through the general path (as a .stem.mp4 track would be read). */
function generalPath(track: MusdbTrack): MusdbTrack {
  return {
    name: track.name, split: track.split, path: track.path, format: 'stem-mp4', sampleRateHz: track.sampleRateHz, lengthSamples: track.lengthSamples,
    read: (file: TrackFile, start: number, length: number) => track.read(file, start, length),
  };
}

/** The sampler's arithmetic before stem-mixer.ts: scale in place, swap, sumSignals, add, mean |x|. */
async function originalMix(draws: StemDraw[], n: number): Promise<{ vocals: Float32Array[]; accompaniment: Float32Array[]; mixture: Float32Array[]; mixtureMeanAbs: number }> {
  const stems = await Promise.all(draws.map(async (d) => {
    const channels = (await d.track.read(d.stem, d.startSample, n)).map((ch) => {
      for (let i = 0; i < ch.length; i++) ch[i]! *= d.gain;
      return ch;
    });
    return d.swap ? [...channels].reverse() : channels;
  }));
  const vocals = stems[0]!;
  const accompaniment = sumSignals(stems.slice(1));
  const mixture = vocals.map((ch, c) => Float32Array.from(ch, (v, i) => v + accompaniment[c]![i]!));
  let sum = 0;
  for (const ch of mixture) for (const v of ch) sum += Math.abs(v);
  return { vocals, accompaniment, mixture, mixtureMeanAbs: sum / (2 * n) };
}

t.test('stem mixer: 16-bit WAV kernel = general path = original passes, bit for bit', async (t) => {
  const n = 30000;
  await writeTrack(join(root, 's16', 'train', 'a'), n, 1, 's16');
  await writeTrack(join(root, 's16', 'train', 'b'), n + 777, 2, 's16');
  const tracks = await openWavSplit(join(root, 's16'), 'train');
  const fast = new StemMixer();
  const general = new StemMixer();
  const rand = mulberry32(5);
  // Starts inside, at the very end, before the start and past the end of the files (zeros there).
  const starts = [0, 1234, n - 8000, n - 100, -300, n + 50];
  for (const start of starts) {
    for (const swapPattern of [0, 5, 10, 15]) {
      const draws: StemDraw[] = STEM_NAMES.map((stem, k) => ({
        track: tracks[(k + swapPattern) % 2]!, stem, startSample: start, gain: 0.25 * (0.7 + 0.3 * rand()) + rand(), swap: ((swapPattern >> k) & 1) === 1,
      }));
      const length = 8000;
      const a = await fast.read(draws, length);
      const b = await general.read(draws.map((d) => ({ ...d, track: generalPath(d.track) })), length);
      const c = await originalMix(draws, length);
      const label = `start ${start}, swaps ${swapPattern.toString(2)}`;
      for (const key of ['vocals', 'accompaniment', 'mixture'] as const) {
        for (let ch = 0; ch < 2; ch++) {
          t.equal(firstDifference(a[key][ch]!, c[key][ch]!), -1, `${label}: ${key} ch ${ch}, kernel = original`);
          t.equal(firstDifference(b[key][ch]!, c[key][ch]!), -1, `${label}: ${key} ch ${ch}, general path = original`);
        }
      }
      t.equal(a.mixtureMeanAbs, c.mixtureMeanAbs, `${label}: mean |mixture| (kernel)`);
      t.equal(b.mixtureMeanAbs, c.mixtureMeanAbs, `${label}: mean |mixture| (general path)`);
      fast.recycle(a);
    }
  }
});

t.test('stem mixer: recycled blocks are reused once, never shared', async (t) => {
  const tracks = await openWavSplit(join(root, 's16'), 'train');
  const mixer = new StemMixer();
  const draws = (start: number): StemDraw[] => STEM_NAMES.map((stem) => ({ track: tracks[0]!, stem, startSample: start, gain: 0.5, swap: false }));
  const first = await mixer.read(draws(0), 4000);
  const expected = Float32Array.from(first.mixture[0]!);
  mixer.recycle(first);
  mixer.recycle(first);
  const again = await mixer.read(draws(0), 4000);
  t.equal(again.vocals[0]!.buffer, first.vocals[0]!.buffer, 'a recycled block is reused');
  const other = await mixer.read(draws(9000), 4000);
  t.not(other.vocals[0]!.buffer, again.vocals[0]!.buffer, 'handed back twice, still given out once');
  t.equal(firstDifference(again.mixture[0]!, expected), -1, 'reused memory holds the new excerpt');
  const f32 = mixStems([0, 1, 2, 3].map(() => ({ channels: [new Float32Array(10), new Float32Array(10)], gain: 1 })));
  mixer.recycle(f32);
  const after = await mixer.read(draws(0), 4000);
  t.equal(after.vocals[0]!.length, 4000, 'excerpts from the general path are not taken as blocks');
});

t.test('worker pipeline refills handed-back arrays: same batches as in-process, old ones detached', async (t) => {
  const stft: StftConfig = { nFft: 512, hopSamples: 128, window: 'sqrt-hann' };
  const spec: PipelineSpec = {
    source: { dataDir: join(root, 's16'), split: 'train', stft, seed: 7, seqDurSeconds: 0.1, samplesPerTrack: 4 },
    stft,
    batchSize: 3,
    timeDomain: true,
  };
  const local = await inProcessPipeline(spec);
  const worker = workerPipeline(spec);
  const keys = ['mixMag', 'vocMag', 'accMag', 'vad', 'mixRe', 'mixIm', 'vocTime', 'accTime'] as const;
  // The worker keeps two batches ahead: batch i ≥ 4 is prepared after batch i − 4 came back.
  const seen = [];
  for (let i = 0; i < 7; i++) {
    const a = await local.next();
    const b = await worker.next();
    t.same(b.samplerStateBefore, a.samplerStateBefore, `batch ${i}: sampler state`);
    const same = keys.every((k) => firstDifference(a.data[k]!, b.data[k]!) === -1);
    t.ok(same, `batch ${i}: every array identical${i >= 4 ? ' (drawn into the arrays of batch i − 4, handed back)' : ''}`);
    seen.push(b);
  }
  t.ok(batchArrays(seen[4]!.data).every((a) => a.length === 0), 'a batch two calls old was handed back (detached here)');
  t.ok(batchArrays(seen[5]!.data).every((a) => a.length > 0), 'the previous batch is still readable');
  await worker.close();
});
