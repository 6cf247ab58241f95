import t from 'tap';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import FFT from 'fft.js';
import { readWav } from '../server/dsp/wav.ts';
import { vocalActivity } from '../training/data/vad-labels.ts';
import { generateTrack, TRACK_FILES, trackDir } from '../training/data/synth/generate-track.ts';
import { planJobs } from '../training/data/synth/plan.ts';
import { compose, VOICE_LIKE_PROGRAMS } from '../training/data/synth/composer.ts';
import { Rng } from '../training/data/synth/rng.ts';
import { pickSinger, type Singer } from '../training/data/synth/singers.ts';
import { singFestivalPhrase } from '../training/data/synth/festival-voice.ts';
import { singEspeakPhrase } from '../training/data/synth/espeak-voice.ts';
import { singFormantPhrase } from '../training/data/synth/formant-voice.ts';
import { applyVocalFx } from '../training/data/synth/vocal-fx.ts';
import { trackPitch } from '../training/data/synth/pitch-shifter.ts';
import type { VocalPhrase } from '../training/data/synth/song.ts';

const RATE = 44100;
const scratch = mkdtempSync(join(tmpdir(), 'data-synth-test-'));
t.teardown(() => rmSync(scratch, { recursive: true, force: true }));

t.test('per-track seeds depend only on seed, split and index', async (t) => {
  const small = planJobs('/x', { train: 10, valid: 2, test: 0 }, 1, 60);
  const large = planJobs('/x', { train: 100, valid: 14, test: 20 }, 1, 60);
  for (const job of small) {
    const same = large.find((j) => j.split === job.split && j.index === job.index);
    t.equal(same?.seed, job.seed, `${job.name} keeps its seed`);
    t.equal(same?.name, job.name);
  }
  t.not(planJobs('/x', { train: 1 }, 2, 60)[0]?.seed, small[0]?.seed, 'another --seed gives another track');
});

t.test('a generated track: deterministic bytes, stems sum to the mixture, labels and instrumental share', async (t) => {
  const job = planJobs(join(scratch, 'a'), { train: 1 }, 7, 6)[0];
  if (job === undefined) throw new Error('no job');
  const first = await generateTrack(job);
  t.equal(first.skipped, false);
  const again = await generateTrack({ ...job, outDir: join(scratch, 'b') });
  t.equal(again.skipped, false);
  for (const f of TRACK_FILES) {
    const a = readFileSync(join(trackDir(job), f));
    const b = readFileSync(join(scratch, 'b', job.split, job.name, f));
    t.ok(a.equals(b), `${f} is byte-identical for the same seed`);
  }
  t.equal((await generateTrack(job)).skipped, true, 'a complete track folder is skipped (resume)');

  const dir = trackDir(job);
  const stems = await Promise.all(['mixture', 'vocals', 'drums', 'bass', 'other'].map((s) => readWav(join(dir, `${s}.wav`))));
  for (const s of stems) {
    t.equal(s.sampleRateHz, RATE);
    t.equal(s.channels.length, 2);
    t.equal(s.format, 's16');
    t.equal(s.channels[0]?.length, 6 * RATE);
  }
  const [mix, ...parts] = stems;
  let maxErrLsb = 0;
  let mixEnergy = 0;
  for (let c = 0; c < 2; c++) {
    for (let i = 0; i < 6 * RATE; i++) {
      let sum = 0;
      for (const p of parts) sum += p.channels[c]?.[i] ?? 0;
      const m = mix?.channels[c]?.[i] ?? 0;
      mixEnergy += m * m;
      maxErrLsb = Math.max(maxErrLsb, Math.abs(Math.min(32767 / 32768, Math.max(-1, sum)) - m) * 32768);
    }
  }
  t.ok(maxErrLsb <= 1, `mixture = sum of stems within 16-bit rounding (max error ${maxErrLsb} LSB)`);
  t.ok(mixEnergy > 0, 'the mixture is not silent');
  for (const [i, p] of parts.entries()) {
    let e = 0;
    for (const v of p.channels[0] ?? []) e += v * v;
    t.ok(e > 0, `stem ${i} is not silent`);
  }

  const labelsFile = JSON.parse(readFileSync(join(dir, 'vocal_activity.json'), 'utf8')) as { frameSamples: number; labels: number[] };
  t.equal(labelsFile.frameSamples, 441);
  const vocals = stems[1];
  if (vocals === undefined) throw new Error('no vocals');
  const recomputed = Array.from(vocalActivity(vocals.channels, RATE, 441));
  t.same(labelsFile.labels, recomputed, 'labels follow the seed-004 rule on the written vocals.wav');
  const sung = recomputed.reduce((a, b) => a + b, 0) / recomputed.length;
  t.ok(sung > 0.05, `the track has vocals (${(sung * 100).toFixed(0)} % of frames)`);
  t.ok(1 - sung >= 0.2, `at least 20 % without vocals (${((1 - sung) * 100).toFixed(0)} %)`);
  const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as { seed: number; singer: { engine: string } };
  t.equal(meta.seed, job.seed);
});

