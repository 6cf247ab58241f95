/**
 * A livestem streaming session over WebSocket (docs/protocol.md). `connect()` resolves once the server has answered
 * `ready`; then `write()` sends audio, outputs arrive as events / async iterators with sample offsets aligned to input
 * time, and `end()` resolves with the server's `done` once every output sample has arrived.
 *
 * Input goes through an outbox (outbox.ts, sent by input-sender.ts): sent audio is kept until output proves the
 * server had it, so a resumed connection sends again exactly what the server missed. Reconnecting is resume.ts;
 * de-duplicating output across reconnects is delivery.ts.
 */
import { LivestemClientError } from './errors.ts';
import { TypedEvents } from './events.ts';
import { OutputDelivery } from './delivery.ts';
import { errorFromMessage, isCloseMarker, openStart, type Opened, type StartParams } from './handshake.ts';
import { InputSender } from './input-sender.ts';
import { recover, reconnectPolicy, type Recovery, type ReconnectPolicy } from './resume.ts';
import type { CloseEvent, ConnectOptions, SessionEvents } from './session-events.ts';
import { messageBytes, SOCKET_OPEN, type SocketLike } from './socket.ts';
import { decodeOutputMessage, type OutputChunk } from './output-chunk.ts';
import { encodePcm, FrameDecodeError, type ClientMessage, type DoneMessage, type OutputKind, type ReadyMessage, type ResumedMessage, type ServerMessage, type StatsMessage, type VadMessage } from './protocol/index.ts';

export { streamUrl } from './handshake.ts';
export type { CloseEvent, ConnectOptions, DisconnectEvent, ReconnectEvent, ResumedEvent, SessionEvents } from './session-events.ts';

const DEFAULT_HIGH_WATER_MARK_BYTES = 256 * 1024;
const DRAIN_POLL_MS = 10;

type SessionState = 'open' | 'ending' | 'reconnecting' | 'closed';

function readyOf(m: ResumedMessage): ReadyMessage {
  const { type: _resumed, inputSamples: _in, outputSampleOffset: _out, ...fields } = m;
  return { ...fields, type: 'ready' };
}

export class LivestemSession extends TypedEvents<SessionEvents> {
  #opts: ConnectOptions;
  #policy: ReconnectPolicy | undefined;
  /** `start` as it would be sent now: configure changes it, so a replacement session keeps the caller's settings. */
  #params: StartParams;
  #socket: SocketLike | undefined;
  #ready: ReadyMessage;
  #state: SessionState = 'open';
  #sender: InputSender;
  #delivery: OutputDelivery;
  /** Caller-timeline input offset of the current server session's input sample 0. */
  #inputBase = 0;
  #pendingError: LivestemClientError | undefined;
  #doneReceived = false;
  #endRequested = false;
  #endSent = false;
  #recovery: Promise<void> | undefined;
  #finished = false;
  #requestId = 0;
  #waiters = new Map<(m: ServerMessage) => void, (err: LivestemClientError) => void>();
  readonly closed: Promise<CloseEvent>;
  #resolveClosed!: (ev: CloseEvent) => void;

  constructor(opts: ConnectOptions, opened: Opened<ReadyMessage>) {
    super();
    this.#opts = opts;
    this.#policy = reconnectPolicy(opts.reconnect);
    this.#params = { ...opts };
    this.#ready = opened.answer;
    this.#sender = new InputSender(((opts.format ?? 'f32le') === 's16le' ? 2 : 4) * opts.channels);
    this.#delivery = new OutputDelivery(opened.answer.output.outputs);
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
    this.#adopt(opened);
    this.#drainEarly(opened);
  }

  /** The server's `ready` (session id, model, latency in output samples, limits) of the current connection. */
  get ready(): ReadyMessage {
    return this.#ready;
  }

  get state(): SessionState {
    return this.#state;
  }

  /** Input samples (per channel) written so far, across reconnects. */
  get inputSamples(): number {
    return this.#sender.outbox.end;
  }

