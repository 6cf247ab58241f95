/** Missed deadlines, pure: hops whose server-added latency exceeded the per-hop budget. */

export interface DeadlineCount {
  budgetMs: number;
  /** Hops timed (one latency per hop). */
  hops: number;
  /** Hops whose server-added latency exceeded the budget. */
  missed: number;
  /** Largest server-added latency seen, ms (NaN with no hop). */
  worstMs: number;
}

/** Counts the hops over budget; a latency equal to the budget made it. */
export function countMissedDeadlines(serverAddedMs: ArrayLike<number>, budgetMs: number): DeadlineCount {
  let missed = 0;
  let worstMs = Number.NaN;
  for (let i = 0; i < serverAddedMs.length; i++) {
    const v = serverAddedMs[i]!;
    if (v > budgetMs) missed += 1;
    if (!(v <= worstMs)) worstMs = v;
  }
  return { budgetMs, hops: serverAddedMs.length, missed, worstMs };
}
