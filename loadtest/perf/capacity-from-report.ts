/** Reads a `npm run loadtest -- --ramp …` report.json and extracts the capacity figure for the performance table. */
import { readFile } from 'node:fs/promises';
import type { LoadReport } from '../report.ts';
import type { CapacityFigure } from './perf-model.ts';

export async function readCapacity(reportPath: string, modelName: string): Promise<CapacityFigure> {
  const report = JSON.parse(await readFile(reportPath, 'utf8')) as LoadReport;
  if (report.tool !== 'livestem-loadtest' || report.reportVersion !== 1) throw new Error(`${reportPath} is not a livestem load report`);
  if (!report.ramp) throw new Error(`${reportPath} is not a ramp run (no capacity in it): run npm run loadtest -- --ramp A:B:STEP`);
  const models = new Set(report.steps.flatMap((s) => s.models));
  if (!models.has(modelName) || models.size !== 1) {
    throw new Error(`${reportPath} measured model(s) ${[...models].join(', ') || 'none'}, not ${modelName}`);
  }
  if (report.steps.some((s) => s.byTransport.webrtc > 0)) throw new Error(`${reportPath} mixed in WebRTC sessions; the figure is WebSocket only`);
  const atCapacity = report.steps.find((s) => s.streams === report.ramp!.capacityStreams);
  return {
    streams: report.ramp.capacityStreams,
    saturated: report.ramp.saturated,
    sloP99Ms: report.ramp.sloP99Ms,
    p99AtCapacityMs: atCapacity?.e2eMs.p99Ms ?? null,
    durationS: report.config.durationS,
    maxLoadAverage1m: report.steps.some((s) => typeof s.loadAverage1m === 'number') ? Math.max(...report.steps.map((s) => s.loadAverage1m ?? 0)) : null,
    command: report.command,
    date: report.date,
    reportPath,
    steps: report.steps.map((s) => ({
      streams: s.streams,
      e2eP50Ms: s.e2eMs.p50Ms,
      e2eP99Ms: s.e2eMs.p99Ms,
      serverAddedP50Ms: s.serverAddedMs.p50Ms,
      serverAddedP99Ms: s.serverAddedMs.p99Ms,
      serverAddedMaxMs: s.serverAddedMs.maxMs,
      serverSideP99Ms: serverSideP99Ms(s.server?.histograms['livestem_hop_server_added_seconds']?.p99),
      serverCpuMsPerSessionSecond: finiteOrNull(s.server?.cpu?.serverMsPerSessionSecond),
      generatorCpuMsPerSessionSecond: finiteOrNull(s.server?.cpu?.generatorMsPerSessionSecond),
      missedDeadlines: s.deadlines?.missed ?? null,
      hops: s.serverAddedMs.count,
      passed: s.verdict?.pass ?? false,
    })),
  };
}

/** The scraped histogram is in seconds; an empty one has no p99. */
function finiteOrNull(v: number | null | undefined): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function serverSideP99Ms(p99Seconds: number | null | undefined): number | null {
  return typeof p99Seconds === 'number' && Number.isFinite(p99Seconds) ? p99Seconds * 1000 : null;
}
