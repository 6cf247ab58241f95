/**
 * Whether one more session fits, pure: decided from measured headroom against the per-hop latency budget, so that
 * a full server refuses up front (OVERLOADED) instead of degrading the sessions it has.
 *
 * Two measurements, because each misses a failure the other sees:
 * - the recent p99 of per-hop latency (observed): catches everything that delays hops, whatever its cause (CPU
 *   contention from other processes, GC, a slow model), but only once it happens, and latency stays flat until the
 *   engine saturates;
 * - the engine's busy fraction, projected to one more session (predicted): a batched engine serves every stream's
 *   hop once per hop interval, so `busy fraction × hop interval` is how long a round of hops takes — a floor on the
 *   latency of the last hop of each round — and a busy fraction near 1 means queues about to grow without bound.
 *
 * The projection scales the busy fraction by (n + 1) / m, as if all of it were per-session work, where m is the
 * larger of the sessions now (n) and the mean number of sessions over the interval the load was sampled in: after
 * sessions left, their load is not charged to the few still here (with m = n, a second after 12 sessions left their
 * load was charged to the one new session, ×2, and a whole ramp step was refused); sessions that joined since the
 * sample are assumed to cost what the others do until the next sample shows them (charging a sample of 2 sessions'
 * fixed costs to 16 refused a quarter of a soak's sessions at 80 % of capacity). The fixed part (sockets, scrapes)
 * makes the projection pessimistic, which is the safe side for admission.
 */

export interface AdmissionOptions {
  /** Per-hop server latency budget (`--latency-budget-ms`). */
  budgetMs: number;
  /** Busy fraction (0..1) one more session may bring the engine to (`--max-load`): throughput headroom. */
  maxLoad: number;
  /** Shortest hop interval among the served models, ms (256 samples at 44.1 kHz: 5.8 ms). */
  hopIntervalMs: number;
  /** Below this many hops in the window the recent p99 is not trusted (cold start, a session's warm-up hops). */
  minWindowHops: number;
}

export interface AdmissionSignals {
  activeSessions: number;
  /** Engine busy fraction over the last sampling interval, 0..1. */
  load: number;
  /** Mean number of sessions over the interval `load` was sampled in. */
  loadSessions: number;
  /** p99 of per-hop latency over the recent window, ms (NaN when the window is empty). */
  recentP99Ms: number;
  /** Hops in the recent window. */
  recentHops: number;
}

export interface AdmissionDecision {
  admit: boolean;
  /** Budget minus the predicted per-hop latency with one more session, ms; ≤ 0 means no room. */
  headroomMs: number;
  /** Why a session is refused (the OVERLOADED message); absent when admitted. */
  reason?: string;
}

const ms = (v: number): string => v.toFixed(1);

export function decideAdmission(s: AdmissionSignals, o: AdmissionOptions): AdmissionDecision {
  // With nobody streaming there is nobody to degrade: whatever was measured is the tail of sessions already gone.
  if (s.activeSessions === 0) return { admit: true, headroomMs: o.budgetMs };
  const observedMs = s.recentHops >= o.minWindowHops && Number.isFinite(s.recentP99Ms) ? s.recentP99Ms : 0;
  const predictedLoad = (s.load * (s.activeSessions + 1)) / Math.max(s.activeSessions, s.loadSessions);
  const roundMs = predictedLoad * o.hopIntervalMs;
  const headroomMs = o.budgetMs - Math.max(observedMs, roundMs);
  if (observedMs > o.budgetMs) {
    return { admit: false, headroomMs, reason: `recent p99 hop latency ${ms(observedMs)} ms above the ${ms(o.budgetMs)} ms budget` };
  }
  if (predictedLoad > o.maxLoad) {
    return {
      admit: false,
      headroomMs,
      reason: `engine load ${s.load.toFixed(2)} (${predictedLoad.toFixed(2)} with one more session) above ${o.maxLoad}`,
    };
  }
  if (roundMs > o.budgetMs) {
    return {
      admit: false,
      headroomMs,
      reason: `engine busy ${ms(roundMs)} ms per ${ms(o.hopIntervalMs)} ms hop with one more session, above the ${ms(o.budgetMs)} ms budget`,
    };
  }
  return { admit: true, headroomMs };
}
