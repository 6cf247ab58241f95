/**
 * Rate limit for log lines a remote peer can trigger at will ('stream refused', 'session error'): at most
 * `maxLinesPerWindow` lines per key (e.g. remote address) and message per window; the rest are counted, and when
 * the window has ended one `suppressed N similar lines` line reports them. Without it, one client looping on a bad
 * request writes a log line per attempt.
 *
 * Pure: the clock is injected and there are no timers. Ended windows are summarised on the next `log()` call for
 * the same key and message, by a sweep that `log()` runs at most once per window, or by `flush()` (e.g. on
 * shutdown). Memory is bounded: past `maxKeys` tracked key/message pairs, new keys share one overflow bucket
 * (key `*`), so many source addresses are limited together instead of growing the table.
 */
import type { LogFields, Logger, LogLevel } from './log.ts';
import { truncateText } from './text-bounds.ts';

export interface LogThrottleOptions {
  /** Length of one window in ms (default 10 000). */
  windowMs?: number;
  /** Lines written per key and message within one window (default 10). */
  maxLinesPerWindow?: number;
  /** Most key/message pairs tracked at once (default 10 000). */
  maxKeys?: number;
  /** Clock in ms (default Date.now). */
  now?: () => number;
}

export const OVERFLOW_THROTTLE_KEY = '*';

interface Bucket {
  logger: Logger;
  level: LogLevel;
  key: string;
  msg: string;
  windowStartMs: number;
  written: number;
  suppressed: number;
}

// Keys are client-derived (addresses, later maybe forwarded-for values): bound what is stored and logged of them.
const KEY_MAX_CHARS = 128;

export class LogThrottle {
  private readonly windowMs: number;
  private readonly maxLinesPerWindow: number;
  private readonly maxKeys: number;
  private readonly now: () => number;
  private readonly buckets = new Map<string, Bucket>();
  private lastSweepMs: number;

  constructor(options: LogThrottleOptions = {}) {
    this.windowMs = Math.max(1, options.windowMs ?? 10_000);
    this.maxLinesPerWindow = Math.max(1, Math.floor(options.maxLinesPerWindow ?? 10));
    this.maxKeys = Math.max(1, Math.floor(options.maxKeys ?? 10_000));
    this.now = options.now ?? Date.now;
    this.lastSweepMs = this.now();
  }

  /**
   * Writes `logger[level](msg, fields)` unless `key` has used up this window's budget for `msg`.
   * Returns true when the line was written, false when it was counted as suppressed.
   */
  log(logger: Logger, level: LogLevel, key: string, msg: string, fields?: LogFields): boolean {
    const nowMs = this.now();
    if (nowMs - this.lastSweepMs >= this.windowMs) this.sweep(nowMs, false);
    let boundedKey = truncateText(key, KEY_MAX_CHARS);
    let id = LogThrottle.id(boundedKey, msg);
    let bucket = this.buckets.get(id);
    if (bucket === undefined && this.buckets.size >= this.maxKeys) {
      boundedKey = OVERFLOW_THROTTLE_KEY;
      id = LogThrottle.id(boundedKey, msg);
      bucket = this.buckets.get(id);
    }
    if (bucket !== undefined && nowMs - bucket.windowStartMs >= this.windowMs) {
      this.summarise(bucket);
      bucket.windowStartMs = nowMs;
      bucket.written = 0;
      bucket.suppressed = 0;
      bucket.logger = logger;
      bucket.level = level;
    }
    if (bucket === undefined) {
      bucket = { logger, level, key: boundedKey, msg, windowStartMs: nowMs, written: 0, suppressed: 0 };
      this.buckets.set(id, bucket);
    }
    if (bucket.written >= this.maxLinesPerWindow) {
      bucket.suppressed += 1;
      return false;
    }
    bucket.written += 1;
    logger[level](msg, fields);
    return true;
  }

  /**
   * Writes the summary line of every window that has ended (every window when `all`), and forgets those keys.
   * Returns the number of summary lines written.
   */
  flush(options: { all?: boolean } = {}): number {
    return this.sweep(this.now(), options.all === true);
  }

  /** Key/message pairs currently tracked (bounded by `maxKeys`, plus the overflow bucket per message). */
  get trackedKeys(): number {
    return this.buckets.size;
  }

  private sweep(nowMs: number, all: boolean): number {
    this.lastSweepMs = nowMs;
    let summaries = 0;
    for (const [id, bucket] of this.buckets) {
      if (!all && nowMs - bucket.windowStartMs < this.windowMs) continue;
      if (this.summarise(bucket)) summaries += 1;
      this.buckets.delete(id);
    }
    return summaries;
  }

  private summarise(bucket: Bucket): boolean {
    if (bucket.suppressed === 0) return false;
    bucket.logger[bucket.level](`suppressed ${bucket.suppressed} similar lines`, {
      suppressedMsg: bucket.msg,
      throttleKey: bucket.key,
      suppressed: bucket.suppressed,
      windowMs: this.windowMs,
    });
    return true;
  }

  private static id(key: string, msg: string): string {
    return `${key}\u0000${msg}`;
  }
}
