/**
 * Per-connection message rate limits as token buckets (pure: the caller passes the clock). Each class of message
 * has a bucket holding a quarter second's worth, refilled at the per-second limit: the burst is what bounds how much
 * work one connection puts on the event loop in one go (every message of a socket read is handled synchronously).
 * An empty bucket does not fail the client at once: the server stops reading (like TCP backpressure) until the
 * bucket has refilled, because messages a client sent while the server itself was not reading arrive as one burst
 * when reading resumes. Messages keep arriving for a moment after reading stops (the rest of the socket read in
 * progress), so the bucket may go into debt by another burst, and at least by what one read of ordinary messages
 * holds; beyond that the client is flooding, and fails with RATE_LIMITED.
 */
/** Bucket size as a fraction of the per-second limit. */
export const RATE_BURST_FRACTION = 0.25;
/**
 * Debt allowed at least: one 64 KiB socket read of 10 ms mono 16 kHz s16 frames (326 bytes framed) holds ~200
 * messages. A flood of minimal messages puts thousands in one read and still fails.
 */
export const MIN_RATE_DEBT_MESSAGES = 256;
class TokenBucket {
    perSecond;
    tokens;
    lastMs;
    burst;
    maxDebt;
    constructor(perSecond) {
        this.perSecond = perSecond;
        this.burst = Math.max(1, perSecond * RATE_BURST_FRACTION);
        this.tokens = this.burst;
        this.maxDebt = Math.max(this.burst, MIN_RATE_DEBT_MESSAGES);
    }
    take(nowMs) {
        if (this.lastMs !== undefined)
            this.tokens = Math.min(this.burst, this.tokens + ((nowMs - this.lastMs) * this.perSecond) / 1000);
        this.lastMs = nowMs;
        this.tokens -= 1;
        if (this.tokens >= 0)
            return { kind: 'ok' };
        if (this.tokens < -this.maxDebt)
            return { kind: 'exceeded' };
        return { kind: 'throttle', resumeAfterMs: Math.ceil((-this.tokens * 1000) / this.perSecond) };
    }
}
export class MessageRateLimiter {
    limits;
    buckets;
    constructor(limits) {
        this.limits = limits;
        this.buckets = { control: new TokenBucket(limits.maxControlMessagesPerSecond), audio: new TokenBucket(limits.maxAudioMessagesPerSecond) };
    }
    /** Counts one message of this class at `nowMs` and says whether to process it, stop reading for a while, or fail. */
    admit(kind, nowMs) {
        return this.buckets[kind].take(nowMs);
    }
    limitOf(kind) {
        return kind === 'control' ? this.limits.maxControlMessagesPerSecond : this.limits.maxAudioMessagesPerSecond;
    }
}
//# sourceMappingURL=message-rate.js.map