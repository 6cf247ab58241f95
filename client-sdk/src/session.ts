/**
 * A livestem streaming session over one WebSocket (docs/protocol.md). `connect()` resolves once the server has
 * answered `ready`; then `write()` sends audio, outputs arrive as events / async iterators with sample offsets
 * aligned to input time, and `end()` resolves with the server's `done` once every output sample has arrived.
 */
import { LivestemClientError, isServerErrorCode } from './errors.ts';
import { TypedEvents } from './events.ts';
import { defaultSocketFactory, messageBytes, SOCKET_OPEN, type SocketFactory, type SocketLike } from './socket.ts';
import {
  decodeOutputFrame,
  encodePcm,
  FrameError,
  PROTOCOL_VERSION,
  type DoneEvent,
  type OutputChunk,
  type OutputKind,
  type ReadyMessage,
  type SampleFormat,
  type ServerMessage,
  type StatsEvent,
  type VadEvent,
} from './wire.ts';

export interface ConnectOptions {
  /** Server base URL (`ws://host:8080`) or the full stream URL (`ws://host:8080/v1/stream`); http(s) is accepted. */
  url: string;
  /** API key (Node) or short-lived token from `POST /v1/tokens` (browsers). */
  token?: string;
  model?: string;
  sampleRate: number;
  channels: 1 | 2;
  /** Wire format of the audio you write (converted from the Float32Array you pass). Default f32le. */
  format?: SampleFormat;
  outputs?: OutputKind[];
  /** 0..1: how much of the vocals the karaoke output keeps. */
  vocalGain?: number;
  outputSampleRate?: number;
  outputFormat?: SampleFormat;
  vad?: boolean;
  streamId?: string;
  /** `write()` waits while more than this many bytes are queued on the socket. Default 256 KiB. */
  highWaterMarkBytes?: number;
  /** Reopen a new session when the connection drops without an error (offsets keep counting). Default off. */
  reconnect?: boolean | { attempts?: number; delayMs?: number };
  /** Override how sockets are made (tests, custom agents). */
  socketFactory?: SocketFactory;
  /** Give up connecting after this long. Default 10 s. */
  connectTimeoutMs?: number;
}

export interface CloseEvent {
  code: number;
  reason: string;
  /** Set when the session ended because of an error (server `error` message or a dropped connection). */
  error?: LivestemClientError;
}

export interface SessionEvents {
  ready: ReadyMessage;
  vocals: OutputChunk;
  accompaniment: OutputChunk;
  karaoke: OutputChunk;
  /** Every output chunk, whatever its kind. */
  output: OutputChunk;
  vad: VadEvent;
  stats: StatsEvent;
  done: DoneEvent;
  error: LivestemClientError;
  close: CloseEvent;
  drain: undefined;
  /** A dropped connection was replaced by a new session; offsets continue from `outputOffsetBase`. */
  reconnect: { ready: ReadyMessage; outputOffsetBase: number };
}

const DEFAULT_HIGH_WATER_MARK_BYTES = 256 * 1024;
const DRAIN_POLL_MS = 10;

/** The stream endpoint for a base URL (http(s) → ws(s), `/v1/stream` when no path). Credentials are not put here. */
export function streamUrl(base: string): string {
  const url = new URL(base);
  if (url.protocol === 'http:') url.protocol = 'ws:';
  if (url.protocol === 'https:') url.protocol = 'wss:';
  if (url.pathname === '/' || url.pathname === '') url.pathname = '/v1/stream';
  return url.toString();
}

function startMessage(opts: ConnectOptions): Record<string, unknown> {
  const msg: Record<string, unknown> = {
    type: 'start',
    protocolVersion: PROTOCOL_VERSION,
    sampleRateHz: opts.sampleRate,
    channels: opts.channels,
    format: opts.format ?? 'f32le',
  };
  if (opts.model !== undefined) msg['model'] = opts.model;
  if (opts.outputs !== undefined) msg['outputs'] = opts.outputs;
  if (opts.vocalGain !== undefined) msg['vocalGain'] = opts.vocalGain;
  if (opts.outputSampleRate !== undefined) msg['outputSampleRateHz'] = opts.outputSampleRate;
  msg['outputFormat'] = opts.outputFormat ?? 'f32le';
  if (opts.vad !== undefined) msg['vad'] = opts.vad;
  if (opts.streamId !== undefined) msg['streamId'] = opts.streamId;
  return msg;
}