  /**
   * Sends planar audio (one Float32Array per channel, samples in [-1, 1]). Resolves when what is queued (unsent input
   * plus the socket's queue) is back under the high-water mark, so `await session.write(x)` in a loop never buffers
   * without bound. While reconnecting it keeps taking input up to `reconnect.bufferInputMs`, then waits.
   */
  async write(planar: readonly Float32Array[]): Promise<void> {
    if ((this.#state !== 'open' && this.#state !== 'reconnecting') || this.#endRequested) {
      throw new LivestemClientError('LIVESTEM_CLIENT_CLOSED', `cannot write: session is ${this.#endRequested ? 'ending' : this.#state}`);
    }
    if (planar.length !== this.#opts.channels) {
      throw new LivestemClientError('LIVESTEM_CLIENT_BAD_ARGUMENT', `expected ${this.#opts.channels} channels, got ${planar.length}`);
    }
    const frames = planar[0]!.length;
    if (planar.some((ch) => ch.length !== frames)) {
      throw new LivestemClientError('LIVESTEM_CLIENT_BAD_ARGUMENT', 'channels have different lengths');
    }
    if (frames === 0) return;
    this.#sender.outbox.push(encodePcm(planar, this.#opts.format ?? 'f32le'));
    this.#pump();
    await this.#writable();
  }

  #overHighWater(): boolean {
    if (this.#state === 'closed') return false;
    if (this.#state === 'reconnecting') {
      return this.#sender.outbox.unsentFrames > ((this.#policy?.bufferInputMs ?? 0) * this.#opts.sampleRate) / 1000;
    }
    const { unsentFrames, frameBytes } = this.#sender.outbox;
    const queued = unsentFrames * frameBytes + (this.#socket?.bufferedAmount ?? 0);
    return queued > (this.#opts.highWaterMarkBytes ?? DEFAULT_HIGH_WATER_MARK_BYTES);
  }

  async #writable(): Promise<void> {
    if (!this.#overHighWater()) return;
    while (this.#overHighWater()) await new Promise((resolve) => setTimeout(resolve, DRAIN_POLL_MS));
    if (this.#state === 'closed') throw new LivestemClientError('LIVESTEM_CLIENT_CLOSED', 'session closed while the write was queued');
    this.emit('drain', undefined);
  }

  /** Changes the karaoke vocal level (0..1) sample-exactly; resolves with the output offset it applies from. */
  setVocalGain(vocalGain: number): Promise<number> {
    if (!Number.isFinite(vocalGain) || vocalGain < 0 || vocalGain > 1) {
      return Promise.reject(new LivestemClientError('LIVESTEM_CLIENT_BAD_ARGUMENT', `vocalGain ${vocalGain} is not in [0, 1]`));
    }
    return this.configure({ vocalGain });
  }

  configure(change: { outputs?: OutputKind[]; vocalGain?: number }): Promise<number> {
    return this.#request({ type: 'configure', ...change }, 'configured').then((m) => m.sampleOffset + this.#delivery.base);
  }

  /** Asks the server for this session's counters. */
  requestStats(): Promise<StatsMessage> {
    return this.#request({ type: 'stats', id: ++this.#requestId }, 'stats');
  }

  /** Round trip of a control message through the server, in ms. */
  async ping(): Promise<number> {
    const t0 = performance.now();
    await this.#request({ type: 'ping', id: ++this.#requestId }, 'pong');
    return performance.now() - t0;
  }

  /** No more audio: resolves with `done` after the last output chunk has been delivered. */
  end(): Promise<DoneMessage> {
    if ((this.#state !== 'open' && this.#state !== 'reconnecting') || this.#endRequested) {
      return Promise.reject(new LivestemClientError('LIVESTEM_CLIENT_CLOSED', `cannot end: session is ${this.#state}`));
    }
    this.#endRequested = true;
    if (this.#state === 'open') this.#state = 'ending';
    const done = new Promise<DoneMessage>((resolve, reject) => {
      const offDone = this.once('done', (d) => {
        offClose();
        resolve(d);
      });
      const offClose = this.once('close', (ev) => {
        offDone();
        reject(ev.error ?? new LivestemClientError('LIVESTEM_CLIENT_CLOSED', `closed (code ${ev.code}) before done`));
      });
    });
    this.#pump(); // `end` follows the last unsent input
    return done;
  }

  /** Closes the connection now (no tail flush). Idempotent. */
  close(): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    const socket = this.#socket;
    if (socket !== undefined && socket.readyState === SOCKET_OPEN) socket.close(1000, 'client closed');
    else this.#finish({ code: 1000, reason: 'client closed' });
  }

  async #request<T extends ServerMessage['type']>(msg: ClientMessage, answer: T): Promise<Extract<ServerMessage, { type: T }>> {
    while (this.#state === 'reconnecting') await this.#recovery;
    const socket = this.#socket;
    if (this.#state === 'closed' || socket === undefined) throw new LivestemClientError('LIVESTEM_CLIENT_CLOSED', 'session is closed');
    return new Promise((resolve, reject) => {
      const onMessage = (m: ServerMessage): void => {
        if (m.type !== answer) return;
        if ('id' in msg && 'id' in m && m.id !== msg.id) return;
        this.#waiters.delete(onMessage);
        resolve(m as Extract<ServerMessage, { type: T }>);
      };
      this.#waiters.set(onMessage, reject);
      socket.send(JSON.stringify(msg));
    });
  }

  /** Pending requests cannot be answered on another socket; whether the server applied them is unknown. */
  #failWaiters(error: LivestemClientError): void {
    const rejects = [...this.#waiters.values()];
    this.#waiters.clear();
    for (const reject of rejects) reject(error);
  }

  // ---- input ----

  /** Sends what the bounds allow (input-sender.ts); `end` follows the last input. Called whenever a bound may have moved. */
  #pump(): void {
    const socket = this.#socket;
    if ((this.#state !== 'open' && this.#state !== 'ending') || socket === undefined) return;
    const allSent = this.#sender.pump(socket, () => this.#pump());
    if (allSent && this.#endRequested && !this.#endSent) {
      this.#endSent = true;
      socket.send(JSON.stringify({ type: 'end' }));
    }
  }

  /** Delivered output proves what the server read, and which retained input a replacement session would need. */
  #confirmInput(): void {
    const s = this.#sender;
    s.confirmed(this.#inputBase + s.toInput(this.#delivery.resumeOffset), s.toInput(this.#delivery.deliveredEnd));
  }

  // ---- socket ----

  /** Takes over a socket whose handshake succeeded (first connect, resume or replacement session). */
  #adopt(opened: Opened<ReadyMessage> | Opened<ResumedMessage>): void {
    const ready = opened.answer.type === 'resumed' ? readyOf(opened.answer) : opened.answer;
    this.#ready = ready;
    this.#sender.connected(ready, performance.now());
    const { socket } = opened;
    this.#socket = socket;
    socket.onmessage = (ev) => this.#onMessage(socket, ev.data);
    socket.onerror = () => undefined; // the close event that follows carries the outcome
    socket.onclose = (ev) => this.#onClose(socket, ev.code, ev.reason);
    this.#state = this.#endRequested ? 'ending' : 'open';
  }

  /** Messages that arrived with the handshake's answer, then live ones; in order. */
  #drainEarly(opened: Opened<ReadyMessage> | Opened<ResumedMessage>): void {
    for (const ev of opened.early) {
      if (isCloseMarker(ev.data)) this.#onClose(opened.socket, ev.data.code, ev.data.reason);
      else this.#onMessage(opened.socket, ev.data);
    }
    this.#pump();
  }

  #onMessage(socket: SocketLike, data: unknown): void {
    if (socket !== this.#socket) return; // a socket we already gave up on
    const bytes = messageBytes(data);
    if (bytes !== undefined) this.#onFrame(bytes);
    else if (typeof data === 'string') this.#onText(data);
  }

  #onFrame(bytes: Uint8Array): void {
    let decoded: { chunks: OutputChunk[]; vad: VadMessage | undefined };
    try {
      decoded = decodeOutputMessage(bytes);
    } catch (err) {
      if (!(err instanceof FrameDecodeError)) throw err;
      this.emit('error', new LivestemClientError('LIVESTEM_CLIENT_PROTOCOL', err.message, { cause: err }));
      return;
    }
    const fresh = decoded.chunks.map((chunk) => this.#delivery.frame(chunk));
    this.#confirmInput();
    for (const chunk of fresh) {
      if (chunk === undefined) continue;
      this.emit(chunk.kind, chunk);
      this.emit('output', chunk);
    }
    // A bundle's hops were already delivered by the JSON `vad` message sent ahead of it when they hold a transition.
    const vad = decoded.vad && this.#delivery.vad(decoded.vad);
    if (vad !== undefined) this.emit('vad', vad);
    this.#pump();
  }

  #onText(text: string): void {
    const msg = JSON.parse(text) as ServerMessage;
    for (const waiter of [...this.#waiters.keys()]) waiter(msg);
    switch (msg.type) {
      case 'vad': {
        const vad = this.#delivery.vad(msg);
        if (vad !== undefined) this.emit('vad', vad);
        return;
      }
      case 'stats':
        this.emit('stats', msg);
        return;
      case 'done':
        this.#doneReceived = true;
        this.emit('done', msg);
        return;
      case 'configured':
        this.#params = { ...this.#params, outputs: msg.outputs, vocalGain: msg.vocalGain };
        this.#delivery.configured(msg.outputs, msg.sampleOffset);
        return;
      case 'pong':
        if (this.#sender.pong(msg.id)) this.#pump();
        return;
      case 'input-dropped':
        this.emit('inputDropped', msg);
        return;
      case 'error':
        this.#pendingError = errorFromMessage(msg);
        this.emit('error', this.#pendingError);
        return;
      default:
        return;
    }
  }

  #onClose(socket: SocketLike, code: number, reason: string): void {
    if (socket !== this.#socket) return;
    this.#socket = undefined;
    this.#sender.stop();
    if (this.#state === 'closed' || this.#doneReceived) return this.#finish({ code, reason });
    if (this.#pendingError !== undefined) return this.#finish({ code, reason, error: this.#pendingError });
    const why = this.#endSent ? 'after end (the server ends such a session)' : code === 4000 ? '(resumed by another connection)' : '';
    const error = new LivestemClientError('LIVESTEM_CLIENT_CONNECTION_FAILED', `connection dropped (code ${code}) ${why}`.trim(), { status: code });
    if (this.#endSent || code === 4000 || this.#policy === undefined) return this.#finish({ code, reason, error });
    this.#state = 'reconnecting';
    this.#failWaiters(new LivestemClientError('LIVESTEM_CLIENT_CONNECTION_FAILED', `connection dropped (code ${code}) before the answer`, { status: code }));
    this.emit('disconnect', { code, reason });
    this.#recovery = this.#reconnect(this.#policy, code, Date.now());
  }

  #finish(ev: CloseEvent): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#state = 'closed';
    this.#sender.stop();
    this.#failWaiters(ev.error ?? new LivestemClientError('LIVESTEM_CLIENT_CLOSED', `closed (code ${ev.code})`));
    this.emit('close', ev);
    this.endIterators();
    this.#resolveClosed(ev);
  }

  // ---- reconnect ----

  async #reconnect(policy: ReconnectPolicy, code: number, droppedAtMs: number): Promise<void> {
    const ready = this.#ready;
    const outcome: Recovery = await recover({
      handshake: this.#opts,
      policy,
      graceMs: ready.limits.resumeGraceMs,
      droppedAtMs,
      connectTimeoutMs: this.#opts.connectTimeoutMs ?? 10_000,
      resumeRequest: () => ({ sessionId: ready.sessionId, resumeToken: ready.resumeToken, lastSampleOffset: this.#delivery.resumeOffset }),
      startParams: () => this.#params,
      acceptResumed: (m) => {
        const has = this.#inputBase + m.inputSamples;
        const { start, sent } = this.#sender.outbox;
        if (m.sessionId === ready.sessionId && has >= start && has <= sent) return undefined;
        return new LivestemClientError('LIVESTEM_CLIENT_PROTOCOL', `resumed with input ${has}, retained [${start}, ${sent})`);
      },
      cancelled: () => this.#state === 'closed',
    });
    const downtimeMs = Date.now() - droppedAtMs;
    if (outcome.kind === 'cancelled') return;
    if (this.#state === 'closed') {
      if (outcome.kind !== 'failed') outcome.opened.socket.close(1000, 'client closed');
      return;
    }
    if (outcome.kind === 'failed') {
      const error = new LivestemClientError('LIVESTEM_CLIENT_CONNECTION_FAILED', `connection dropped (code ${code}) and reconnect failed: ${outcome.error.message}`, {
        status: code,
        cause: outcome.error,
      });
      this.emit('error', error);
      return this.#finish({ code, reason: 'reconnect failed', error });
    }
    if (outcome.kind === 'resumed') {
      const m = outcome.opened.answer;
      const has = this.#inputBase + m.inputSamples;
      const resentSamples = this.#sender.outbox.sent - has;
      this.#sender.outbox.rewind(has);
      this.#delivery.resumed(m.output.outputs, m.outputSampleOffset);
      this.#adopt(outcome.opened);
      this.emit('resumed', { ready: this.#ready, resumed: m, resentSamples, attempts: outcome.attempts, downtimeMs });
      return this.#drainEarly(outcome.opened);
    }
    const next = outcome.opened.answer;
    // Retained input restarts on a whole-output-sample step, so the new offsets are exact (no rounding).
    const inputSampleOffset = this.#sender.outbox.start;
    const outputOffsetBase = (inputSampleOffset * next.output.sampleRateHz) / next.input.sampleRateHz;
    this.#inputBase = inputSampleOffset;
    this.#sender.outbox.rewind(inputSampleOffset);
    this.#delivery.newSession(next.output.outputs, outputOffsetBase);
    this.#adopt(outcome.opened);
    this.emit('reconnect', { ready: next, outputOffsetBase, inputSampleOffset, reason: outcome.refusal, attempts: outcome.attempts, downtimeMs });
    this.#drainEarly(outcome.opened);
  }
}

/** Opens a session: resolves after the server's `ready`, rejects with a typed LivestemClientError otherwise. */
export async function connect(opts: ConnectOptions): Promise<LivestemSession> {
  const opened = await openStart(opts, opts, opts.connectTimeoutMs ?? 10_000);
  const session = new LivestemSession(opts, opened);
  return session;
}
