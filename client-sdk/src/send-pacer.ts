/**
 * Keeps one connection's audio messages within `limits.maxAudioMessagesPerSecond`, which the server counts when it
 * *reads* a message (a token bucket of one second's worth, per connection). Pacing sends alone is not enough: the
 * server pauses reading (TCP backpressure) and then reads whatever queued up in one go. So two bounds:
 *
 * - sends: a token bucket at half the limit, bursts of a quarter;
 * - unread: at most a quarter of the limit sent but not known to be read (an output frame or a `pong` proves the
 *   server read everything before it).
 *
 * Any window of T seconds then reads at most limit/4 (queued) + limit/4 (burst) + limit/2 · T messages, within the
 * server's limit + limit · T. When a bound holds a message back, the caller coalesces: messages get bigger, not
 * more numerous. Pure: the caller passes the clock.
 */

export type PaceVerdict = { kind: 'send' } | { kind: 'wait-token'; retryInMs: number } | { kind: 'wait-ack' };

export class AudioSendPacer {
  readonly ratePerSecond: number;
  readonly burst: number;
  readonly maxUnread: number;
  #tokens: number;
  #lastMs: number;
  /** End input offsets of sent messages not yet known to be read, oldest first. */
  #unread: number[] = [];

  constructor(maxAudioMessagesPerSecond: number, nowMs: number) {
    const limit = Math.max(1, maxAudioMessagesPerSecond);
    this.ratePerSecond = limit / 2;
    this.burst = Math.max(1, Math.floor(limit / 4));
    this.maxUnread = Math.max(1, Math.floor(limit / 4));
    this.#tokens = this.burst;
    this.#lastMs = nowMs;
  }

  get unread(): number {
    return this.#unread.length;
  }

  check(nowMs: number): PaceVerdict {
    this.#refill(nowMs);
    if (this.#unread.length >= this.maxUnread) return { kind: 'wait-ack' };
    if (this.#tokens >= 1) return { kind: 'send' };
    return { kind: 'wait-token', retryInMs: Math.ceil(((1 - this.#tokens) * 1000) / this.ratePerSecond) };
  }

  /** One message was sent, ending at input offset `endOffset`. */
  sent(endOffset: number, nowMs: number): void {
    this.#refill(nowMs);
    this.#tokens -= 1;
    this.#unread.push(endOffset);
  }

  /** The server has read input up to `offset`: every message ending there or before is read. */
  read(offset: number): void {
    let n = 0;
    while (n < this.#unread.length && this.#unread[n]! <= offset) n++;
    if (n > 0) this.#unread.splice(0, n);
  }

  #refill(nowMs: number): void {
    this.#tokens = Math.min(this.burst, this.#tokens + ((nowMs - this.#lastMs) * this.ratePerSecond) / 1000);
    this.#lastMs = nowMs;
  }
}
