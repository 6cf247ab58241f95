import { truncateText } from "./text-bounds.js";
export const OVERFLOW_THROTTLE_KEY = '*';
// Keys are client-derived (addresses, later maybe forwarded-for values): bound what is stored and logged of them.
const KEY_MAX_CHARS = 128;
export class LogThrottle {
    windowMs;
    maxLinesPerWindow;
    maxKeys;
    now;
    buckets = new Map();
    lastSweepMs;
    constructor(options = {}) {
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
    log(logger, level, key, msg, fields) {
        const nowMs = this.now();
        if (nowMs - this.lastSweepMs >= this.windowMs)
            this.sweep(nowMs, false);
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
    flush(options = {}) {
        return this.sweep(this.now(), options.all === true);
    }
    /** Key/message pairs currently tracked (bounded by `maxKeys`, plus the overflow bucket per message). */
    get trackedKeys() {
        return this.buckets.size;
    }
    sweep(nowMs, all) {
        this.lastSweepMs = nowMs;
        let summaries = 0;
        for (const [id, bucket] of this.buckets) {
            if (!all && nowMs - bucket.windowStartMs < this.windowMs)
                continue;
            if (this.summarise(bucket))
                summaries += 1;
            this.buckets.delete(id);
        }
        return summaries;
    }
    summarise(bucket) {
        if (bucket.suppressed === 0)
            return false;
        bucket.logger[bucket.level](`suppressed ${bucket.suppressed} similar lines`, {
            suppressedMsg: bucket.msg,
            throttleKey: bucket.key,
            suppressed: bucket.suppressed,
            windowMs: this.windowMs,
        });
        return true;
    }
    static id(key, msg) {
        return `${key}\u0000${msg}`;
    }
}
//# sourceMappingURL=log-throttle.js.map