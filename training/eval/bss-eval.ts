/**
 * BSS-Eval v4 (images mode), as museval computes it for MUSDB18 / SiSEC 2018:
 * - distortion filters of `filterTaps` taps, computed ONCE from whole-track correlations (framewise_filters=False):
 *   for estimate j, C = (G + eps·I)⁻¹ D projects it on delayed copies of all reference channels, and Cj projects it
 *   on the delayed channels of reference j only (G: Gram matrix of the delayed reference channels, D: their
 *   correlation with the estimate channels, eps = float64 machine epsilon as numpy's solve is given);
 * - then per window (window = hop = 1 s by default, trailing partial window dropped) the WINDOWED references are
 *   filtered with those fixed filters (output window + taps − 1 long) and the estimate is split into
 *   s_true + e_spat + e_interf + e_artif, giving SDR, ISR, SIR, SAR;
 * - a window where any reference or estimate source is silent (every sample's channel sum exactly 0) is undefined
 *   (null) for every source; ±∞ is reported as null too (museval's JSON turns inf into NaN);
 * - the per-source summary is the median over defined windows.
 * Estimates are zero-padded or truncated to the reference length first (museval's pad_or_truncate).
 * Differences from museval: a reference source silent over the whole track gives all-null instead of an exception;
 * correlations are accumulated block-wise instead of with one track-long FFT (same values to rounding); the Gram
 * systems are solved by Cholesky that drops exactly dependent delayed channels (a centre-panned mono source makes
 * L and R proportional) where numpy's LU returns an arbitrary null-space component — the projections, hence the
 * metrics, are the same up to rounding. Matches the shared museval vectors on every frame (test/bss-eval.test.ts).
 * Cost for a 60 s stereo track: ~2 s CPU to prepare the references, ~2 s per scored estimate.
 */
import { accumulateProduct, nextPow2, RealFft64 } from './fft64.ts';
import { limitedCorrelations } from './correlation.ts';
import { SymmetricSolver } from './linear-solve.ts';

export const BSS_METRICS = ['SDR', 'ISR', 'SIR', 'SAR'] as const;
export type BssMetric = (typeof BSS_METRICS)[number];
export type BssFrames = Record<BssMetric, (number | null)[]>;
export type BssSummary = Record<BssMetric, number | null>;
export interface BssSourceScores {
  frames: BssFrames;
  median: BssSummary;
}

export interface BssEvalOptions {
  windowSamples?: number;
  hopSamples?: number;
  filterTaps?: number;
}

const EPS = 2.220446049250313e-16;

/** Planar audio of one source: one array per channel. */
export type SourceAudio = ArrayLike<number>[];

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function medianOfDefined(values: (number | null)[]): number | null {
  return median(values.filter((v): v is number => v !== null && Number.isFinite(v)));
}

function db(num: number, den: number): number | null {
  if (den === 0) return null;
  const v = 10 * Math.log10(num / den);
  return Number.isFinite(v) ? v : null;
}

function windows(lengthSamples: number, windowSamples: number, hopSamples: number): [number, number][] {
  if (windowSamples >= lengthSamples) return [[0, lengthSamples]];
  const count = Math.floor((lengthSamples - windowSamples + hopSamples) / hopSamples);
  const out: [number, number][] = [];
  for (let t = 0; t < count; t++) {
    const start = Math.floor(t * hopSamples);
    out.push([start, Math.floor(Math.min(t * hopSamples + windowSamples, lengthSamples))]);
  }
  return out;
}

function fitLength(channels: SourceAudio, length: number): Float64Array[] {
  return channels.map((ch) => {
    const out = new Float64Array(length);
    const n = Math.min(length, ch.length);
    for (let i = 0; i < n; i++) out[i] = ch[i]!;
    return out;
  });
}

/** museval's _any_source_silent on one source: every sample's sum over channels is exactly zero. */
function isSilent(source: Float64Array[], start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    let s = 0;
    for (const ch of source) s += ch[i]!;
    if (s !== 0) return false;
  }
  return true;
}

interface Filters {
  /** [refChannel p][outChannel c] → taps, projection on every reference. */
  all: Float64Array[][];
  /** [ownChannel cj][outChannel c] → taps, projection on the estimate's own reference only. */
  own: Float64Array[][];
}

/** Gram matrix of the delayed channels listed in `chans` (indices into the reference-channel list). */
function gram(rho: (p: number, q: number) => Float64Array, chans: number[], taps: number): Float64Array {
  const n = chans.length * taps;
  const g = new Float64Array(n * n);
  const lag0 = taps - 1;
  for (let pi = 0; pi < chans.length; pi++) {
    for (let qi = 0; qi < chans.length; qi++) {
      const p = chans[pi]!;
      const q = chans[qi]!;
      // G[(p,a),(q,b)] = Σ_m p[m]·q[m + a − b]; rho(p, q)[lag0 + k] = Σ_m p[m]·q[m + k]
      const r = p <= q ? rho(p, q) : rho(q, p);
      const sign = p <= q ? 1 : -1;
      for (let a = 0; a < taps; a++) {
        const row = (pi * taps + a) * n + qi * taps;
        for (let b = 0; b < taps; b++) g[row + b] = r[lag0 + sign * (a - b)]!;
      }
    }
  }
  for (let i = 0; i < n; i++) g[i * n + i]! += EPS;
  return g;
}

