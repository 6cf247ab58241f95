/**
 * A session's backpressure on its transport: reading is paused while the input buffer is over half full, the
 * client's output queue is over a quarter of `maxSendBufferBytes`, or the client is over its message rate, and
 * resumed when every reason has cleared. Every
 * byte queued for the client counts; beyond the limit the client is a slow consumer.
 */
import type { Connection } from './connection.ts';
import { MessageRateLimiter, type MessageClass, type MessageRateLimits } from './message-rate.ts';

interface FlowTimers {
  now(): number;
  setTimeout(fn: () => void, ms: number): { cancel(): void };
}

type PauseReason = 'input' | 'output' | 'rate';

export class FlowControl {
  private readonly reasons = new Set<PauseReason>();
  private connection: Connection | undefined;
  private readonly rate: MessageRateLimiter;
  private rateTimer: { cancel(): void } | undefined;

  constructor(
    private readonly maxSendBufferBytes: number,
    rateLimits: MessageRateLimits,
    private readonly timers: FlowTimers,
  ) {
    this.rate = new MessageRateLimiter(rateLimits);
  }

  /**
   * Counts one message read from the client. Over the rate, reading pauses until the bucket has refilled; returns
   * the per-second limit the client exceeded when it is flooding (the session then fails it), else undefined.
   */
  admitMessage(kind: MessageClass): number | undefined {
    const verdict = this.rate.admit(kind, this.timers.now());
    if (verdict.kind === 'throttle' && !this.rateTimer) {
      this.pause('rate');
      this.rateTimer = this.timers.setTimeout(() => {
        this.rateTimer = undefined;
        this.unpause('rate');
      }, verdict.resumeAfterMs);
    }
    return verdict.kind === 'exceeded' ? this.rate.limitOf(kind) : undefined;
  }

  /** The session ended: no timer may fire after it. */
  stop(): void {
    this.rateTimer?.cancel();
  }

  /** The transport to pause (undefined while detached); a new one starts unpaused. */
  attach(connection: Connection | undefined): void {
    this.connection = connection;
    this.reasons.clear();
  }

  get paused(): boolean {
    return this.reasons.size > 0;
  }

  get pausedForOutput(): boolean {
    return this.reasons.has('output');
  }

  /** Reading pauses at a quarter of the send limit, so a client that stops reading is slowed well before it fails. */
  private get pauseBytes(): number {
    return this.maxSendBufferBytes / 4;
  }

  /** After anything was queued for the client: whether it is now over the limit (a slow consumer). */
  afterSend(): { overLimitBytes: number | undefined } {
    const buffered = this.connection?.bufferedBytes ?? 0;
    if (buffered > this.maxSendBufferBytes) return { overLimitBytes: buffered };
    if (buffered > this.pauseBytes) this.pause('output');
    return { overLimitBytes: undefined };
  }

  /** Some output reached the OS. */
  sendDrained(): void {
    if (this.connection && this.connection.bufferedBytes < this.pauseBytes / 2) this.unpause('output');
  }

  pause(reason: PauseReason): void {
    if (!this.connection) return;
    this.reasons.add(reason);
    this.connection.pauseInput();
  }

  unpause(reason: PauseReason): void {
    if (!this.reasons.delete(reason) || this.reasons.size > 0) return;
    this.connection?.resumeInput();
  }
}
