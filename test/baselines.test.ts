import t from 'tap';
import { bssEvalV4 } from '../training/eval/bss-eval.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { centerChannel, halfMixture, mixtureAsEstimate, oracleIrm } from '../training/eval/baselines.ts';
import { loadTrackAudio, openWavSplit } from '../training/data/musdb.ts';
import { generateTrack } from '../training/data/synth/generate-track.ts';
import { planJobs } from '../training/data/synth/plan.ts';

const SR = 44100;
const CFG = { nFft: 1024, hopSamples: 256, window: 'sqrt-hann' as const };

/** A constructed song: a sung-like harmonic voice with vibrato (centre), bass (centre), a stereo pad and hats. */
function song(seconds: number): { vocals: Float32Array[]; accompaniment: Float32Array[]; mixture: Float32Array[] } {
  const n = Math.round(seconds * SR);
  let seed = 11;
  const rnd = (): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648 - 0.5;
  };
  const voice = new Float32Array(n);
  let phase = 0;
  for (let i = 0; i < n; i++) {
    const tSec = i / SR;
    const note = [220, 247, 262, 294][Math.floor(tSec * 2) % 4]!;
    const f = note * (1 + 0.01 * Math.sin(2 * Math.PI * 5.5 * tSec));
    phase += (2 * Math.PI * f) / SR;
    let v = 0;
    for (let h = 1; h <= 12; h++) v += Math.sin(h * phase) / h;
    const gate = (tSec * 2) % 1 < 0.85 ? 1 : 0; // gaps between notes
    voice[i] = 0.15 * v * gate;
  }
  const bass = Float32Array.from({ length: n }, (_, i) => 0.2 * Math.sin((2 * Math.PI * 55 * i) / SR));
  const padL = Float32Array.from({ length: n }, (_, i) => 0.08 * Math.sin((2 * Math.PI * 330 * i) / SR) + 0.05 * Math.sin((2 * Math.PI * 415 * i) / SR));
  const padR = Float32Array.from({ length: n }, (_, i) => 0.08 * Math.sin((2 * Math.PI * 392 * i) / SR + 1) + 0.05 * Math.sin((2 * Math.PI * 494 * i) / SR));
  const hats = Float32Array.from({ length: n }, (_, i) => ((i % 11025) < 800 ? 0.1 * rnd() : 0));
  const vocals = [voice, Float32Array.from(voice)];
  const accompaniment = [
    Float32Array.from(bass, (b, i) => b + padL[i]! + 0.7 * hats[i]!),
    Float32Array.from(bass, (b, i) => b + padR[i]! + 0.3 * hats[i]!),
  ];
  const mixture = vocals.map((ch, c) => Float32Array.from(ch, (v, i) => v + accompaniment[c]![i]!));
  return { vocals, accompaniment, mixture };
}

t.test('oracle IRM beats center-channel cancellation, which beats nothing, on a constructed song', async (t) => {
  const { vocals, accompaniment, mixture } = song(4);
  const refs = [vocals, accompaniment];
  const score = (est: { vocals: Float32Array[]; accompaniment: Float32Array[] }): number[] =>
    bssEvalV4(refs, [est.vocals, est.accompaniment]).map((s) => s.median.SDR!);
  const irm = score(oracleIrm(mixture, vocals, accompaniment, CFG));
  const center = score(centerChannel(mixture));
  const mix = score(mixtureAsEstimate(mixture));
  t.ok(irm[0]! > center[0]! + 3, `vocals SDR: oracle IRM ${irm[0]!.toFixed(2)} dB > center channel ${center[0]!.toFixed(2)} dB`);
  t.ok(irm[1]! > center[1]!, `accompaniment SDR: oracle IRM ${irm[1]!.toFixed(2)} dB > center channel ${center[1]!.toFixed(2)} dB`);
  t.ok(irm[0]! > mix[0]!, `oracle IRM beats the mixture as vocals (${mix[0]!.toFixed(2)} dB)`);
});

t.test('oracle IRM beats center-channel cancellation on a generated synthetic song', async (t) => {
  const scratch = mkdtempSync(join(tmpdir(), 'livestem-baselines-'));
  t.teardown(() => rmSync(scratch, { recursive: true, force: true }));
  // a test-split track of the synthetic generator (seed 1), 10 s: festival/espeak/formant voice over SoundFont stems
  const job = planJobs(scratch, { test: 1 }, 1, 10)[0]!;
  await generateTrack(job);
  const [track] = await openWavSplit(scratch, 'test');
  const audio = await loadTrackAudio(track!);
  const refs = [audio.vocals, audio.accompaniment];
  const score = (est: { vocals: Float32Array[]; accompaniment: Float32Array[] }): number[] =>
    bssEvalV4(refs, [est.vocals, est.accompaniment]).map((s) => s.median.SDR!);
  const irm = score(oracleIrm(audio.mixture, audio.vocals, audio.accompaniment, CFG));
  const center = score(centerChannel(audio.mixture));
  t.ok(irm[0]! > center[0]!, `vocals SDR: oracle IRM ${irm[0]!.toFixed(2)} dB > center channel ${center[0]!.toFixed(2)} dB`);
  t.ok(irm[1]! > center[1]!, `accompaniment SDR: oracle IRM ${irm[1]!.toFixed(2)} dB > center channel ${center[1]!.toFixed(2)} dB`);
});

t.test('mask separation is latency-compensated: a mask of 1 returns the mixture, aligned, full length', async (t) => {
  const { mixture } = song(0.5);
  const zeros = mixture.map((ch) => new Float32Array(ch.length));
  // vocals = mixture, accompaniment = 0 → the IRM is 1 wherever the mixture is non-zero
  const est = oracleIrm(mixture, mixture, zeros, CFG);
  t.equal(est.vocals[0]!.length, mixture[0]!.length, 'same length as the input');
  let worst = 0;
  let worstAcc = 0;
  for (let c = 0; c < 2; c++) {
    for (let i = 0; i < mixture[c]!.length; i++) {
      worst = Math.max(worst, Math.abs(est.vocals[c]![i]! - mixture[c]![i]!));
      worstAcc = Math.max(worstAcc, Math.abs(est.accompaniment[c]![i]!));
    }
  }
  t.ok(worst < 1e-5, `vocals = mixture sample for sample (max error ${worst})`);
  t.ok(worstAcc < 1e-5, `accompaniment silent (max ${worstAcc})`);
});

t.test('center channel cancels the centre: vocals = mid, accompaniment = side, both mono', async (t) => {
  const l = Float32Array.from([0.5, 0.2, -0.1, 0]);
  const r = Float32Array.from([0.5, -0.2, 0.3, 0.4]);
  const c = centerChannel([l, r]);
  const close = (a: Float32Array, b: number[]): boolean => b.every((v, i) => Math.abs(a[i]! - v) < 1e-7);
  t.ok(close(c.vocals[0]!, [0.5, 0, 0.1, 0.2]), 'vocals = (L+R)/2');
  t.same([...c.vocals[1]!], [...c.vocals[0]!]);
  t.ok(close(c.accompaniment[0]!, [0, 0.2, -0.2, -0.2]), 'accompaniment = (L−R)/2');
  t.same([...c.accompaniment[1]!], [...c.accompaniment[0]!]);
  const h = halfMixture([l, r]);
  t.same([...h.vocals[1]!], [...r].map((v) => Math.fround(v / 2)));
  t.same([...mixtureAsEstimate([l, r]).accompaniment[0]!], [...l]);
});
