/**
 * Scores one method's separation of one track: BSS-Eval v4 (per-window and median), SI-SDR, MDX SDR per source,
 * non-vocal leakage of the vocal estimate, and VAD detection when the method has a VAD output.
 */
import { BSS_METRICS, type BssEvaluator, type BssFrames, type BssMetric } from './bss-eval.ts';
import type { VadFlagSettings } from '../../server/pipeline/vad-smoother.ts';
import { detectionScores, mdxSdr, nonVocalLeakage, siSdr, type DetectionScores } from './metrics.ts';
import { flagTimeline, scoreFlag, type FlagScores } from './vad-flag.ts';

export const SOURCES = ['vocals', 'accompaniment'] as const;
export type SourceName = (typeof SOURCES)[number];

export interface SourceScores {
  /** BSS-Eval v4 medians over defined 1 s windows (null when no window is defined). */
  SDR: number | null;
  ISR: number | null;
  SIR: number | null;
  SAR: number | null;
  siSdr: number | null;
  mdxSdr: number;
  /** Per-window BSS-Eval values (null = undefined window), as museval stores them. */
  frames: BssFrames;
}

export interface MethodTrackScores {
  vocals: SourceScores;
  accompaniment: SourceScores;
  leakage: { rmsDbfs: number | null; silentFraction: number };
  vad?: DetectionScores;
  /** The streamed VAD flag (hysteresis + debounce) against the labels. */
  vadFlag?: FlagScores;
}

export interface TrackInput {
  sampleRateHz: number;
  vocals: Float32Array[];
  accompaniment: Float32Array[];
}

export interface MethodOutput {
  vocals: Float32Array[];
  accompaniment: Float32Array[];
  /** VAD probabilities and the labels they are judged against (same framing), when the method detects. */
  vad?: { probabilities: Float32Array; labels: Uint8Array; threshold: number; hopMs: number; flag: VadFlagSettings };
}

/** JSON has no ±Infinity: a perfect score becomes null like museval's (inf → NaN) convention. */
function finite(v: number | null): number | null {
  return v !== null && Number.isFinite(v) ? v : null;
}

export function scoreMethod(track: TrackInput, evaluator: BssEvaluator, output: MethodOutput): MethodTrackScores {
  const bss = evaluator.score([output.vocals, output.accompaniment]);
  const refs = { vocals: track.vocals, accompaniment: track.accompaniment };
  const perSource = (name: SourceName, k: number): SourceScores => {
    const b = bss[k]!;
    const medians = Object.fromEntries(BSS_METRICS.map((m) => [m, b.median[m]])) as Record<BssMetric, number | null>;
    return {
      ...medians,
      siSdr: finite(siSdr(refs[name], output[name])),
      mdxSdr: mdxSdr(refs[name], output[name]),
      frames: b.frames,
    };
  };
  const leak = nonVocalLeakage(track.vocals, output.vocals, track.sampleRateHz);
  const scores: MethodTrackScores = {
    vocals: perSource('vocals', 0),
    accompaniment: perSource('accompaniment', 1),
    leakage: { rmsDbfs: leak.rmsDbfs === -Infinity ? null : leak.rmsDbfs, silentFraction: leak.silentFraction },
  };
  if (output.vad !== undefined) {
    const v = output.vad;
    scores.vad = detectionScores(v.probabilities, v.labels, v.threshold);
    const { flags, transitions } = flagTimeline(v.probabilities, v.hopMs, v.flag);
    scores.vadFlag = scoreFlag(flags, transitions, v.labels, v.hopMs);
  }
  return scores;
}
