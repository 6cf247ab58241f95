/**
 * The VAD *flag* as a client sees it — per-hop probabilities through the server's VadSmoother (hysteresis and
 * debounce), placed on the timeline at the offsets its transitions report — scored against the vocal labels:
 *   - balanced accuracy per 100 ms block (majority label vs majority flag; mean of the voiced and unvoiced recall),
 *   - transitions: each onset/offset of the reference vocal segments (gaps shorter than `bridgeMs` bridged,
 *     segments shorter than `minSegmentMs` dropped, so word gaps and breaths are not "boundaries") is hit when a flag
 *     transition of the same direction lies within `toleranceMs`; flag transitions matching no boundary are spurious.
 * Also the validation grid search that picks the flag settings a model ships with. Pure: no I/O, no clock.
 */
import { VadSmoother, type VadFlagSettings } from '../../server/pipeline/vad-smoother.ts';

export interface FlagScores {
  /** Balanced accuracy over 100 ms blocks (null when a class is absent). */
  balancedAccuracy: number | null;
  /** Reference boundaries (onsets + offsets) and how many a flag transition matched within the tolerance. */
  boundaries: number;
  boundariesHit: number;
  /** Flag transitions that matched no reference boundary. */
  spuriousTransitions: number;
  /** Median |flag transition − boundary| over hit boundaries, ms (null when none was hit). */
  medianErrorMs: number | null;
}

export interface BoundaryRules {
  bridgeMs: number;
  minSegmentMs: number;
  toleranceMs: number;
}

export const DEFAULT_BOUNDARY_RULES: BoundaryRules = { bridgeMs: 500, minSegmentMs: 200, toleranceMs: 200 };

interface Transition {
  hop: number;
  active: boolean;
}

/** The per-hop flag a client reconstructs from the `vad` transitions the server sends. */
export function flagTimeline(probabilities: ArrayLike<number>, hopMs: number, settings: VadFlagSettings): { flags: Uint8Array; transitions: Transition[] } {
  const smoother = new VadSmoother({ ...settings, hopMs });
  const transitions: Transition[] = [];
  for (let k = 0; k < probabilities.length; k++) {
    const event = smoother.push(probabilities[k]!, k);
    if (event !== undefined) transitions.push({ hop: event.sampleOffset, active: event.active });
  }
  const flags = new Uint8Array(probabilities.length);
  transitions.forEach((t, i) => {
    if (!t.active) return;
    const end = transitions[i + 1]?.hop ?? flags.length;
    flags.fill(1, t.hop, end);
  });
  return { flags, transitions };
}

/** Onsets and offsets of the reference vocal segments, after bridging short gaps and dropping short segments. */
export function referenceBoundaries(labels: ArrayLike<number>, hopMs: number, rules: BoundaryRules = DEFAULT_BOUNDARY_RULES): Transition[] {
  const segments: [number, number][] = [];
  let start = -1;
  for (let k = 0; k <= labels.length; k++) {
    const on = k < labels.length && labels[k] === 1;
    if (on && start < 0) start = k;
    if (!on && start >= 0) {
      segments.push([start, k]);
      start = -1;
    }
  }
  const bridged: [number, number][] = [];
  for (const s of segments) {
    const last = bridged[bridged.length - 1];
    if (last !== undefined && (s[0] - last[1]) * hopMs < rules.bridgeMs) last[1] = s[1];
    else bridged.push([s[0], s[1]]);
  }
  const kept = bridged.filter(([a, b]) => (b - a) * hopMs >= rules.minSegmentMs);
  const out: Transition[] = [];
  for (const [a, b] of kept) {
    // A segment that starts with the track (or ends with it) has no observable boundary there.
    if (a > 0) out.push({ hop: a, active: true });
    if (b < labels.length) out.push({ hop: b, active: false });
  }
  return out;
}

