/**
 * Sends the outbox's input on the current socket within three bounds, and learns from the server what it has:
 *
 * - in flight (sent, not yet confirmed by delivered output): at most `limits.maxBufferedInputMs` of input. The
 *   server fails an audio message that arrives while that much waits (INPUT_OVERRUN), and it retains at least that
 *   much output for a replay (`resumeBufferMs ≥ maxBufferedInputMs`), so staying within it means the server can
 *   never overrun and a resume can never ask for output older than the server kept;
 * - message count: send-pacer.ts (limits.maxAudioMessagesPerSecond);
 * - message size: `limits.maxMessageBytes`, and a quarter of the window so the window refills smoothly.
 *
 * When a bound holds input back it stays in the outbox and goes out later in bigger messages.
 */
import { InputOutbox } from './outbox.ts';
import { AudioSendPacer } from './send-pacer.ts';
import { SOCKET_OPEN, type SocketLike } from './socket.ts';
import type { ReadyMessage } from './protocol/index.ts';

const ACK_PING_PREFIX = 'livestem-sdk-ack-';

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

export class InputSender {
  readonly outbox: InputOutbox;
  #pacer: AudioSendPacer | undefined;
  #windowFrames = 0;
  #maxMessageFrames = 1;
  /** Input samples per whole number of output samples: a replacement session may only start on this step. */
  #stepIn = 1;
  #inRate = 1;
  #outRate = 1;
  #ackPing: { id: string; offset: number } | undefined;
  #ackSeq = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(frameBytes: number) {
    this.outbox = new InputOutbox(frameBytes);
  }

  /** A new connection (first, resumed or replacement): its limits, and a fresh message budget like the server's. */
  connected(ready: ReadyMessage, nowMs: number): void {
    const inRate = ready.input.sampleRateHz;
    const outRate = ready.output.sampleRateHz;
    const latencyIn = Math.ceil((ready.latency.samples * inRate) / outRate);
    const hopIn = Math.ceil((ready.model.hopSamples * inRate) / ready.model.sampleRateHz);
    // At least enough in flight for output to start at all (liveness), whatever the configured buffer.
    this.#windowFrames = Math.max(Math.floor((ready.limits.maxBufferedInputMs * inRate) / 1000), 2 * (latencyIn + hopIn));
    this.#maxMessageFrames = Math.max(1, Math.min(Math.floor(ready.limits.maxMessageBytes / this.outbox.frameBytes), Math.floor(this.#windowFrames / 4)));
    this.#inRate = inRate;
    this.#outRate = outRate;
    this.#stepIn = inRate / gcd(inRate, outRate);
    this.#pacer = new AudioSendPacer(ready.limits.maxAudioMessagesPerSecond, nowMs);
    this.#ackPing = undefined;
    this.stop();
  }

  /** Input position (floor) that output up to `outputOffset` stands for. */
  toInput(outputOffset: number): number {
    return Math.floor((outputOffset * this.#inRate) / this.#outRate);
  }

  toOutput(inputOffset: number): number {
    return (inputOffset * this.#outRate) / this.#inRate;
  }

  /** Sends what the bounds allow; true when nothing is left unsent. `retry` is called when a token is due. */
  pump(socket: SocketLike, retry: () => void): boolean {
    const pacer = this.#pacer;
    if (pacer === undefined || socket.readyState !== SOCKET_OPEN) return false;
    const box = this.outbox;
    while (box.unsentFrames > 0) {
      const room = this.#windowFrames - box.inFlightFrames;
      if (room <= 0) return false; // delivered output will confirm input and pump again
      const verdict = pacer.check(performance.now());
      if (verdict.kind === 'wait-ack') {
        this.#sendAckPing(socket);
        return false;
      }
      if (verdict.kind === 'wait-token') {
        this.#timer ??= setTimeout(() => {
          this.#timer = undefined;
          retry();
        }, verdict.retryInMs);
        return false;
      }
      socket.send(box.take(Math.min(room, this.#maxMessageFrames)));
      pacer.sent(box.sent, performance.now());
    }
    return true;
  }

  /**
   * The server has read input up to `readInput` (output proves it) and every kind was delivered up to
   * `deliveredInput`: input before both is no longer needed, on a step a replacement session can start from.
   */
  confirmed(readInput: number, deliveredInput: number): void {
    this.#pacer?.read(readInput);
    const keepFrom = Math.min(readInput, deliveredInput, this.outbox.sent);
    this.outbox.trimBefore(Math.floor(keepFrom / this.#stepIn) * this.#stepIn);
  }

  /** A `pong` for our ping: the server read every message sent before it. True when it was ours. */
  pong(id: unknown): boolean {
    if (this.#ackPing === undefined || id !== this.#ackPing.id) return false;
    this.#pacer?.read(this.#ackPing.offset);
    this.#ackPing = undefined;
    return true;
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Used only when the message bound is hit and output cannot tell us (e.g. before the first output). */
  #sendAckPing(socket: SocketLike): void {
    if (this.#ackPing !== undefined) return;
    this.#ackPing = { id: `${ACK_PING_PREFIX}${++this.#ackSeq}`, offset: this.outbox.sent };
    socket.send(JSON.stringify({ type: 'ping', id: this.#ackPing.id }));
  }
}
