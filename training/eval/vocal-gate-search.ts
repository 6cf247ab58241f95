/**
 * Choosing a model's vocal gate (server/pipeline/vocal-gate.ts) on validation tracks without re-running the model per
 * candidate. A gain g per hop scales that hop's vocal estimate v̂ and gives (1 − g)·v̂ to the accompaniment, so both
 * stems' error is g·v̂ − v: per-hop sums Σv², Σv̂², Σv·v̂ and Σa² are enough to score any gain sequence exactly at hop
 * resolution. (The server applies the gain to the frame's mask, whose overlap-add spreads it over the frame's
 * nFft − hop look-back; with time constants of several hops the two agree closely — the chosen settings are then
 * checked end to end by `npm run eval`.)
 * Scores are BSS-Eval-shaped but filter-free: SDR per 1 s window, median over windows (windows whose reference is
 * silent skipped), median over tracks; plus whole-track SDR and the leakage where the labels say nobody sings. Pure.
 */
import { VocalGate, type VocalGateSettings } from '../../server/pipeline/vocal-gate.ts';
import { median } from './report.ts';

/** One track's per-hop statistics (hop k = samples [k·hop, (k+1)·hop) of the aligned signals). */
export interface GateTrack {
  probabilities: Float32Array;
  labels: Uint8Array;
  vocalsEnergy: Float64Array;
  estimateEnergy: Float64Array;
  cross: Float64Array;
  accompanimentEnergy: Float64Array;
  /** Samples per hop summed over channels (for dBFS). */
  valuesPerHop: number;
}

export function gateTrack(
  trueVocals: Float32Array[],
  estimate: Float32Array[],
  mixture: Float32Array[],
  probabilities: Float32Array,
  labels: Uint8Array,
  hopSamples: number,
): GateTrack {
  const hops = Math.min(probabilities.length, labels.length, Math.floor((trueVocals[0]?.length ?? 0) / hopSamples));
  const t: GateTrack = {
    probabilities: probabilities.subarray(0, hops),
    labels: labels.subarray(0, hops),
    vocalsEnergy: new Float64Array(hops),
    estimateEnergy: new Float64Array(hops),
    cross: new Float64Array(hops),
    accompanimentEnergy: new Float64Array(hops),
    valuesPerHop: hopSamples * trueVocals.length,
  };
  for (let c = 0; c < trueVocals.length; c++) {
    const v = trueVocals[c]!;
    const e = estimate[c]!;
    const m = mixture[c]!;
    for (let k = 0; k < hops; k++) {
      let vv = 0, ee = 0, ve = 0, aa = 0;
      for (let i = k * hopSamples; i < (k + 1) * hopSamples; i++) {
        const a = m[i]! - v[i]!;
        vv += v[i]! * v[i]!;
        ee += e[i]! * e[i]!;
        ve += v[i]! * e[i]!;
        aa += a * a;
      }
      t.vocalsEnergy[k]! += vv;
      t.estimateEnergy[k]! += ee;
      t.cross[k]! += ve;
      t.accompanimentEnergy[k]! += aa;
    }
  }
  return t;
}

export interface GateScores {
  /** Median over tracks of the median 1 s-window SDR, dB. */
  vocalsSdrDb: number;
  accompanimentSdrDb: number;
  /** Mean over tracks of the whole-track vocals SDR (MDX style), dB. */
  vocalsMdxSdrDb: number;
  /** Median over tracks of the vocal estimate's RMS where the labels say nobody sings, dBFS. */
  leakageDbfs: number;
}

/** The eval's median (report.ts), NaN when there is nothing to take it of. */
function medianOf(values: number[]): number {
  return median(values) ?? NaN;
}

const SILENT_ENERGY = 1e-8;

