/**
 * `LoadSession` over the WebSocket protocol (docs/protocol.md) with `ws`, decoding only output frame headers: the
 * lightest client, for capacity runs where the generator shares the server's cores (`--client ws-raw`).
 */
import WebSocket from 'ws';
import {
  BUNDLE_VERSION,
  decodeAudioFrameHeader,
  decodeOutputBundleHeader,
  encodePcm,
  outputMessageVersion,
  type SampleFormat,
  type ServerMessage,
} from '../../client-sdk/src/protocol/index.ts';
import { authHeaders, LoadClientError, type Clock, type Connector, type LoadSession, type SessionDone, type SessionHandlers, type SessionReady, type StartOptions } from './types.ts';

const CONNECT_TIMEOUT_MS = 10_000;

function toBytes(data: WebSocket.RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return data;
}

class WsLoadSession implements LoadSession {
  readonly transport = 'websocket' as const;
  readonly closed: Promise<LoadClientError | null>;
  private pingId = 0;
  private readonly pingSentMs = new Map<number, number>();
  private doneWaiter: { resolve: (d: SessionDone) => void; reject: (e: LoadClientError) => void } | null = null;
  private doneMessage: SessionDone | null = null;
  private failure: LoadClientError | null = null;

  constructor(
    private readonly ws: WebSocket,
    readonly ready: SessionReady,
    private readonly clock: Clock,
    private readonly format: SampleFormat,
    closed: Promise<LoadClientError | null>,
  ) {
    this.closed = closed;
  }

  sendAudio(planar: Float32Array[]): number | null {
    if (this.ws.readyState !== WebSocket.OPEN) return null;
    const pcm = encodePcm(planar, this.format);
    const t = this.clock();
    this.ws.send(pcm);
    return t;
  }

  ping(): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    const id = ++this.pingId;
    this.pingSentMs.set(id, this.clock());
    this.ws.send(JSON.stringify({ type: 'ping', id }));
  }

  takePong(id: unknown, handlers: SessionHandlers): void {
    if (typeof id !== 'number') return;
    const sent = this.pingSentMs.get(id);
    if (sent === undefined) return;
    this.pingSentMs.delete(id);
    handlers.onPong(this.clock() - sent);
  }

  settle(done: SessionDone | null, failure: LoadClientError | null): void {
    if (done) this.doneMessage = done;
    if (failure && !this.failure) this.failure = failure;
    const waiter = this.doneWaiter;
    if (!waiter) return;
    if (this.doneMessage) waiter.resolve(this.doneMessage);
    else if (this.failure) waiter.reject(this.failure);
    else return;
    this.doneWaiter = null;
  }

  end(timeoutMs: number): Promise<SessionDone> {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ type: 'end' }));
    return new Promise<SessionDone>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.doneWaiter = null;
        reject(new LoadClientError('LOADTEST_DONE_TIMEOUT', `no done within ${timeoutMs} ms of end`));
      }, timeoutMs);
      this.doneWaiter = {
        resolve: (d) => {
          clearTimeout(timer);
          resolve(d);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.settle(null, null);
    });
  }

  close(): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(1000);
  }
}

function readyFrom(msg: Extract<ServerMessage, { type: 'ready' }>): SessionReady {
  return {
    sessionId: msg.sessionId,
    modelName: msg.model.name,
    algorithmicLatencyMs: msg.latency.ms,
    outputSampleRateHz: msg.output.sampleRateHz,
    outputHopSamples: msg.vadHopSamples,
    outputs: msg.output.outputs,
  };
}

export const connectWebSocket: Connector = (url, start: StartOptions, handlers, clock, auth) =>
  new Promise<LoadSession>((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, headers: authHeaders(auth) });
    let session: WsLoadSession | null = null;
    let resolveClosed: (e: LoadClientError | null) => void = () => undefined;
    const closed = new Promise<LoadClientError | null>((r) => (resolveClosed = r));
    let lastError: LoadClientError | null = null;
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new LoadClientError('LOADTEST_CONNECT_TIMEOUT', `no ready from ${url} within ${CONNECT_TIMEOUT_MS} ms`));
    }, CONNECT_TIMEOUT_MS);

    ws.on('open', () => ws.send(JSON.stringify({ type: 'start', protocolVersion: 1, ...start })));
    ws.on('message', (data, isBinary) => {
      const recvMs = clock();
      if (isBinary) {
        if (!session) return;
        const bytes = toBytes(data);
        if (outputMessageVersion(bytes) !== BUNDLE_VERSION) {
          handlers.onOutputFrame(decodeAudioFrameHeader(bytes), recvMs);
          return;
        }
        // A bundle carries every kind over the same span: timed as one frame per kind, like the per-kind framing.
        const { kinds, ...span } = decodeOutputBundleHeader(bytes);
        for (const kind of kinds) handlers.onOutputFrame({ ...span, kind }, recvMs);
        return;
      }
      const msg = JSON.parse(String(data)) as ServerMessage;
      switch (msg.type) {
        case 'ready':
          clearTimeout(timer);
          session = new WsLoadSession(ws, readyFrom(msg), clock, start.format, closed);
          resolve(session);
          break;
        case 'pong':
          session?.takePong(msg.id, handlers);
          break;
        case 'done':
          session?.settle(msg, null);
          break;
        case 'error':
          lastError = new LoadClientError(msg.code, msg.message);
          session?.settle(null, lastError);
          break;
        default:
          break; // vad, stats, draining: not measured here
      }
    });
    ws.on('error', (err) => {
      lastError ??= new LoadClientError('LOADTEST_CONNECTION_FAILED', err.message, { cause: err });
    });
    ws.on('close', (code, reason) => {
      clearTimeout(timer);
      const failure =
        lastError ?? (code === 1000 || code === 1001 ? null : new LoadClientError('LOADTEST_CONNECTION_CLOSED', `closed ${code} ${String(reason)}`));
      if (!session) {
        reject(failure ?? new LoadClientError('LOADTEST_CONNECTION_CLOSED', `closed ${code} before ready`));
      } else {
        session.settle(null, failure ?? new LoadClientError('LOADTEST_CONNECTION_CLOSED', `closed ${code} before done`));
      }
      resolveClosed(failure);
    });
  });