/** Per-hop RMS level of a (stereo) signal in dBFS: hop k = samples [k·hop, (k+1)·hop). */
export function hopLevelsDbfs(signal: Float32Array[], hopSamples: number): Float32Array {
  const hops = Math.floor((signal[0]?.length ?? 0) / hopSamples);
  const out = new Float32Array(hops);
  for (let k = 0; k < hops; k++) {
    let e = 0;
    for (const ch of signal) for (let i = k * hopSamples; i < (k + 1) * hopSamples; i++) e += ch[i]! * ch[i]!;
    out[k] = 10 * Math.log10(e / (hopSamples * signal.length) + 1e-20);
  }
  return out;
}

/**
 * How far each reference boundary lies from where the vocals are audible: for an onset, the time from the labelled
 * onset to the first hop at or above `audibleDbfs`; for an offset, from the last such hop to the labelled offset. The
 * labels (seed-004: 10 ms mean |x| > 5·10⁻⁴, about −64 dBFS) mark breaths and reverb tails too, so a detector that
 * follows what a listener hears is late on onsets and early on offsets by these amounts.
 */
export function boundaryAudibility(labels: ArrayLike<number>, vocalLevelsDbfs: ArrayLike<number>, hopMs: number, audibleDbfs: number, rules: BoundaryRules = DEFAULT_BOUNDARY_RULES): { onsetLeadMs: number[]; offsetTailMs: number[] } {
  const onsetLeadMs: number[] = [];
  const offsetTailMs: number[] = [];
  const n = Math.min(labels.length, vocalLevelsDbfs.length);
  for (const b of referenceBoundaries(labels, hopMs, rules)) {
    if (b.hop >= n) continue;
    if (b.active) {
      let k = b.hop;
      while (k < n && vocalLevelsDbfs[k]! < audibleDbfs) k++;
      onsetLeadMs.push((k - b.hop) * hopMs);
    } else {
      let k = b.hop - 1;
      while (k > 0 && vocalLevelsDbfs[k]! < audibleDbfs) k--;
      offsetTailMs.push((b.hop - 1 - k) * hopMs);
    }
  }
  return { onsetLeadMs, offsetTailMs };
}

function majority(values: ArrayLike<number>, from: number, to: number): number {
  let sum = 0;
  for (let k = from; k < to; k++) sum += values[k]!;
  return 2 * sum >= to - from ? 1 : 0;
}

export function scoreFlag(flags: Uint8Array, transitions: Transition[], labels: ArrayLike<number>, hopMs: number, rules: BoundaryRules = DEFAULT_BOUNDARY_RULES): FlagScores {
  const block = Math.max(1, Math.round(100 / hopMs));
  const counts = { tp: 0, fn: 0, tn: 0, fp: 0 };
  for (let from = 0; from + block <= labels.length; from += block) {
    const truth = majority(labels, from, from + block);
    const said = majority(flags, from, from + block);
    if (truth === 1) counts[said === 1 ? 'tp' : 'fn']++;
    else counts[said === 1 ? 'fp' : 'tn']++;
  }
  const voiced = counts.tp + counts.fn;
  const unvoiced = counts.tn + counts.fp;
  const balancedAccuracy = voiced > 0 && unvoiced > 0 ? (counts.tp / voiced + counts.tn / unvoiced) / 2 : null;

  const reference = referenceBoundaries(labels, hopMs, rules);
  const tolerance = rules.toleranceMs / hopMs;
  const used = new Set<number>();
  const errors: number[] = [];
  for (const b of reference) {
    let best = -1;
    for (let i = 0; i < transitions.length; i++) {
      const t = transitions[i]!;
      if (used.has(i) || t.active !== b.active || Math.abs(t.hop - b.hop) > tolerance) continue;
      if (best < 0 || Math.abs(t.hop - b.hop) < Math.abs(transitions[best]!.hop - b.hop)) best = i;
    }
    if (best >= 0) {
      used.add(best);
      errors.push(Math.abs(transitions[best]!.hop - b.hop) * hopMs);
    }
  }
  errors.sort((a, b) => a - b);
  return {
    balancedAccuracy,
    boundaries: reference.length,
    boundariesHit: errors.length,
    spuriousTransitions: transitions.length - used.size,
    medianErrorMs: errors.length > 0 ? errors[Math.floor(errors.length / 2)]! : null,
  };
}

