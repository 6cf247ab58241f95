/**
 * Admission as the server runs it: gathers the measurements (recent hop latency from `metrics.recentHopLatency`,
 * the engine busy fraction from the load monitor) and asks the pure policy (admission-policy.ts). With
 * `--admission sessions` it admits everything and leaves `--max-sessions` (checked by the registry) as the only bound.
 */
import type { Metrics } from '../metrics/metrics.ts';
import { decideAdmission, type AdmissionDecision } from './admission-policy.ts';

/** Hops the recent window must hold before its p99 counts: ~1 s of one 44.1 kHz stream, so one stall is not a p99. */
export const MIN_WINDOW_HOPS = 200;

export interface AdmissionConfig {
  mode: 'latency' | 'sessions';
  budgetMs: number;
  maxLoad: number;
  /** Shortest hop interval of the served models, ms. */
  hopIntervalMs: number;
}

export type Admission = (activeSessions: number) => AdmissionDecision;

export function createAdmission(config: AdmissionConfig, signals: { metrics: Metrics; load: () => { load: number; loadSessions: number }; now: () => number }): Admission {
  if (config.mode === 'sessions') return () => ({ admit: true, headroomMs: config.budgetMs });
  const options = { budgetMs: config.budgetMs, maxLoad: config.maxLoad, hopIntervalMs: config.hopIntervalMs, minWindowHops: MIN_WINDOW_HOPS };
  return (activeSessions) => {
    const recent = signals.metrics.recentHopLatency.quantile(0.99, signals.now());
    return decideAdmission({ activeSessions, ...signals.load(), recentP99Ms: recent.latencyMs, recentHops: recent.count }, options);
  };
}
