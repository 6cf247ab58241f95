import t from 'tap';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BSS_METRICS, bssEvalV4 } from '../training/eval/bss-eval.ts';
import { limitedCorrelations } from '../training/eval/correlation.ts';
import { choleskyInPlace, choleskySolveInPlace } from '../training/eval/linear-solve.ts';

// museval's reference vectors, in the repository (test/fixtures/museval/README.md: provenance, and why FLAC).
const VECTORS = fileURLToPath(new URL('./fixtures/museval/', import.meta.url));
const SOURCES = ['vocals', 'accompaniment'] as const;
const CASES = ['leak', 'filtered', 'silent_start'] as const;

interface Expected {
  cases: Record<string, { seconds: number; channels: number; sample_rate: number; metrics: Record<string, { frames: Record<string, (number | null)[]>; median: Record<string, number> }> }>;
}

/** sha256 of each fixture's PCM (s16le interleaved) = of the data chunk of the shared WAV it was made from. */
const PCM_SHA256 = new Map(
  readFileSync(`${VECTORS}pcm.sha256`, 'utf8')
    .trim()
    .split('\n')
    .map((line) => {
      const [hash, name] = line.split(/\s+/);
      return [name!, hash!] as const;
    }),
);

/** Rate, channels, bits and length from the FLAC STREAMINFO block (always first, right after "fLaC"). */
function flacStreamInfo(file: Buffer): { sampleRateHz: number; channels: number; bits: number; samples: number } {
  if (file.toString('latin1', 0, 4) !== 'fLaC' || (file[4]! & 0x7f) !== 0) throw new Error('not a FLAC file with STREAMINFO first');
  const b = (i: number): number => file[8 + i]!;
  return {
    sampleRateHz: (b(10) << 12) | (b(11) << 4) | (b(12) >> 4),
    channels: ((b(12) >> 1) & 7) + 1,
    bits: (((b(12) & 1) << 4) | (b(13) >> 4)) + 1,
    samples: (b(13) & 0x0f) * 2 ** 32 + file.readUInt32BE(8 + 14),
  };
}

/**
 * One fixture as planar int16 / 32768, exactly as the vectors were scored: decoded by ffmpeg (FLAC is lossless) and
 * checked bit for bit against the shared WAV's samples (pcm.sha256) before use.
 */
function readFixture(name: string, want: { sample_rate: number; channels: number; seconds: number }): Float32Array[] {
  const path = `${VECTORS}${name}.flac`;
  const info = flacStreamInfo(readFileSync(path));
  const expectInfo = { sampleRateHz: want.sample_rate, channels: want.channels, bits: 16, samples: Math.round(want.seconds * want.sample_rate) };
  if (JSON.stringify(info) !== JSON.stringify(expectInfo)) throw new Error(`${name}.flac is ${JSON.stringify(info)}, expected ${JSON.stringify(expectInfo)}`);
  let pcm: Buffer;
  try {
    pcm = execFileSync('ffmpeg', ['-v', 'error', '-nostdin', '-i', path, '-f', 's16le', '-c:a', 'pcm_s16le', '-'], { maxBuffer: 64 << 20 });
  } catch (e) {
    throw new Error(`decoding ${name}.flac needs ffmpeg (scripts/setup-system.sh installs it): ${(e as Error).message}`, { cause: e });
  }
  const hash = createHash('sha256').update(pcm).digest('hex');
  if (hash !== PCM_SHA256.get(name)) throw new Error(`${name}.flac decodes to PCM with sha256 ${hash}, not the reference's ${PCM_SHA256.get(name)}`);
  if (pcm.length !== info.samples * info.channels * 2) throw new Error(`${name}.flac decoded to ${pcm.length} bytes`);
  return Array.from({ length: info.channels }, (_, c) => Float32Array.from({ length: info.samples }, (_, i) => pcm.readInt16LE(2 * (i * info.channels + c)) / 32768));
}

function tolerance(expected: number): number {
  return Math.abs(expected) < 40 ? 0.01 : 0.5;
}

t.test('matches museval BSS-Eval v4 on every frame of the reference vectors', async (t) => {
  const expected = JSON.parse(readFileSync(`${VECTORS}expected.json`, 'utf8')) as Expected;
  t.same(Object.keys(expected.cases).sort(), [...CASES].sort(), 'expected.json holds exactly the three cases');
  for (const name of CASES) {
    const exp = expected.cases[name];
    if (exp === undefined) throw new Error(`case ${name} missing from expected.json`);
    const refs = SOURCES.map((s) => readFixture(`${name}_ref_${s}`, exp));
    const ests = SOURCES.map((s) => readFixture(`${name}_est_${s}`, exp));
    const scores = bssEvalV4(refs, ests, { windowSamples: 44100, hopSamples: 44100, filterTaps: 512 });
    SOURCES.forEach((source, j) => {
      const want = exp.metrics[source]!;
      const got = scores[j]!;
      for (const metric of BSS_METRICS) {
        const wantFrames = want.frames[metric]!;
        const gotFrames = got.frames[metric];
        t.equal(gotFrames.length, wantFrames.length, `${name} ${source} ${metric}: frame count`);
        let worst = 0;
        wantFrames.forEach((w, i) => {
          const g = gotFrames[i];
          if (w === null) {
            t.equal(g, null, `${name} ${source} ${metric} frame ${i} undefined like museval`);
            return;
          }
          t.type(g, 'number', `${name} ${source} ${metric} frame ${i} defined like museval`);
          if (typeof g !== 'number') return;
          const err = Math.abs(g - w);
          if (err > tolerance(w)) t.fail(`${name} ${source} ${metric} frame ${i}: ${g} vs museval ${w}`);
          worst = Math.max(worst, err / tolerance(w));
        });
        t.ok(worst <= 1, `${name} ${source} ${metric}: every frame within tolerance (worst ${worst.toFixed(3)} of it)`);
        const m = got.median[metric];
        t.ok(m !== null && Math.abs(m - want.median[metric]!) <= tolerance(want.median[metric]!),
          `${name} ${source} ${metric}: median ${m} vs ${want.median[metric]}`);
      }
    });
  }
});