export interface LabelledTrack {
  probabilities: Float32Array;
  labels: Uint8Array;
}

/** Pools tracks: balanced accuracy from the summed 100 ms confusion counts' recalls averaged per track. */
export function scoreTracks(tracks: LabelledTrack[], hopMs: number, settings: VadFlagSettings, rules: BoundaryRules = DEFAULT_BOUNDARY_RULES): FlagScores & { hitRate: number | null } {
  let baSum = 0;
  let baCount = 0;
  const total = { boundaries: 0, hit: 0, spurious: 0 };
  const medians: number[] = [];
  for (const t of tracks) {
    const { flags, transitions } = flagTimeline(t.probabilities, hopMs, settings);
    const s = scoreFlag(flags, transitions, t.labels, hopMs, rules);
    if (s.balancedAccuracy !== null) {
      baSum += s.balancedAccuracy;
      baCount++;
    }
    total.boundaries += s.boundaries;
    total.hit += s.boundariesHit;
    total.spurious += s.spuriousTransitions;
    if (s.medianErrorMs !== null) medians.push(s.medianErrorMs);
  }
  medians.sort((a, b) => a - b);
  return {
    balancedAccuracy: baCount > 0 ? baSum / baCount : null,
    boundaries: total.boundaries,
    boundariesHit: total.hit,
    spuriousTransitions: total.spurious,
    medianErrorMs: medians.length > 0 ? medians[Math.floor(medians.length / 2)]! : null,
    hitRate: total.boundaries > 0 ? total.hit / total.boundaries : null,
  };
}

export interface FlagCalibration {
  settings: Required<VadFlagSettings>;
  scores: FlagScores & { hitRate: number | null };
  tried: number;
}

/** The looser tolerance of the calibration's second hit rate: did the flag follow the boundary at all. */
export const FOLLOW_TOLERANCE_MS = 1000;

/**
 * Grid search on validation tracks for the flag settings with the best balanced accuracy + boundary hit rate within
 * the tolerance + hit rate within FOLLOW_TOLERANCE_MS − a penalty per spurious transition per boundary (a flickering
 * flag is useless even when it is often right). The second hit rate is there because the labels' boundaries lie
 * hundreds of ms from the audible ones (boundaryAudibility), so almost no setting hits them within 200 ms, and
 * without it the flicker penalty alone chose a flag that stays on for seconds after the singer stops — a wide
 * hysteresis band the lingering probability never leaves — which the 100 ms balanced accuracy barely notices.
 */
export function calibrateFlag(tracks: LabelledTrack[], hopMs: number, rules: BoundaryRules = DEFAULT_BOUNDARY_RULES): FlagCalibration {
  let best: FlagCalibration | undefined;
  let bestScore = -Infinity;
  let tried = 0;
  for (let on = 0.3; on <= 0.951; on += 0.05) {
    for (const gap of [0, 0.1, 0.2, 0.3]) {
      const off = Math.max(0.05, on - gap);
      for (const smoothingMs of [20, 60, 150]) {
        for (const onMs of [30, 80]) {
          for (const offMs of [100, 200, 350]) {
            const settings = { threshold: round2(on), offThreshold: round2(off), smoothingMs, onMs, offMs };
            const s = scoreTracks(tracks, hopMs, settings, rules);
            const followed = scoreTracks(tracks, hopMs, settings, { ...rules, toleranceMs: FOLLOW_TOLERANCE_MS });
            tried++;
            const spuriousPerBoundary = followed.spuriousTransitions / Math.max(1, followed.boundaries);
            const score = (s.balancedAccuracy ?? 0) + (s.hitRate ?? 0) + (followed.hitRate ?? 0) - 0.1 * spuriousPerBoundary;
            if (score > bestScore) {
              bestScore = score;
              best = { settings, scores: s, tried: 0 };
            }
          }
        }
      }
    }
  }
  return { ...best!, tried };
}

function round2(v: number): number {
  return Math.round(v * 100) / 100;
}
