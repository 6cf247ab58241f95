/**
 * Aggregation over tracks and the human-readable outputs of an evaluation run (scores.json, a Markdown table).
 * Conventions: BSS-Eval metrics are the median over tracks of per-track medians (SiSEC / museval), SI-SDR and leakage
 * the median over tracks, MDX SDR the mean over tracks (the challenge's ranking), VAD pooled over every frame.
 */
import { detectionScores, type DetectionScores } from './metrics.ts';
import type { MethodTrackScores, SourceName } from './score-track.ts';

export interface TrackRecord {
  name: string;
  seconds: number;
  methods: Record<string, MethodTrackScores>;
}

export interface SourceAggregate {
  SDR: number | null;
  ISR: number | null;
  SIR: number | null;
  SAR: number | null;
  siSdr: number | null;
  mdxSdrMean: number | null;
}

export interface MethodAggregate {
  tracks: number;
  vocals: SourceAggregate;
  accompaniment: SourceAggregate;
  leakageDbfs: number | null;
  vad?: { auroc: number | null; accuracy: number; f1: number | null; threshold: number; frames: number };
  /** VAD flag: mean over tracks of the 100 ms balanced accuracy; boundaries hit within 200 ms over all tracks. */
  vadFlag?: { balancedAccuracy: number | null; boundaries: number; boundariesHit: number; spuriousPerMinute: number };
}

export interface EvalReport {
  model: string;
  data: string;
  createdAt: string;
  stft: { nFft: number; hopSamples: number; window: string };
  methods: string[];
  aggregate: Record<string, MethodAggregate>;
  tracks: TrackRecord[];
}

