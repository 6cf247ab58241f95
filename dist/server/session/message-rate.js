class TokenBucket {
    perSecond;
    tokens;
    lastMs;
    constructor(perSecond) {
        this.perSecond = perSecond;
        this.tokens = perSecond;
    }
    take(nowMs) {
        if (this.lastMs !== undefined)
            this.tokens = Math.min(this.perSecond, this.tokens + ((nowMs - this.lastMs) * this.perSecond) / 1000);
        this.lastMs = nowMs;
        this.tokens -= 1;
        if (this.tokens >= 0)
            return { kind: 'ok' };
        if (this.tokens < -this.perSecond)
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