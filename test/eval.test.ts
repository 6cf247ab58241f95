import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readWav, writeWav } from '../server/dsp/wav.ts';
import { exportRandomModel } from '../training/export/random-model.ts';
import { BASELINE_METHODS } from '../training/eval/baselines.ts';
import type { EvalReport } from '../training/eval/report.ts';
import { runEvaluation } from '../training/eval/run-eval.ts';

const SR = 44100;
const REPO = fileURLToPath(new URL('..', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'livestem-eval-'));
t.teardown(() => rmSync(root, { recursive: true, force: true }));

/** A 2 s track: a centre-panned harmonic "voice" with gaps, a stereo accompaniment. */
async function writeTrack(dir: string, seed: number): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const n = 2 * SR;
  const voice = new Float32Array(n);
  let phase = 0;
  for (let i = 0; i < n; i++) {
    const tSec = i / SR;
    phase += (2 * Math.PI * (200 + 40 * seed + 20 * Math.floor(tSec * 2))) / SR;
    let v = 0;
    for (let h = 1; h <= 8; h++) v += Math.sin(h * phase) / h;
    voice[i] = tSec % 1 < 0.7 ? 0.12 * v : 0;
  }
  const drums = [0.7, 0.4].map((g) => Float32Array.from({ length: n }, (_, i) => (i % 11025 < 600 ? g * 0.2 * Math.sin(i * 0.9) * Math.exp(-(i % 11025) / 150) : 0)));
  const bass = [1, 1].map(() => Float32Array.from({ length: n }, (_, i) => 0.15 * Math.sin((2 * Math.PI * 55 * i) / SR)));
  const other = [0, 1].map((c) => Float32Array.from({ length: n }, (_, i) => 0.06 * Math.sin((2 * Math.PI * (523 + 100 * c) * i) / SR)));
  const vocals = [voice, Float32Array.from(voice)];
  const mixture = vocals.map((ch, c) => Float32Array.from(ch, (v, i) => v + drums[c]![i]! + bass[c]![i]! + other[c]![i]!));
  for (const [name, audio] of Object.entries({ mixture, vocals, drums, bass, other })) await writeWav(join(dir, `${name}.wav`), audio, SR, 'f32');
}

const data = join(root, 'data', 'test');
await writeTrack(join(data, 'song-1'), 1);
await writeTrack(join(data, 'song-2'), 2);

t.test('a model run through the streaming engine plus baselines: scores, table, chart, estimates', async (t) => {
  const modelDir = join(root, 'models', 'tiny');
  await exportRandomModel({ arch: 'lstm', name: 'tiny-random', seed: 5 }, modelDir);
  const saveDir = join(root, 'estimates');
  const { report, outDir, markdown } = await runEvaluation({ data, out: join(root, 'results'), model: modelDir, saveEstimates: saveDir, progress: false });
  t.equal(outDir, join(root, 'results', 'tiny-random'));
  t.same(report.methods, ['tiny-random', ...BASELINE_METHODS]);
  t.same(report.tracks.map((x) => x.name), ['song-1', 'song-2']);
  for (const track of report.tracks) {
    t.equal(track.seconds, 2);
    for (const m of report.methods) {
      const s = track.methods[m]!;
      t.equal(s.vocals.frames.SDR.length, 2, `${track.name} ${m}: two 1 s BSS-Eval windows`);
      t.type(s.accompaniment.mdxSdr, 'number');
    }
    const vad = track.methods['tiny-random']!.vad!;
    t.equal(vad.frames, Math.floor((2 * SR) / 256), `${track.name}: one VAD value per hop, compared with its label`);
    t.ok(vad.positiveFraction > 0.5 && vad.positiveFraction < 0.9, `labels follow the 70 % vocal duty cycle (${vad.positiveFraction.toFixed(2)})`);
  }
  const agg = report.aggregate;
  t.ok(agg['oracle-irm']!.vocals.SDR! > agg['center-channel']!.vocals.SDR!,
    `oracle IRM ${agg['oracle-irm']!.vocals.SDR!.toFixed(2)} dB > center channel ${agg['center-channel']!.vocals.SDR!.toFixed(2)} dB`);
  t.ok(agg['oracle-irm']!.leakageDbfs! < agg['mixture']!.leakageDbfs! - 20, 'the oracle mask leaks far less than the mixture');
  t.ok(agg['tiny-random']!.vad !== undefined && agg['mixture']!.vad === undefined, 'VAD scored only for the model');

  const json = JSON.parse(readFileSync(join(outDir, 'scores.json'), 'utf8')) as EvalReport;
  t.same(json.aggregate['oracle-irm'], JSON.parse(JSON.stringify(agg['oracle-irm'])), 'scores.json holds the aggregate');
  t.equal(json.tracks[1]!.methods['half-mixture']!.vocals.frames.SDR.length, 2, 'and the per-window values');
  const md = readFileSync(join(outDir, 'scores.md'), 'utf8');
  t.equal(md, markdown);
  for (const m of report.methods) t.match(md, new RegExp(`\\| ${m} \\| -?\\d+\\.\\d\\d \\|`), `table row for ${m}`);
  const png = readFileSync(join(outDir, 'sdr.png'));
  t.same([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'sdr.png is a PNG');
  t.ok(png.length > 5000, 'with something drawn in it');

  const mixture = await readWav(join(data, 'song-2', 'mixture.wav'));
  for (const m of report.methods) {
    const est = await readWav(join(saveDir, m, 'song-2', 'vocals.wav'));
    t.equal(est.sampleRateHz, SR);
    t.equal(est.channels[0]!.length, mixture.channels[0]!.length, `${m}: saved vocals as long as the mixture`);
  }
  const modelVoc = await readWav(join(saveDir, 'tiny-random', 'song-2', 'vocals.wav'));
  const modelAcc = await readWav(join(saveDir, 'tiny-random', 'song-2', 'accompaniment.wav'));
  let worst = 0;
  for (let c = 0; c < 2; c++) {
    for (let i = 0; i < mixture.channels[c]!.length; i++) {
      worst = Math.max(worst, Math.abs(modelVoc.channels[c]![i]! + modelAcc.channels[c]![i]! - mixture.channels[c]![i]!));
    }
  }
  t.ok(worst < 1e-4, `model estimates are latency-compensated: vocals + accompaniment = mixture (max error ${worst})`);
});

t.test('the CLI runs baselines only, limits tracks and seconds, and reports a missing folder clearly', async (t) => {
  const run = (args: string[]): { status: number | null; stdout: string; stderr: string } => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(REPO, 'training/eval/cli.ts'), ...args], { cwd: REPO, encoding: 'utf8' });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const out = join(root, 'cli-results');
  const ok = run(['--data', data, '--out', out, '--baselines-only', '--tracks', '1', '--seconds', '1']);
  t.equal(ok.status, 0, ok.stderr);
  t.match(ok.stdout, /\| oracle-irm \| -?\d+\.\d\d \|/);
  const report = JSON.parse(readFileSync(join(out, 'baselines', 'scores.json'), 'utf8')) as EvalReport;
  t.equal(report.tracks.length, 1);
  t.equal(report.tracks[0]!.seconds, 1);
  const missing = run(['--data', join(root, 'nope', 'test'), '--out', out, '--baselines-only']);
  t.equal(missing.status, 1);
  t.match(missing.stderr, /eval: no "test" folder/);
  t.notMatch(missing.stderr, /at .*\.ts:\d+/, 'no stack trace');
  const bad = run(['--tracks', 'many']);
  t.equal(bad.status, 1);
  t.match(bad.stderr, /--tracks must be a positive number/);
});