export function median(values: (number | null | undefined)[]): number | null {
  const v = values.filter((x): x is number => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = v.length >> 1;
  return v.length % 2 === 1 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

function mean(values: (number | null | undefined)[]): number | null {
  const v = values.filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
  return v.length === 0 ? null : v.reduce((a, b) => a + b, 0) / v.length;
}

/** Every track's VAD probabilities and labels, concatenated, for one pooled detection score. */
export interface PooledVad {
  probabilities: number[];
  labels: number[];
}

export function aggregate(tracks: TrackRecord[], method: string, pooledVad?: PooledVad): MethodAggregate {
  const rows = tracks.map((t) => t.methods[method]).filter((m): m is MethodTrackScores => m !== undefined);
  const source = (s: SourceName): SourceAggregate => ({
    SDR: median(rows.map((r) => r[s].SDR)),
    ISR: median(rows.map((r) => r[s].ISR)),
    SIR: median(rows.map((r) => r[s].SIR)),
    SAR: median(rows.map((r) => r[s].SAR)),
    siSdr: median(rows.map((r) => r[s].siSdr)),
    mdxSdrMean: mean(rows.map((r) => r[s].mdxSdr)),
  });
  const out: MethodAggregate = {
    tracks: rows.length,
    vocals: source('vocals'),
    accompaniment: source('accompaniment'),
    leakageDbfs: median(rows.map((r) => r.leakage.rmsDbfs)),
  };
  const withVad = rows.map((r) => r.vad).filter((v): v is DetectionScores => v !== undefined);
  if (withVad.length > 0) {
    const threshold = withVad[0]!.threshold;
    if (pooledVad !== undefined) {
      const d = detectionScores(pooledVad.probabilities, pooledVad.labels, threshold);
      out.vad = { auroc: d.auroc, accuracy: d.accuracy, f1: d.f1, threshold, frames: d.frames };
    } else {
      // without the raw frames: frame-weighted accuracy, median AUROC / F1 over tracks
      const frames = withVad.reduce((a, v) => a + v.frames, 0);
      out.vad = {
        auroc: median(withVad.map((v) => v.auroc)),
        accuracy: frames > 0 ? withVad.reduce((a, v) => a + v.accuracy * v.frames, 0) / frames : 0,
        f1: median(withVad.map((v) => v.f1)),
        threshold,
        frames,
      };
    }
  }
  const flags = rows.filter((r) => r.vadFlag !== undefined);
  if (flags.length > 0) {
    const minutes = tracks.filter((t) => t.methods[method]?.vadFlag !== undefined).reduce((a, t) => a + t.seconds / 60, 0);
    out.vadFlag = {
      balancedAccuracy: mean(flags.map((r) => r.vadFlag!.balancedAccuracy)),
      boundaries: flags.reduce((a, r) => a + r.vadFlag!.boundaries, 0),
      boundariesHit: flags.reduce((a, r) => a + r.vadFlag!.boundariesHit, 0),
      spuriousPerMinute: flags.reduce((a, r) => a + r.vadFlag!.spuriousTransitions, 0) / Math.max(1e-9, minutes),
    };
  }
  return out;
}

const fmt = (v: number | null | undefined, digits = 2): string => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : '—');

export function markdownTable(report: EvalReport): string {
  const lines = [
    `# Evaluation: ${report.model}`,
    '',
    `Data: \`${report.data}\` — ${report.tracks.length} tracks, ${fmt(report.tracks.reduce((a, t) => a + t.seconds, 0) / 60, 1)} min. ` +
      `STFT ${report.stft.nFft}/${report.stft.hopSamples} ${report.stft.window}. Created ${report.createdAt}.`,
    '',
    'BSS-Eval v4 (museval-grade: 1 s windows, 512-tap filters per track; median over windows, then over tracks), dB.',
    'SI-SDR: median over tracks. MDX SDR: mean over tracks. Leakage: RMS of the vocal estimate where the true vocals',
    'are silent (dBFS, lower is better; median over tracks). VAD pooled over all frames. Flag: the streamed VAD flag',
    '(hysteresis + debounce from the manifest) — balanced accuracy per 100 ms (mean over tracks), vocal-segment',
    'boundaries (gaps < 500 ms bridged) matched by a flag transition within 200 ms, spurious transitions per minute.',
    '',
    '| method | voc SDR | voc SIR | voc SAR | voc ISR | voc SI-SDR | voc MDX SDR | acc SDR | acc SIR | acc SAR | acc MDX SDR | leakage dBFS | VAD AUROC | VAD acc | VAD F1 | flag BA | flag boundaries ≤ 200 ms | flag spurious/min |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const method of report.methods) {
    const a = report.aggregate[method];
    if (a === undefined) continue;
    lines.push(
      `| ${method} | ${fmt(a.vocals.SDR)} | ${fmt(a.vocals.SIR)} | ${fmt(a.vocals.SAR)} | ${fmt(a.vocals.ISR)} | ${fmt(a.vocals.siSdr)} | ${fmt(a.vocals.mdxSdrMean)} | ` +
        `${fmt(a.accompaniment.SDR)} | ${fmt(a.accompaniment.SIR)} | ${fmt(a.accompaniment.SAR)} | ${fmt(a.accompaniment.mdxSdrMean)} | ` +
        `${fmt(a.leakageDbfs, 1)} | ${fmt(a.vad?.auroc, 3)} | ${fmt(a.vad?.accuracy, 3)} | ${fmt(a.vad?.f1, 3)} | ` +
        `${fmt(a.vadFlag?.balancedAccuracy, 3)} | ${a.vadFlag ? `${a.vadFlag.boundariesHit}/${a.vadFlag.boundaries}` : '—'} | ${fmt(a.vadFlag?.spuriousPerMinute, 1)} |`,
    );
  }
  lines.push('', '## Per track (vocals SDR, dB)', '', `| track | ${report.methods.join(' | ')} |`, `|---|${report.methods.map(() => '---:').join('|')}|`);
  for (const t of report.tracks) {
    lines.push(`| ${t.name} | ${report.methods.map((m) => fmt(t.methods[m]?.vocals.SDR)).join(' | ')} |`);
  }
  return `${lines.join('\n')}\n`;
}