export function scoreGate(tracks: readonly GateTrack[], hopMs: number, settings: VocalGateSettings | undefined): GateScores {
  const windowHops = Math.max(1, Math.round(1000 / hopMs));
  const vocals: number[] = [], accompaniment: number[] = [], mdx: number[] = [], leakage: number[] = [];
  for (const t of tracks) {
    const gate = settings ? new VocalGate(settings, hopMs) : undefined;
    const hops = t.probabilities.length;
    const vw: number[] = [], aw: number[] = [];
    let refV = 0, errV = 0, leakE = 0, leakN = 0;
    let wv = 0, wa = 0, we = 0, inWindow = 0;
    for (let k = 0; k < hops; k++) {
      const g = gate ? gate.next(t.probabilities[k]!) : 1;
      const err = Math.max(0, t.vocalsEnergy[k]! - 2 * g * t.cross[k]! + g * g * t.estimateEnergy[k]!);
      wv += t.vocalsEnergy[k]!;
      wa += t.accompanimentEnergy[k]!;
      we += err;
      refV += t.vocalsEnergy[k]!;
      errV += err;
      if (t.labels[k] === 0) {
        leakE += g * g * t.estimateEnergy[k]!;
        leakN += t.valuesPerHop;
      }
      if (++inWindow === windowHops) {
        if (wv > SILENT_ENERGY) vw.push(10 * Math.log10(wv / Math.max(we, 1e-20)));
        if (wa > SILENT_ENERGY) aw.push(10 * Math.log10(wa / Math.max(we, 1e-20)));
        wv = wa = we = 0;
        inWindow = 0;
      }
    }
    if (vw.length > 0) vocals.push(medianOf(vw));
    if (aw.length > 0) accompaniment.push(medianOf(aw));
    mdx.push(10 * Math.log10(Math.max(refV, 1e-20) / Math.max(errV, 1e-20)));
    if (leakN > 0) leakage.push(10 * Math.log10(Math.max(leakE / leakN, 1e-20)));
  }
  return {
    vocalsSdrDb: medianOf(vocals),
    accompanimentSdrDb: medianOf(accompaniment),
    vocalsMdxSdrDb: mdx.reduce((a, b) => a + b, 0) / Math.max(1, mdx.length),
    leakageDbfs: medianOf(leakage),
  };
}

export interface GateCalibration {
  /** The best admissible candidate by the per-hop scores (undefined: none kept the vocals within the allowed loss). */
  settings: VocalGateSettings | undefined;
  scores: GateScores;
  baseline: GateScores;
  /**
   * The best admissible candidate for each low threshold among the fast-opening ones (openMs ≤ 10), best first: the
   * shortlist to check end to end. The per-hop scores cannot see what BSS-Eval's distortion filters forgive, and
   * they underrate what a slowly opening gate costs: a phrase's first syllables, held back from the vocals while
   * the VAD catches up, land in the accompaniment.
   */
  shortlist: { settings: VocalGateSettings; scores: GateScores }[];
  tried: number;
}

const GATE_OPEN_MS = [0, 10, 50, 100] as const;
const SHORTLIST_MAX_OPEN_MS = 10;

/**
 * Grid search: the gate with the best accompaniment SDR among those that cost the vocals at most `maxVocalsLossDb`
 * (window SDR) and do not lower the whole-track vocals SDR — a gate that buys a cleaner karaoke track by eating the
 * singer's onsets is not kept.
 */
export function calibrateGate(tracks: readonly GateTrack[], hopMs: number, maxVocalsLossDb = 0.05): GateCalibration {
  const baseline = scoreGate(tracks, hopMs, undefined);
  let best: { settings: VocalGateSettings; scores: GateScores } | undefined;
  const bestByLow = new Map<number, { settings: VocalGateSettings; scores: GateScores }>();
  let tried = 0;
  for (const lowProb of [0.3, 0.4, 0.5, 0.6, 0.7, 0.8]) {
    for (const highProb of [0.8, 0.9, 0.95, 0.99]) {
      if (highProb <= lowProb) continue;
      for (const floorGain of [0, 0.1, 0.3]) {
        for (const openMs of GATE_OPEN_MS) {
          for (const closeMs of [20, 50, 200]) {
            const settings = { lowProb, highProb, floorGain, openMs, closeMs };
            const s = scoreGate(tracks, hopMs, settings);
            tried++;
            if (s.vocalsSdrDb < baseline.vocalsSdrDb - maxVocalsLossDb || s.vocalsMdxSdrDb < baseline.vocalsMdxSdrDb) continue;
            if (best === undefined || s.accompanimentSdrDb > best.scores.accompanimentSdrDb) best = { settings, scores: s };
            if (openMs > SHORTLIST_MAX_OPEN_MS) continue;
            const low = bestByLow.get(lowProb);
            if (low === undefined || s.accompanimentSdrDb > low.scores.accompanimentSdrDb) bestByLow.set(lowProb, { settings, scores: s });
          }
        }
      }
    }
  }
  const shortlist = [...bestByLow.values()].sort((a, b) => b.scores.accompanimentSdrDb - a.scores.accompanimentSdrDb);
  return { settings: best?.settings, scores: best?.scores ?? baseline, baseline, shortlist, tried };
}