t.test('composed songs keep choir/voice presets out of "other" and leave >= 38 % of bars without lead vocals', async (t) => {
  for (let seed = 0; seed < 40; seed++) {
    const durationSec = seed % 2 === 0 ? 60 : 7;
    const song = compose({ durationSec, vocalLow: 48, vocalHigh: 62, minVocalNoteSec: 0.22 }, new Rng(seed));
    const other = song.channels.filter((c) => c.stem === 'other');
    t.notOk(other.some((c) => VOICE_LIKE_PROGRAMS.includes(c.program)), `seed ${seed}: no voice-like program in other`);
    const total = song.sections.reduce((n, s) => n + s.bars, 0);
    const sung = song.sections.reduce((n, s) => n + (s.lead === 'vocal' ? s.bars : 0), 0);
    t.ok(sung / total <= 0.625, `seed ${seed}: ${sung}/${total} bars sung`);
    t.ok(song.leadVocal.length > 0, `seed ${seed}: has a sung phrase`);
    t.ok(song.sections.some((s) => s.lead !== 'vocal'), `seed ${seed}: has a section without lead vocals`);
  }
});

function phrase(): VocalPhrase {
  const words = ['so', 'sweet', 'the', 'storm', 'she', 'sings', 'tonight', 'yes'];
  const midis = [57, 59, 60, 62, 60, 59, 57, 55];
  return { notes: words.map((word, i) => ({ word, midi: midis[i] ?? 57, startSec: 0.5 + i * 0.4, durSec: 0.38 })) };
}

interface SpectrumStats { hiFraction: number; flatnessSd: number; flatnessMax: number; pitchMatch: number }

function spectrumStats(x: Float32Array, notes: VocalPhrase['notes']): SpectrumStats {
  const n = 2048;
  const fft = new FFT(n);
  const out = fft.createComplexArray() as number[];
  const frame = new Array<number>(n).fill(0);
  let hi = 0;
  let total = 0;
  const flat: number[] = [];
  for (let s = 0; s + n <= x.length; s += n / 2) {
    let e = 0;
    for (let i = 0; i < n; i++) {
      frame[i] = (x[s + i] ?? 0) * (0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n));
      e += (frame[i] ?? 0) ** 2;
    }
    if (e < 1e-6) continue;
    fft.realTransform(out, frame);
    let logSum = 0;
    let sum = 0;
    let count = 0;
    for (let k = 1; k < n / 2; k++) {
      const p = (out[2 * k] ?? 0) ** 2 + (out[2 * k + 1] ?? 0) ** 2;
      total += p;
      if ((k * RATE) / n > 8000) hi += p;
      if ((k * RATE) / n < 5000) {
        logSum += Math.log(p + 1e-20);
        sum += p;
        count++;
      }
    }
    flat.push(Math.exp(logSum / count) / (sum / count));
  }
  const mean = flat.reduce((a, b) => a + b, 0) / flat.length;
  const sd = Math.sqrt(flat.reduce((a, b) => a + (b - mean) ** 2, 0) / flat.length);
  // How often the tracked pitch sits within a semitone of the note sung at that moment.
  const track = trackPitch(x, RATE);
  let voiced = 0;
  let match = 0;
  track.f0Hz.forEach((f0, k) => {
    const tSec = (k * track.hopSamples) / RATE;
    const note = notes.find((m) => tSec >= m.startSec + 0.1 && tSec < m.startSec + m.durSec - 0.05);
    if (note === undefined || f0 <= 0) return;
    voiced++;
    const semis = 12 * Math.log2(f0 / (440 * 2 ** ((note.midi - 69) / 12)));
    if (Math.abs(semis) < 1) match++;
  });
  return { hiFraction: hi / total, flatnessSd: sd, flatnessMax: Math.max(...flat), pitchMatch: voiced > 0 ? match / voiced : 0 };
}