function solveFilters(
  solver: SymmetricSolver,
  chans: number[],
  crossWithEstimate: (p: number, c: number) => Float64Array,
  nchan: number,
  taps: number,
): Float64Array[][] {
  const n = chans.length * taps;
  const d = new Float64Array(n * nchan);
  const lag0 = taps - 1;
  chans.forEach((p, pi) => {
    for (let c = 0; c < nchan; c++) {
      // D[(p,a), c] = Σ_m p[m]·est_c[m + a]
      const r = crossWithEstimate(p, c);
      for (let a = 0; a < taps; a++) d[(pi * taps + a) * nchan + c] = r[lag0 + a]!;
    }
  });
  const x = solver.solve(d, nchan);
  return chans.map((_, pi) =>
    Array.from({ length: nchan }, (_, c) => {
      const h = new Float64Array(taps);
      for (let a = 0; a < taps; a++) h[a] = x[(pi * taps + a) * nchan + c]!;
      return h;
    }),
  );
}

/**
 * BSS-Eval v4 images metrics for `references[source][channel]` and `estimates[source][channel]` (same source order).
 * Returns one entry per source with per-window values and their median.
 */
export function bssEvalV4(
  references: SourceAudio[],
  estimates: SourceAudio[],
  options: BssEvalOptions = {},
): BssSourceScores[] {
  return new BssEvaluator(references, options).score(estimates);
}

/**
 * The reference side of BSS-Eval, prepared once per track: the Gram matrices of the delayed references and their
 * factorisations do not depend on the estimate, so scoring several methods on one track pays for them once.
 */
export class BssEvaluator {
  readonly lengthSamples: number;
  readonly windows: readonly [number, number][];
  private readonly refs: Float64Array[][];
  private readonly nchan: number;
  private readonly taps: number;
  private readonly silentReference: boolean;
  private readonly solvers: { full: SymmetricSolver; own: SymmetricSolver[] } | undefined;

  constructor(references: SourceAudio[], options: BssEvalOptions = {}) {
    const windowSamples = options.windowSamples ?? 44100;
    const hopSamples = options.hopSamples ?? 44100;
    this.taps = options.filterTaps ?? 512;
    if (references.length === 0) throw new RangeError('need at least one reference source');
    this.nchan = references[0]!.length;
    this.lengthSamples = references[0]![0]?.length ?? 0;
    for (const s of references) {
      if (s.length !== this.nchan) throw new RangeError(`every source needs ${this.nchan} channels, got ${s.length}`);
      for (const ch of s) if (ch.length !== this.lengthSamples) throw new RangeError('reference lengths differ');
    }
    this.refs = references.map((s) => fitLength(s, this.lengthSamples));
    this.windows = windows(this.lengthSamples, windowSamples, hopSamples);
    this.silentReference = this.lengthSamples === 0 || this.refs.some((s) => isSilent(s, 0, this.lengthSamples));
    this.solvers = this.silentReference ? undefined : this.factorGram();
  }

  private factorGram(): { full: SymmetricSolver; own: SymmetricSolver[] } {
    const refChans = this.refs.flat();
    const P = refChans.length;
    const pairs: [number, number][] = [];
    for (let p = 0; p < P; p++) for (let q = p; q < P; q++) pairs.push([p, q]);
    const corr = limitedCorrelations(refChans, refChans, pairs, this.taps - 1);
    const index = new Map<string, Float64Array>();
    pairs.forEach(([x, y], i) => index.set(`${x},${y}`, corr[i]!));
    const rho = (p: number, q: number): Float64Array => index.get(`${p},${q}`)!;
    const all = Array.from({ length: P }, (_, p) => p);
    return {
      full: new SymmetricSolver(gram(rho, all, this.taps), P * this.taps),
      own: this.refs.map((_, j) => {
        const chans = Array.from({ length: this.nchan }, (_, c) => j * this.nchan + c);
        return new SymmetricSolver(gram(rho, chans, this.taps), this.nchan * this.taps);
      }),
    };
  }

