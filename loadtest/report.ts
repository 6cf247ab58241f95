/** The load report: JSON shape, Markdown summary, and writing both plus the plots to an output directory. */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, hostname } from 'node:os';
import { join } from 'node:path';
import { capacitySpec, latencyCdfSpec, renderPng } from './plots.ts';
import type { RampOutcome, RampSpec } from './ramp.ts';
import { soakMarkdown, type SoakSummary } from './soak.ts';
import type { StepResult } from './step-result.ts';
import type { LatencySummary } from './stats/percentiles.ts';

export interface LoadReport {
  tool: 'livestem-loadtest';
  reportVersion: 1;
  date: string;
  command: string;
  generator: { host: string; cpu: string; cores: number; node: string };
  url: string;
  song: { name: string; sampleRateHz: number; channels: number };
  config: {
    durationS: number;
    frameSizesMs: number[];
    staggerMs: number;
    format: string;
    webrtcStreams: number;
    /** WebSocket client used: the SDK or the header-only raw client. */
    client: string;
    lateThresholdMs: number;
    sloP99Ms: number | null;
  };
  ramp: (RampOutcome & { spec: RampSpec; sloP99Ms: number }) | null;
  /** `--soak`: the long run's verdict (its step is the last of `steps`, the one without a ramp verdict). */
  soak?: SoakSummary;
  steps: StepResult[];
}

export function generatorInfo(): LoadReport['generator'] {
  return { host: hostname(), cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version };
}

/** Above this, the load generator's own delays are large enough to show in the latency figures. */
const GENERATOR_LAG_WARN_MS = 10;

const f1 = (v: number | null): string => (v === null || !Number.isFinite(v) ? '–' : v.toFixed(1));

function latencyRow(label: string, s: LatencySummary): string {
  return `| ${label} | ${s.count} | ${f1(s.p50Ms)} | ${f1(s.p90Ms)} | ${f1(s.p99Ms)} | ${f1(s.p999Ms)} | ${f1(s.maxMs)} |`;
}

