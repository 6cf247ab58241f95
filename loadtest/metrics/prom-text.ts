/**
 * Prometheus text exposition format (0.0.4) → samples, pure. Handles HELP/TYPE comments, label values with escapes
 * (\\, \", \n), optional timestamps, and the special values NaN, +Inf, -Inf. Lines that are not valid samples are
 * reported rather than skipped so a scrape of the wrong URL fails loudly.
 */

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface PromSample {
  /** Full sample name, e.g. `livestem_hop_seconds_bucket`. */
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface PromFamily {
  name: string;
  type: MetricType;
  help: string;
}

export interface PromScrape {
  families: Map<string, PromFamily>;
  samples: PromSample[];
}

export class PromParseError extends Error {
  override readonly name = 'PromParseError';
}

const NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const TYPES = new Set<MetricType>(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

/** Special values are case-insensitive, as in Prometheus's own (Go ParseFloat) parser: prom-client writes "Nan". */
function parseValue(text: string, lineNo: number): number {
  const lower = text.toLowerCase();
  if (lower === 'nan') return Number.NaN;
  if (lower === '+inf' || lower === 'inf') return Number.POSITIVE_INFINITY;
  if (lower === '-inf') return Number.NEGATIVE_INFINITY;
  const value = Number(text);
  if (text === '' || Number.isNaN(value)) throw new PromParseError(`line ${lineNo}: "${text}" is not a number`);
  return value;
}

function parseLabels(line: string, start: number, lineNo: number): { labels: Record<string, string>; end: number } {
  const labels: Record<string, string> = {};
  let i = start + 1;
  for (;;) {
    while (line[i] === ' ') i++;
    if (line[i] === '}') return { labels, end: i + 1 };
    const nameMatch = LABEL_NAME_RE.exec(line.slice(i));
    if (!nameMatch) throw new PromParseError(`line ${lineNo}: bad label name at column ${i + 1}`);
    const labelName = nameMatch[0];
    i += labelName.length;
    while (line[i] === ' ') i++;
    if (line[i] !== '=' || line[i + 1] !== '"') throw new PromParseError(`line ${lineNo}: expected ="… after ${labelName}`);
    i += 2;
    let value = '';
    for (;;) {
      const ch = line[i];
      if (ch === undefined) throw new PromParseError(`line ${lineNo}: unterminated label value`);
      if (ch === '"') break;
      if (ch === '\\') {
        const next = line[i + 1];
        value += next === 'n' ? '\n' : (next ?? '');
        i += 2;
        continue;
      }
      value += ch;
      i++;
    }
    labels[labelName] = value;
    i++;
    while (line[i] === ' ') i++;
    if (line[i] === ',') i++;
  }
}

export function parsePromText(text: string): PromScrape {
  const families = new Map<string, PromFamily>();
  const samples: PromSample[] = [];
  const lines = text.split('\n');
  for (let lineIndex = 0; lineIndex < lines.length; lineIndex++) {
    const lineNo = lineIndex + 1;
    const line = lines[lineIndex]!.trim();
    if (line === '') continue;
    if (line.startsWith('#')) {
      const parts = /^#\s+(HELP|TYPE)\s+(\S+)\s*(.*)$/.exec(line);
      if (!parts) continue; // free-form comment
      const [, keyword, name, rest] = parts as unknown as [string, string, string, string];
      const family = families.get(name) ?? { name, type: 'untyped' as MetricType, help: '' };
      if (keyword === 'TYPE') {
        if (!TYPES.has(rest as MetricType)) throw new PromParseError(`line ${lineNo}: unknown metric type "${rest}"`);
        family.type = rest as MetricType;
      } else {
        family.help = rest.replace(/\\n/g, '\n').replace(/\\\\/g, '\\');
      }
      families.set(name, family);
      continue;
    }
    const nameMatch = NAME_RE.exec(line);
    if (!nameMatch) throw new PromParseError(`line ${lineNo}: no metric name in "${line.slice(0, 60)}"`);
    const name = nameMatch[0];
    let i = name.length;
    let labels: Record<string, string> = {};
    if (line[i] === '{') ({ labels, end: i } = parseLabels(line, i, lineNo));
    const fields = line.slice(i).trim().split(/\s+/);
    if (fields.length < 1 || fields.length > 2 || fields[0] === '') {
      throw new PromParseError(`line ${lineNo}: expected "value [timestamp]" after ${name}`);
    }
    samples.push({ name, labels, value: parseValue(fields[0]!, lineNo) });
  }
  return { families, samples };
}

function labelsMatch(sample: PromSample, want: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(want)) if (sample.labels[k] !== v) return false;
  return true;
}

/** Sum of every series of `name` whose labels include `labels` (e.g. a counter split by model). NaN if absent. */
export function sumSeries(scrape: PromScrape, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  let found = false;
  for (const s of scrape.samples) {
    if (s.name === name && labelsMatch(s, labels)) {
      total += s.value;
      found = true;
    }
  }
  return found ? total : Number.NaN;
}

export interface HistogramSnapshot {
  /** Cumulative counts per upper bound, ascending, ending with +Inf. */
  buckets: Array<{ le: number; count: number }>;
  sum: number;
  count: number;
}

/** Histogram `name` summed over the series that match `labels` (buckets merged by `le`); null if absent. */
export function readHistogram(scrape: PromScrape, name: string, labels: Record<string, string> = {}): HistogramSnapshot | null {
  const byLe = new Map<number, number>();
  for (const s of scrape.samples) {
    if (s.name !== `${name}_bucket` || !labelsMatch(s, labels)) continue;
    const le = parseValue(s.labels['le'] ?? '', 0);
    byLe.set(le, (byLe.get(le) ?? 0) + s.value);
  }
  if (byLe.size === 0) return null;
  const buckets = [...byLe.entries()].sort((a, b) => a[0] - b[0]).map(([le, count]) => ({ le, count }));
  return { buckets, sum: sumSeries(scrape, `${name}_sum`, labels), count: sumSeries(scrape, `${name}_count`, labels) };
}

/** later − earlier, bucket by bucket: the histogram of just the observations made between two scrapes. */
export function histogramDelta(earlier: HistogramSnapshot | null, later: HistogramSnapshot): HistogramSnapshot {
  if (earlier === null) return later;
  const before = new Map(earlier.buckets.map((b) => [b.le, b.count]));
  return {
    buckets: later.buckets.map((b) => ({ le: b.le, count: b.count - (before.get(b.le) ?? 0) })),
    sum: later.sum - earlier.sum,
    count: later.count - earlier.count,
  };
}

/**
 * Quantile from cumulative buckets with Prometheus's `histogram_quantile` rule: linear interpolation inside the
 * bucket, the lowest bucket starting at 0, and the highest finite bound returned when the rank falls in +Inf.
 */
export function histogramQuantile(hist: HistogramSnapshot, q: number): number {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile must be in [0, 1], got ${q}`);
  const last = hist.buckets[hist.buckets.length - 1];
  if (last === undefined || last.le !== Number.POSITIVE_INFINITY) return Number.NaN;
  const total = last.count;
  if (total <= 0) return Number.NaN;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const b of hist.buckets) {
    if (b.count >= rank) {
      if (b.le === Number.POSITIVE_INFINITY) return prevLe;
      if (b.count === prevCount) return b.le;
      return prevLe + ((b.le - prevLe) * (rank - prevCount)) / (b.count - prevCount);
    }
    prevLe = b.le;
    prevCount = b.count;
  }
  return prevLe;
}