  score(estimates: SourceAudio[]): BssSourceScores[] {
    const nsrc = this.refs.length;
    if (estimates.length !== nsrc) {
      throw new RangeError(`need ${nsrc} estimates (one per reference), got ${estimates.length}`);
    }
    for (const s of estimates) {
      if (s.length !== this.nchan) throw new RangeError(`every source needs ${this.nchan} channels, got ${s.length}`);
    }
    const ests = estimates.map((s) => fitLength(s, this.lengthSamples));
    const frames = this.windows;
    if (this.solvers === undefined) {
      const none = (): (number | null)[] => frames.map(() => null);
      return this.refs.map(() => ({
        frames: { SDR: none(), ISR: none(), SIR: none(), SAR: none() },
        median: { SDR: null, ISR: null, SIR: null, SAR: null },
      }));
    }
    const filters = this.computeFilters(ests, this.solvers);
    const result = this.refs.map(() => ({ SDR: [], ISR: [], SIR: [], SAR: [] }) as BssFrames);
    const spectraCache = new Map<number, { fft: RealFft64; spectra: Filters[] }>();
    for (const [start, end] of frames) {
      const defined = !this.refs.some((s) => isSilent(s, start, end)) && !ests.some((s) => isSilent(s, start, end));
      if (!defined) {
        for (const r of result) for (const m of BSS_METRICS) r[m].push(null);
        continue;
      }
      const size = nextPow2(end - start + this.taps - 1);
      let cached = spectraCache.get(size);
      if (cached === undefined) {
        const fft = new RealFft64(size);
        cached = { fft, spectra: filters.map((f) => filterSpectra(fft, f)) };
        spectraCache.set(size, cached);
      }
      const scores = windowScores(this.refs, ests, start, end, this.taps, cached.fft, cached.spectra);
      scores.forEach((s, j) => {
        for (const m of BSS_METRICS) result[j]![m].push(s[m]);
      });
    }
    return result.map((f) => ({
      frames: f,
      median: {
        SDR: medianOfDefined(f.SDR),
        ISR: medianOfDefined(f.ISR),
        SIR: medianOfDefined(f.SIR),
        SAR: medianOfDefined(f.SAR),
      },
    }));
  }

  private computeFilters(ests: Float64Array[][], solvers: { full: SymmetricSolver; own: SymmetricSolver[] }): Filters[] {
    const { nchan, taps } = this;
    const refChans = this.refs.flat();
    const estChans = ests.flat();
    const P = refChans.length;
    const pairs: [number, number][] = [];
    for (let p = 0; p < P; p++) for (let e = 0; e < estChans.length; e++) pairs.push([p, e]);
    const corr = limitedCorrelations(refChans, estChans, pairs, taps - 1);
    const all = Array.from({ length: P }, (_, p) => p);
    return ests.map((_, j) => {
      // cross(p, c) = correlation of reference channel p with channel c of estimate j
      const cross = (p: number, c: number): Float64Array => corr[p * estChans.length + j * nchan + c]!;
      const ownChans = Array.from({ length: nchan }, (_, c) => j * nchan + c);
      return {
        all: solveFilters(solvers.full, all, cross, nchan, taps),
        own: solveFilters(solvers.own[j]!, ownChans, cross, nchan, taps),
      };
    });
  }
}

function filterSpectra(fft: RealFft64, f: Filters): Filters {
  const spec = (h: Float64Array): Float64Array => {
    const out = new Float64Array(fft.size + 2);
    fft.forward(h, out);
    return out;
  };
  return { all: f.all.map((row) => row.map(spec)), own: f.own.map((row) => row.map(spec)) };
}

function windowScores(
  refs: Float64Array[][],
  ests: Float64Array[][],
  start: number,
  end: number,
  taps: number,
  fft: RealFft64,
  spectra: Filters[],
): BssSummary[] {
  const nchan = refs[0]!.length;
  const span = end - start;
  const outLength = span + taps - 1;
  const refSpectra = refs.flat().map((ch) => {
    const out = new Float64Array(fft.size + 2);
    fft.forward(ch, out, start, span);
    return out;
  });
  const accOwn = new Float64Array(fft.size + 2);
  const accAll = new Float64Array(fft.size + 2);
  const pOwn = Array.from({ length: nchan }, () => new Float64Array(fft.size));
  const pAll = Array.from({ length: nchan }, () => new Float64Array(fft.size));
  return refs.map((ref, j) => {
    const f = spectra[j]!;
    for (let c = 0; c < nchan; c++) {
      accOwn.fill(0);
      for (let cj = 0; cj < nchan; cj++) accumulateProduct(accOwn, f.own[cj]![c]!, refSpectra[j * nchan + cj]!);
      accAll.fill(0);
      refSpectra.forEach((rs, p) => accumulateProduct(accAll, f.all[p]![c]!, rs));
      fft.inversePair(accOwn, accAll, pOwn[c]!, pAll[c]!);
    }
    let sTrue = 0;
    let eTotal = 0;
    let eSpat = 0;
    let own = 0;
    let eInterf = 0;
    let all = 0;
    let eArtif = 0;
    for (let c = 0; c < nchan; c++) {
      const s = ref[c]!;
      const e = ests[j]![c]!;
      const pj = pOwn[c]!;
      const pa = pAll[c]!;
      for (let i = 0; i < outLength; i++) {
        const sv = i < span ? s[start + i]! : 0;
        const ev = i < span ? e[start + i]! : 0;
        const pjv = pj[i]!;
        const pav = pa[i]!;
        sTrue += sv * sv;
        eTotal += (ev - sv) * (ev - sv);
        eSpat += (pjv - sv) * (pjv - sv);
        own += pjv * pjv;
        eInterf += (pav - pjv) * (pav - pjv);
        all += pav * pav;
        eArtif += (ev - pav) * (ev - pav);
      }
    }
    return { SDR: db(sTrue, eTotal), ISR: db(sTrue, eSpat), SIR: db(own, eInterf), SAR: db(all, eArtif) };
  });
}