t.test('each vocal engine sings the melody with consonants and energy above 8 kHz, never a bare tone', async (t) => {
  const base = pickSinger(new Rng(3));
  const singer = (engine: Singer['engine'], voice: string): Singer => ({
    ...base, engine, voice, gender: 'male', formantRatio: 1, vibratoCents: 20, breathiness: 0.2, lowMidi: 48, highMidi: 64,
  });
  const p = phrase();
  const lengthSamples = 4 * RATE;
  const render: Array<[string, (s: Singer) => Float32Array, Singer]> = [
    ['festival', (s) => singFestivalPhrase(p, s, RATE, scratch), singer('festival', 'kal')],
    ['espeak', (s) => singEspeakPhrase(p, s, RATE, scratch), singer('espeak', 'en+m3')],
    ['formant', (s) => singFormantPhrase(p, s, RATE, new Rng(5)), singer('formant', 'formant-male')],
  ];
  for (const [name, sing, s] of render) {
    const dry = sing(s);
    t.equal(dry.length, Math.round((7 * 0.4 + 0.38) * RATE), `${name}: phrase spans its notes`);
    const placed = new Float32Array(lengthSamples);
    placed.set(dry.subarray(0, lengthSamples - Math.round(0.5 * RATE)), Math.round(0.5 * RATE));
    let peak = 0;
    for (const v of placed) peak = Math.max(peak, Math.abs(v));
    for (let i = 0; i < placed.length; i++) placed[i] = (placed[i] ?? 0) * (0.3 / peak);
    const wet = applyVocalFx(placed, [p], RATE, { breathLevel: 0.2, sibilanceLevel: 0.5, exciterAmount: 0.3 }, new Rng(9));
    const stats = spectrumStats(wet, p.notes);
    t.ok(stats.hiFraction > 1e-3, `${name}: energy above 8 kHz ${(stats.hiFraction * 100).toFixed(2)} %`);
    t.ok(stats.flatnessSd > 0.01 && stats.flatnessMax > 0.05, `${name}: spectral flatness varies (sd ${stats.flatnessSd.toFixed(3)}, max ${stats.flatnessMax.toFixed(3)}) — consonants and breaths, not a tone`);
    t.ok(stats.pitchMatch > 0.6, `${name}: sung pitch follows the melody in ${(stats.pitchMatch * 100).toFixed(0)} % of voiced frames`);
  }
});

t.test('a missing system tool is one clear line and exit code 2', async (t) => {
  // A PATH holding only node: Festival, espeak-ng and sox are all "missing".
  const bin = join(scratch, 'bin');
  mkdirSync(bin);
  symlinkSync(process.execPath, join(bin, 'node'));
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'training/data/synth/cli.ts', '--out', join(scratch, 'never'),
    '--train', '1', '--valid', '0', '--test', '0'], { encoding: 'utf8', env: { ...process.env, PATH: bin }, timeout: 60_000 });
  t.equal(result.status, 2);
  const lines = result.stderr.split('\n').filter((l) => l.trim() !== '');
  t.equal(lines.length, 1, `one line: ${result.stderr}`);
  t.match(lines[0] ?? '', /missing system tool "text2wave".*bash scripts\/setup-system\.sh/);
  t.notMatch(result.stderr, /\n\s+at /, 'no stack trace');
});
