/**
 * Per-connection message rate limits as token buckets (pure: the caller passes the clock). Each class of message
 * has its own bucket holding one second's worth of messages, so a client may burst up to its per-second limit and
 * sustain exactly that rate. The point is to bound how much work one connection can put on the event loop between two
 * hops of everyone else's audio; the limits are announced in `ready.limits`.
 */
export type MessageClass = 'control' | 'audio';

export interface MessageRateLimits {
  maxControlMessagesPerSecond: number;
  maxAudioMessagesPerSecond: number;
}

class TokenBucket {
  private tokens: number;
  private lastMs: number | undefined;

  constructor(private readonly perSecond: number) {
    this.tokens = perSecond;
  }

  take(nowMs: number): boolean {
    if (this.lastMs !== undefined) this.tokens = Math.min(this.perSecond, this.tokens + ((nowMs - this.lastMs) * this.perSecond) / 1000);
    this.lastMs = nowMs;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

export class MessageRateLimiter {
  private readonly buckets: Record<MessageClass, TokenBucket>;

  constructor(readonly limits: MessageRateLimits) {
    this.buckets = { control: new TokenBucket(limits.maxControlMessagesPerSecond), audio: new TokenBucket(limits.maxAudioMessagesPerSecond) };
  }

  /** Whether one more message of this class is within the limit at `nowMs` (it is counted when it is). */
  admit(kind: MessageClass, nowMs: number): boolean {
    return this.buckets[kind].take(nowMs);
  }

  limitOf(kind: MessageClass): number {
    return kind === 'control' ? this.limits.maxControlMessagesPerSecond : this.limits.maxAudioMessagesPerSecond;
  }
}
