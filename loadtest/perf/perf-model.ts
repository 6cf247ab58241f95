/** The data docs/performance.md is rendered from (also written as JSON next to the loadtest results). */
import type { OfflineRtf } from './offline-rtf.ts';

export interface EngineCost {
  /** Concurrent sessions the two headline figures were measured with. */
  sessions: number;
  /** Engine time per session-hop with one stream per model call (µs). */
  unbatchedUsPerHop: number;
  /** Engine time per session-hop when the sessions share each model call (µs). */
  batchedUsPerHop: number;
  batchSize: number;
  /** What the figure includes. */
  scope: string;
  /** Every row of the engine bench (bench/engine.ts runEngineBench). */
  rows: Array<{ sessions: number; batched: boolean; usPerSessionHop: number; modelUsPerSessionHop: number; meanBatchSize: number; realTimeStreamsPerCore: number }>;
  loadAverage1m: number;
}

export interface CapacityFigure {
  streams: number;
  /** True when a higher step failed (a real ceiling); false when the ramp ended without failing. */
  saturated: boolean;
  sloP99Ms: number;
  p99AtCapacityMs: number | null;
  durationS: number;
  /** Highest 1-minute load average seen at the end of a ramp step (shared cores make the figure pessimistic). */
  maxLoadAverage1m: number | null;
  command: string;
  date: string;
  reportPath: string;
  /** Every ramp step up to the one that broke: the curve behind the capacity figure. */
  steps: RampStepFigure[];
}

export interface RampStepFigure {
  streams: number;
  e2eP50Ms: number;
  e2eP99Ms: number;
  serverAddedP50Ms: number;
  serverAddedP99Ms: number;
  serverAddedMaxMs: number;
  /** The server's own server-added p99 (its `livestem_hop_server_added_seconds`, scraped; null without scrapes). */
  serverSideP99Ms: number | null;
  /** CPU per session-second of the server (all its threads) and of the load generator (null without scrapes). */
  serverCpuMsPerSessionSecond: number | null;
  generatorCpuMsPerSessionSecond: number | null;
  /** Hops over the load tester's --budget-ms (null when it ran without one). */
  missedDeadlines: number | null;
  hops: number;
  passed: boolean;
}

export interface ModelPerf {
  name: string;
  arch: string;
  description: string;
  parameters: number;
  sampleRateHz: number;
  nFft: number;
  hopSamples: number;
  algorithmicLatencyMs: number;
  engine: EngineCost | null;
  engineNote?: string;
  capacity: CapacityFigure | null;
  capacityNote?: string;
  offline: OfflineRtf | null;
  offlineNote?: string;
}

export interface PerfData {
  date: string;
  machine: { cpu: string; cores: number; node: string; loadAverage1m: number };
  gpu: { available: boolean; note: string };
  song: string;
  models: ModelPerf[];
  commands: string[];
}