t.test('a perfect estimate scores far above a noisy one; a silent reference window is null for all sources', async (t) => {
  const n = 44100 * 3;
  let seed = 7;
  const rnd = (): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648 - 0.5;
  };
  const voc = [new Float32Array(n), new Float32Array(n)];
  const acc = [new Float32Array(n), new Float32Array(n)];
  for (let i = 0; i < n; i++) {
    const v = i < 44100 ? 0 : 0.3 * Math.sin((2 * Math.PI * 440 * i) / 44100) * (1 + 0.3 * rnd());
    voc[0]![i] = v;
    voc[1]![i] = 0.8 * v;
    acc[0]![i] = 0.2 * rnd();
    acc[1]![i] = 0.2 * rnd();
  }
  const noisy = voc.map((ch, c) => Float32Array.from(ch, (v, i) => v + 0.05 * acc[c]![i]! + 0.01 * rnd()));
  // near-perfect: the exact estimate has zero error energy, i.e. +inf dB, which museval reports as undefined
  const nearPerfect = [voc, acc].map((src) => src.map((ch) => Float32Array.from(ch, (v) => v + 1e-6 * rnd())));
  const perfect = bssEvalV4([voc, acc], nearPerfect);
  const exact = bssEvalV4([voc, acc], [voc, acc]);
  t.equal(exact[0]!.frames.SDR[1], null, 'an exact estimate (infinite SDR) is reported undefined, as museval stores it');
  const leaky = bssEvalV4([voc, acc], [noisy, acc]);
  t.same(perfect[0]!.frames.SDR.slice(0, 1), [null], 'first second of vocals is silent → undefined');
  t.same(perfect[1]!.frames.SDR.slice(0, 1), [null], 'and undefined for the other source too, like museval');
  t.ok(perfect[0]!.median.SDR! > 60, `perfect vocals SDR ${perfect[0]!.median.SDR}`);
  t.ok(leaky[0]!.median.SDR! < 40 && leaky[0]!.median.SDR! > 10, `leaky vocals SDR ${leaky[0]!.median.SDR}`);
});

t.test('block-wise limited correlations equal the direct sums', async (t) => {
  const n = 20000;
  const x = Float64Array.from({ length: n }, (_, i) => Math.sin(i * 0.013) + ((i * 7919) % 13) / 13 - 0.5);
  const y = Float64Array.from({ length: n }, (_, i) => Math.cos(i * 0.021) * (((i * 104729) % 17) / 17 - 0.5));
  const maxLag = 40;
  const [r] = limitedCorrelations([x], [y], [[0, 0]], maxLag);
  let worst = 0;
  for (const k of [-40, -17, -1, 0, 1, 5, 39, 40]) {
    let direct = 0;
    for (let i = 0; i < n; i++) if (i + k >= 0 && i + k < n) direct += x[i]! * y[i + k]!;
    worst = Math.max(worst, Math.abs(direct - r![maxLag + k]!));
  }
  t.ok(worst < 1e-8, `max error ${worst}`);
});

t.test('Cholesky solves a positive definite system and drops exactly dependent directions', async (t) => {
  const n = 30;
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i * n + j] = Math.exp(-Math.abs(i - j) / 3) + (i === j ? 0.1 : 0);
  const b = Float64Array.from({ length: n * 2 }, (_, i) => Math.sin(i));
  const l = Float64Array.from(a);
  t.equal(choleskyInPlace(l, n), 0, 'nothing dropped from a definite matrix');
  const x = Float64Array.from(b);
  choleskySolveInPlace(l, n, x, 2);
  let res = 0;
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 2; c++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += a[i * n + k]! * x[k * 2 + c]!;
      res = Math.max(res, Math.abs(s - b[i * 2 + c]!));
    }
  }
  t.ok(res < 1e-10, `residual ${res}`);

  // Gram matrix of regressors [u, v, 2u]: the third is dependent; the projection of y must still be exact.
  const u = [1, 2, 0, -1, 3];
  const v = [0, 1, 1, 2, -1];
  const cols = [u, v, u.map((q) => 2 * q)];
  const y = [1, 0, 2, 1, 1];
  const dot = (p: number[], q: number[]): number => p.reduce((s, pv, i) => s + pv * q[i]!, 0);
  const g = Float64Array.from(cols.flatMap((p) => cols.map((q) => dot(p, q))));
  const rhs = Float64Array.from(cols.map((p) => dot(p, y)));
  t.equal(choleskyInPlace(g, 3), 1, 'one dependent direction dropped');
  choleskySolveInPlace(g, 3, rhs, 1);
  const proj = y.map((_, i) => cols.reduce((s, col, k) => s + col[i]! * rhs[k]!, 0));
  const resid = y.map((yv, i) => yv - proj[i]!);
  t.ok(Math.abs(dot(resid, u)) < 1e-12 && Math.abs(dot(resid, v)) < 1e-12, 'residual orthogonal to the span');
});
