/**
 * Per-connection message rate limits as token buckets (pure: the caller passes the clock). Each class of message
 * has a bucket holding one second's worth, refilled at the per-second limit. An empty bucket does not fail the
 * client at once: the server stops reading (like TCP backpressure) until the bucket has refilled, because messages a
 * client sent while the server itself was not reading arrive as one burst when reading resumes. Messages keep
 * arriving for a moment after reading stops (the rest of what was already read), so the bucket may go into debt by up
 * to another second's worth; beyond that the client is flooding, and fails with RATE_LIMITED.
 */
export type MessageClass = 'control' | 'audio';

export interface MessageRateLimits {
  maxControlMessagesPerSecond: number;
  maxAudioMessagesPerSecond: number;
}

export type RateVerdict = { kind: 'ok' } | { kind: 'throttle'; resumeAfterMs: number } | { kind: 'exceeded' };

class TokenBucket {
  private tokens: number;
  private lastMs: number | undefined;

  constructor(private readonly perSecond: number) {
    this.tokens = perSecond;
  }

  take(nowMs: number): RateVerdict {
    if (this.lastMs !== undefined) this.tokens = Math.min(this.perSecond, this.tokens + ((nowMs - this.lastMs) * this.perSecond) / 1000);
    this.lastMs = nowMs;
    this.tokens -= 1;
    if (this.tokens >= 0) return { kind: 'ok' };
    if (this.tokens < -this.perSecond) return { kind: 'exceeded' };
    return { kind: 'throttle', resumeAfterMs: Math.ceil((-this.tokens * 1000) / this.perSecond) };
  }
}

export class MessageRateLimiter {
  private readonly buckets: Record<MessageClass, TokenBucket>;

  constructor(readonly limits: MessageRateLimits) {
    this.buckets = { control: new TokenBucket(limits.maxControlMessagesPerSecond), audio: new TokenBucket(limits.maxAudioMessagesPerSecond) };
  }

  /** Counts one message of this class at `nowMs` and says whether to process it, stop reading for a while, or fail. */
  admit(kind: MessageClass, nowMs: number): RateVerdict {
    return this.buckets[kind].take(nowMs);
  }

  limitOf(kind: MessageClass): number {
    return kind === 'control' ? this.limits.maxControlMessagesPerSecond : this.limits.maxAudioMessagesPerSecond;
  }
}