function errorFromMessage(msg: { code: unknown; message: string; retryable: boolean }, status?: number): LivestemClientError {
  if (!isServerErrorCode(msg.code)) {
    return new LivestemClientError('LIVESTEM_CLIENT_PROTOCOL', `unknown server error code ${String(msg.code)}: ${msg.message}`);
  }
  return new LivestemClientError(msg.code, msg.message, status === undefined ? { retryable: msg.retryable } : { retryable: msg.retryable, status });
}

/** Opens the socket and completes the start/ready handshake; the socket's handlers are then handed to the session. */
async function handshake(opts: ConnectOptions): Promise<{ socket: SocketLike; ready: ReadyMessage }> {
  const headers: Record<string, string> = opts.token === undefined ? {} : { authorization: `Bearer ${opts.token}` };
  const socket = await (opts.socketFactory ?? defaultSocketFactory)(streamUrl(opts.url), headers);
  socket.binaryType = 'arraybuffer';
  const timeoutMs = opts.connectTimeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    let serverError: LivestemClientError | undefined;
    const timer = setTimeout(() => {
      socket.close(1000, 'connect timeout');
      reject(new LivestemClientError('LIVESTEM_CLIENT_CONNECTION_FAILED', `no ready within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.onopen = () => socket.send(JSON.stringify(startMessage(opts)));
    socket.onmessage = (ev) => {
      if (typeof ev.data !== 'string') return;
      const msg = JSON.parse(ev.data) as ServerMessage;
      if (msg.type === 'ready') {
        clearTimeout(timer);
        resolve({ socket, ready: msg });
      } else if (msg.type === 'error') {
        serverError = errorFromMessage(msg);
      }
    };
    socket.onerror = () => undefined; // the close event that always follows carries the outcome
    socket.onclose = (ev) => {
      clearTimeout(timer);
      reject(
        serverError ??
          new LivestemClientError('LIVESTEM_CLIENT_CONNECTION_FAILED', `connection closed before ready (code ${ev.code}${ev.reason ? `: ${ev.reason}` : ''})`, {
            status: ev.code,
          }),
      );
    };
  });
}

export class LivestemSession extends TypedEvents<SessionEvents> {
  #opts: ConnectOptions;
  #socket: SocketLike;
  #ready: ReadyMessage;
  #state: 'open' | 'ending' | 'reconnecting' | 'closed' = 'open';
  #inputSamples = 0;
  #outputOffsetBase = 0;
  #pendingError: LivestemClientError | undefined;
  #reconnecting: Promise<void> | undefined;
  #requestId = 0;
  readonly closed: Promise<CloseEvent>;
  #resolveClosed!: (ev: CloseEvent) => void;

  constructor(opts: ConnectOptions, socket: SocketLike, ready: ReadyMessage) {
    super();
    this.#opts = opts;
    this.#socket = socket;
    this.#ready = ready;
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
    this.#attach(socket);
  }

  /** The server's `ready` (session id, model, latency in output samples, limits) of the current connection. */
  get ready(): ReadyMessage {
    return this.#ready;
  }

  get state(): 'open' | 'ending' | 'reconnecting' | 'closed' {
    return this.#state;
  }

  /** Input samples (per channel) written so far, across reconnects. */
  get inputSamples(): number {
    return this.#inputSamples;
  }

  /**
   * Sends planar audio (one Float32Array per channel, samples in [-1, 1]). Resolves when the socket's send queue is
   * back under the high-water mark, so `await session.write(x)` in a loop never buffers without bound.
   */
  async write(planar: readonly Float32Array[]): Promise<void> {
    if (this.#state === 'reconnecting' && this.#reconnecting !== undefined) await this.#reconnecting;
    if (this.#state !== 'open') throw new LivestemClientError('LIVESTEM_CLIENT_CLOSED', `cannot write: session is ${this.#state}`);
    if (planar.length !== this.#opts.channels) {
      throw new LivestemClientError('LIVESTEM_CLIENT_BAD_ARGUMENT', `expected ${this.#opts.channels} channels, got ${planar.length}`);
    }
    const frames = planar[0]!.length;
    if (planar.some((ch) => ch.length !== frames)) {
      throw new LivestemClientError('LIVESTEM_CLIENT_BAD_ARGUMENT', 'channels have different lengths');
    }
    const format = this.#opts.format ?? 'f32le';
    const frameBytes = (format === 's16le' ? 2 : 4) * planar.length;
    const maxFrames = Math.max(1, Math.floor(this.#ready.limits.maxMessageBytes / frameBytes));
    for (let start = 0; start < frames; start += maxFrames) {
      const end = Math.min(frames, start + maxFrames);
      this.#socket.send(encodePcm(planar.map((ch) => ch.subarray(start, end)), format));
    }
    this.#inputSamples += frames;
    await this.#drained();
  }

  /** Resolves when the socket's send queue is at or below the high-water mark. */
  async #drained(): Promise<void> {
    const hwm = this.#opts.highWaterMarkBytes ?? DEFAULT_HIGH_WATER_MARK_BYTES;
    if (this.#socket.bufferedAmount <= hwm) return;
    while (this.#socket.bufferedAmount > hwm && this.#socket.readyState === SOCKET_OPEN) {
      await new Promise((resolve) => setTimeout(resolve, DRAIN_POLL_MS));
    }
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
    return this.#request({ type: 'configure', ...change }, 'configured').then((m) => m.sampleOffset + this.#outputOffsetBase);
  }

  /** Asks the server for this session's counters. */
  requestStats(): Promise<StatsEvent> {
    return this.#request({ type: 'stats', id: ++this.#requestId }, 'stats');
  }

  /** Round trip of a control message through the server, in ms. */
  async ping(): Promise<number> {
    const t0 = performance.now();
    await this.#request({ type: 'ping', id: ++this.#requestId }, 'pong');
    return performance.now() - t0;
  }

  /** No more audio: resolves with `done` after the last output chunk has been delivered. */
  end(): Promise<DoneEvent> {
    if (this.#state !== 'open') return Promise.reject(new LivestemClientError('LIVESTEM_CLIENT_CLOSED', `cannot end: session is ${this.#state}`));
    this.#state = 'ending';
    const done = new Promise<DoneEvent>((resolve, reject) => {
      const offDone = this.once('done', (d) => {
        offClose();
        resolve(d);
      });
      const offClose = this.once('close', (ev) => {
        offDone();
        reject(ev.error ?? new LivestemClientError('LIVESTEM_CLIENT_CLOSED', `closed (code ${ev.code}) before done`));
      });
    });
    this.#socket.send(JSON.stringify({ type: 'end' }));
    return done;
  }

  /** Closes the connection now (no tail flush). Idempotent. */
  close(): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#socket.close(1000, 'client closed');
  }

  #request<T extends ServerMessage['type']>(msg: Record<string, unknown>, answer: T): Promise<Extract<ServerMessage, { type: T }>> {
    if (this.#state === 'closed') return Promise.reject(new LivestemClientError('LIVESTEM_CLIENT_CLOSED', 'session is closed'));
    return new Promise((resolve, reject) => {
      const onMessage = (m: ServerMessage): void => {
        if (m.type !== answer) return;
        if ('id' in msg && 'id' in m && m.id !== msg['id']) return;
        this.#waiters.delete(onMessage);
        offClose();
        resolve(m as Extract<ServerMessage, { type: T }>);
      };
      const offClose = this.once('close', (ev) => {
        this.#waiters.delete(onMessage);
        reject(ev.error ?? new LivestemClientError('LIVESTEM_CLIENT_CLOSED', `closed (code ${ev.code}) before ${answer}`));
      });
      this.#waiters.add(onMessage);
      this.#socket.send(JSON.stringify(msg));
    });
  }

  #waiters = new Set<(m: ServerMessage) => void>();

  #attach(socket: SocketLike): void {
    socket.onmessage = (ev) => {
      const bytes = messageBytes(ev.data);
      if (bytes !== undefined) return this.#onFrame(bytes);
      if (typeof ev.data === 'string') this.#onText(ev.data);
    };
    socket.onerror = () => undefined; // the close event that follows carries the outcome
    socket.onclose = (ev) => this.#onClose(ev.code, ev.reason);
  }

  #onFrame(bytes: Uint8Array): void {
    let chunk: OutputChunk;
    try {
      chunk = decodeOutputFrame(bytes);
    } catch (err) {
      if (!(err instanceof FrameError)) throw err;
      this.emit('error', new LivestemClientError('LIVESTEM_CLIENT_PROTOCOL', err.message, { cause: err }));
      return;
    }
    chunk.sampleOffset += this.#outputOffsetBase;
    this.emit(chunk.kind, chunk);
    this.emit('output', chunk);
  }

  #onText(text: string): void {
    const msg = JSON.parse(text) as ServerMessage;
    for (const waiter of [...this.#waiters]) waiter(msg);
    switch (msg.type) {
      case 'vad':
        if (this.#outputOffsetBase !== 0) {
          msg.sampleOffset += this.#outputOffsetBase;
          for (const t of msg.transitions) t.sampleOffset += this.#outputOffsetBase;
        }
        this.emit('vad', msg);
        return;
      case 'stats':
        this.emit('stats', msg);
        return;
      case 'done':
        this.emit('done', msg);
        return;
      case 'error':
        this.#pendingError = errorFromMessage(msg);
        this.emit('error', this.#pendingError);
        return;
      default:
        return;
    }
  }

  #onClose(code: number, reason: string): void {
    const wasEnding = this.#state === 'ending' || this.#state === 'closed';
    const dropped = !wasEnding && this.#pendingError === undefined && code !== 1000 && code !== 1001;
    if (dropped && this.#opts.reconnect) {
      this.#reconnecting = this.#reconnect(code);
      return;
    }
    const error =
      this.#pendingError ??
      (dropped ? new LivestemClientError('LIVESTEM_CLIENT_CONNECTION_FAILED', `connection dropped (code ${code})`, { status: code }) : undefined);
    this.#finish(error === undefined ? { code, reason } : { code, reason, error });
  }

  #finish(ev: CloseEvent): void {
    this.#state = 'closed';
    this.emit('close', ev);
    this.endIterators();
    this.#resolveClosed(ev);
  }

  async #reconnect(code: number): Promise<void> {
    this.#state = 'reconnecting';
    const policy = typeof this.#opts.reconnect === 'object' ? this.#opts.reconnect : {};
    const attempts = policy.attempts ?? 3;
    const delayMs = policy.delayMs ?? 500;
    let lastError: unknown;
    for (let attempt = 0; attempt < attempts; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, delayMs * (attempt + 1)));
      try {
        const { socket, ready } = await handshake(this.#opts);
        // The new session's offset 0 is the next input sample we write: keep offsets on the caller's timeline.
        this.#outputOffsetBase = Math.round((this.#inputSamples * ready.output.sampleRateHz) / ready.input.sampleRateHz);
        this.#socket = socket;
        this.#ready = ready;
        this.#attach(socket);
        this.#state = 'open';
        this.emit('reconnect', { ready, outputOffsetBase: this.#outputOffsetBase });
        return;
      } catch (err) {
        lastError = err;
        if (err instanceof LivestemClientError && !err.retryable) break;
      }
    }
    const error = new LivestemClientError('LIVESTEM_CLIENT_CONNECTION_FAILED', `connection dropped (code ${code}) and reconnect failed`, {
      status: code,
      cause: lastError,
    });
    this.emit('error', error);
    this.#finish({ code, reason: 'reconnect failed', error });
  }
}

/** Opens a session: resolves after the server's `ready`, rejects with a typed LivestemClientError otherwise. */
export async function connect(opts: ConnectOptions): Promise<LivestemSession> {
  const { socket, ready } = await handshake(opts);
  return new LivestemSession(opts, socket, ready);
}