function stepSection(step: StepResult): string {
  const kinds = Object.entries(step.received.samplesByKind)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  const errors = Object.entries(step.sessions.errors)
    .map(([code, n]) => `${code} ×${n}: "${step.sessions.errorExamples[code] ?? ''}"`)
    .join(', ');
  const lines = [
    `### ${step.streams} streams (${step.byTransport.websocket} WebSocket, ${step.byTransport.webrtc} WebRTC)` +
      (step.verdict ? ` — ${step.verdict.pass ? 'PASS' : `FAIL: ${step.verdict.reasons.join('; ')}`}` : ''),
    '',
    '| latency per output hop (ms) | hops | p50 | p90 | p99 | p99.9 | max |',
    '|---|---:|---:|---:|---:|---:|---:|',
    latencyRow('end-to-end', step.e2eMs),
    ...(step.byTransport.websocket > 0 && step.byTransport.webrtc > 0
      ? [latencyRow('end-to-end, WebSocket', step.e2eByTransportMs.websocket), latencyRow('end-to-end, WebRTC (per 20 ms packet)', step.e2eByTransportMs.webrtc)]
      : []),
    latencyRow('server-added', step.serverAddedMs),
    '',
    ...(step.deadlines
      ? [`- missed deadlines (server-added > ${f1(step.deadlines.budgetMs)} ms): ${step.deadlines.missed} of ${step.deadlines.hops} hops`]
      : []),
    `- model ${step.models.join(', ') || '–'}; algorithmic latency ${f1(step.algorithmicLatencyMs)} ms; transport RTT (median of per-session minimum) ${f1(step.transportRttMs)} ms`,
    `- sessions: ${step.sessions.started} started, ${step.sessions.completed} completed, ${step.sessions.failed} failed${errors ? ` (${errors})` : ''}`,
    `- sent ${step.sent.frames} frames / ${step.sent.samples} samples; received ${step.received.frames} frames (${kinds || 'none'})`,
    `- server done totals: input ${step.serverTotals.inputSamples}, output ${step.serverTotals.outputSamples} samples per kind, server-counted late hops ${step.serverTotals.lateFrames}`,
    `- continuity: ${step.continuity.gaps} gaps (${step.continuity.missingSamples} samples missing), ${step.continuity.overlaps} overlaps, ${step.continuity.missingSequences} frames missing by sequence; late hops (> ${f1(step.lateThresholdMs)} ms e2e) ${step.lateHops}`,
    `- 1-minute load average at the end of the step: ${f1(step.loadAverage1m)}`,
    `- generator health: event-loop delay p99 ${f1(step.generator.eventLoopDelayP99Ms)} ms, send lag p99 ${f1(step.generator.sendLagP99Ms)} / max ${f1(step.generator.sendLagMaxMs)} ms` +
      (step.generator.eventLoopDelayP99Ms > GENERATOR_LAG_WARN_MS || step.generator.sendLagP99Ms > GENERATOR_LAG_WARN_MS
        ? ` — **the generator itself was late**: its receive timestamps lag too, so these latencies are pessimistic (run it on another machine; --client ws-raw is the lighter client)`
        : ''),
  ];
  if (step.server) {
    const s = step.server;
    const parts: string[] = [];
    const num = (v: number): string => (Number.isInteger(v) ? String(v) : v.toPrecision(3));
    for (const [name, h] of Object.entries(s.histograms)) {
      if (h.count === 0) continue;
      // seconds histograms read better in ms; bucket interpolation means these are estimates
      const ms = name.replace(/\{.*$/, '').endsWith('_seconds');
      const v = (x: number): string => (ms ? `${f1(x * 1000)} ms` : num(x));
      parts.push(`${name} p50 ${v(h.p50)} / p99 ${v(h.p99)} (n=${h.count})`);
    }
    for (const [name, g] of Object.entries(s.gauges)) parts.push(`${name} max ${num(g.max)}`);
    for (const [name, v] of Object.entries(s.counters)) if (v !== 0) parts.push(`${name} +${num(v)}`);
    lines.push(`- server /metrics (${s.scrapes} scrapes${s.scrapeErrors ? `, ${s.scrapeErrors} failed` : ''}): ${parts.join('; ') || 'no livestem_ metrics'}`);
  }
  return lines.join('\n');
}

export function renderMarkdown(report: LoadReport): string {
  const out = [
    `# livestem load test — ${report.date}`,
    '',
    `\`${report.command}\``,
    '',
    `Target ${report.url}; generator ${report.generator.cpu} (${report.generator.cores} cores), Node ${report.generator.node}.`,
    `Song ${report.song.name} (${report.song.sampleRateHz} Hz, ${report.song.channels} ch), ${report.config.durationS} s per session${report.soak ? ` (the soak: ${report.soak.hopsPerStream} model hops per stream)` : ''}, frames of ${report.config.frameSizesMs.join('/')} ms, starts spread over ${report.config.staggerMs} ms, WebSocket client ${report.config.client}.`,
    '',
    'End-to-end latency, per output hop = receive time of the frame carrying the hop − send time of the input frame holding the input sample aligned with the hop\'s newest sample (nothing subtracted; with input frames longer than a hop it can be below the algorithmic latency, because the client already held that sample while filling its frame). Server-added = receive time − send time of the input that made the hop computable (the hop\'s newest sample + the announced latency) − min RTT.',
    '',
  ];
  if (report.ramp) {
    const r = report.ramp;
    out.push(
      '## Capacity',
      '',
      r.saturated
        ? `**${r.capacityStreams} streams** under SLO p99 ≤ ${r.sloP99Ms.toFixed(1)} ms with zero gaps (first failing step: ${r.firstFailStreams}).`
        : `Every step up to ${r.capacityStreams} streams passed SLO p99 ≤ ${r.sloP99Ms.toFixed(1)} ms: capacity is **at least ${r.capacityStreams}** (extend --ramp).`,
      '',
      '| streams | e2e p50 | e2e p99 | e2e p99.9 | e2e max | server-added p50 | server-added p99 | server-added max | gaps | failed | verdict |',
      '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
      ...report.steps
        .filter((s) => s.verdict !== undefined)
        .map(
          (s) =>
            `| ${s.streams} | ${f1(s.e2eMs.p50Ms)} | ${f1(s.e2eMs.p99Ms)} | ${f1(s.e2eMs.p999Ms)} | ${f1(s.e2eMs.maxMs)} | ${f1(s.serverAddedMs.p50Ms)} | ${f1(s.serverAddedMs.p99Ms)} | ${f1(s.serverAddedMs.maxMs)} | ${s.continuity.gaps} | ${s.sessions.failed} | ${s.verdict?.pass ? 'pass' : 'fail'} |`,
        ),
      '',
      '![capacity](capacity.png)',
      '',
    );
  }
  if (report.soak) out.push(...soakMarkdown(report.soak));
  out.push('## Steps', '', '![latency CDF](latency-cdf.png)', '');
  for (const step of report.steps) out.push(stepSection(step), '');
  return out.join('\n');
}

/** Writes report.json, report.md, latency-cdf.png and (for a ramp) capacity.png; returns the paths. */
export async function writeReport(report: LoadReport, outDir: string): Promise<string[]> {
  await mkdir(outDir, { recursive: true });
  const paths = [join(outDir, 'report.json'), join(outDir, 'report.md'), join(outDir, 'latency-cdf.png')];
  await writeFile(paths[0]!, JSON.stringify(report, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2));
  await writeFile(paths[1]!, renderMarkdown(report));
  const slo = report.ramp?.sloP99Ms ?? report.config.sloP99Ms;
  const cdf = latencyCdfSpec(
    report.steps.map((s) => ({ label: String(s.streams), points: s.cdf })),
    'End-to-end latency CDF per number of streams',
    slo,
  );
  await writeFile(paths[2]!, await renderPng(cdf));
  if (report.ramp) {
    const cap = capacitySpec(
      report.steps.filter((s) => s.verdict !== undefined).map((s) => ({ streams: s.streams, p50Ms: s.e2eMs.p50Ms, p99Ms: s.e2eMs.p99Ms, p999Ms: s.e2eMs.p999Ms, pass: s.verdict?.pass ?? false })),
      `Capacity: e2e latency vs concurrent streams (SLO p99 ≤ ${report.ramp.sloP99Ms.toFixed(1)} ms)`,
      report.ramp.sloP99Ms,
    );
    const capPath = join(outDir, 'capacity.png');
    await writeFile(capPath, await renderPng(cap));
    paths.push(capPath);
  }
  return paths;
}
