/**
 * Opening one stream socket: URL, credentials, the first message (`start` or `resume`) and its answer (`ready` or
 * `resumed`). Messages that arrive right behind the answer (a resume replays output at once, often in the same TCP
 * read) are kept in `early` so the session can process them before its own handlers see anything newer.
 */
import { LivestemClientError, isServerErrorCode } from './errors.ts';
import { defaultSocketFactory, type SocketFactory, type SocketLike } from './socket.ts';
import {
  PROTOCOL_VERSION,
  type OutputFraming,
  type OutputKind,
  type ReadyMessage,
  type ResumedMessage,
  type ResumeMessage,
  type SampleFormat,
  type ServerMessage,
  type StartMessage,
} from './protocol/index.ts';

/** A credential, or a function that mints one per connection (browser tokens admit one socket each). */
export type TokenSource = string | (() => string | Promise<string>);

export interface HandshakeOptions {
  url: string;
  token?: TokenSource;
  socketFactory?: SocketFactory;
}

/** What `start` asks for; the session keeps it current (configure) so a fallback session matches. */
export interface StartParams {
  sampleRate: number;
  channels: 1 | 2;
  format?: SampleFormat;
  model?: string;
  outputs?: OutputKind[];
  vocalGain?: number;
  outputSampleRate?: number;
  outputFormat?: SampleFormat;
  vad?: boolean;
  /** Default 'bundles': one binary message per output interval with every kind and the VAD (docs/protocol.md §4). */
  outputFraming?: OutputFraming;
  streamId?: string;
}

export interface ResumeRequest {
  sessionId: string;
  resumeToken: string;
  lastSampleOffset: number;
}

export interface Opened<T> {
  socket: SocketLike;
  answer: T;
  /** Message events received after the answer and before the caller attached its own handlers. */
  early: { data: unknown }[];
}

/** The stream endpoint for a base URL (http(s) → ws(s), `/v1/stream` when no path). Credentials are not put here. */
export function streamUrl(base: string): string {
  const url = new URL(base);
  if (url.protocol === 'http:') url.protocol = 'ws:';
  if (url.protocol === 'https:') url.protocol = 'wss:';
  if (url.pathname === '/' || url.pathname === '') url.pathname = '/v1/stream';
  return url.toString();
}

export function startMessage(p: StartParams): StartMessage {
  const msg: StartMessage = {
    type: 'start',
    protocolVersion: PROTOCOL_VERSION,
    sampleRateHz: p.sampleRate,
    channels: p.channels,
    format: p.format ?? 'f32le',
  };
  if (p.model !== undefined) msg.model = p.model;
  if (p.outputs !== undefined) msg.outputs = p.outputs;
  if (p.vocalGain !== undefined) msg.vocalGain = p.vocalGain;
  if (p.outputSampleRate !== undefined) msg.outputSampleRateHz = p.outputSampleRate;
  msg.outputFormat = p.outputFormat ?? 'f32le';
  if (p.vad !== undefined) msg.vad = p.vad;
  msg.outputFraming = p.outputFraming ?? 'bundles';
  if (p.streamId !== undefined) msg.streamId = p.streamId;
  return msg;
}

export function errorFromMessage(msg: { code: unknown; message: string; retryable: boolean }, status?: number): LivestemClientError {
  if (!isServerErrorCode(msg.code)) {
    return new LivestemClientError('LIVESTEM_CLIENT_PROTOCOL', `unknown server error code ${String(msg.code)}: ${msg.message}`);
  }
  return new LivestemClientError(msg.code, msg.message, status === undefined ? { retryable: msg.retryable } : { retryable: msg.retryable, status });
}

async function openSocket(opts: HandshakeOptions): Promise<SocketLike> {
  const token = typeof opts.token === 'function' ? await opts.token() : opts.token;
  const headers: Record<string, string> = token === undefined ? {} : { authorization: `Bearer ${token}` };
  const socket = await (opts.socketFactory ?? defaultSocketFactory)(streamUrl(opts.url), headers);
  socket.binaryType = 'arraybuffer';
  return socket;
}

function awaitAnswer<T extends ReadyMessage | ResumedMessage>(socket: SocketLike, first: StartMessage | ResumeMessage, answer: T['type'], timeoutMs: number): Promise<Opened<T>> {
  return new Promise((resolve, reject) => {
    let serverError: LivestemClientError | undefined;
    let accepted: Opened<T> | undefined;
    const timer = setTimeout(() => {
      socket.onclose = null;
      socket.close(1000, 'connect timeout');
      reject(new LivestemClientError('LIVESTEM_CLIENT_CONNECTION_FAILED', `no ${answer} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.onopen = () => socket.send(JSON.stringify(first));
    socket.onmessage = (ev) => {
      if (accepted !== undefined) {
        accepted.early.push(ev);
        return;
      }
      if (typeof ev.data !== 'string') return;
      const msg = JSON.parse(ev.data) as ServerMessage;
      if (msg.type === answer) {
        clearTimeout(timer);
        accepted = { socket, answer: msg as T, early: [] };
        resolve(accepted);
      } else if (msg.type === 'error') {
        serverError = errorFromMessage(msg);
      }
    };
    socket.onerror = () => undefined; // the close event that always follows carries the outcome
    socket.onclose = (ev) => {
      clearTimeout(timer);
      // After the answer the session owns the socket; a close it has not yet attached to must still reach it.
      if (accepted !== undefined) {
        accepted.early.push({ data: closeMarker(ev.code, ev.reason) });
        return;
      }
      reject(
        serverError ??
          new LivestemClientError('LIVESTEM_CLIENT_CONNECTION_FAILED', `connection closed before ${answer} (code ${ev.code}${ev.reason ? `: ${ev.reason}` : ''})`, {
            status: ev.code,
          }),
      );
    };
  });
}

/** A close that happened between the answer and the session attaching; `early` carries it in order. */
export interface CloseMarker {
  readonly closeMarker: true;
  code: number;
  reason: string;
}

function closeMarker(code: number, reason: string): CloseMarker {
  return { closeMarker: true, code, reason };
}

export function isCloseMarker(data: unknown): data is CloseMarker {
  return typeof data === 'object' && data !== null && (data as Partial<CloseMarker>).closeMarker === true;
}

/** New session: `start` → `ready`. Rejects with the server's typed error, or CONNECTION_FAILED. */
export async function openStart(opts: HandshakeOptions, params: StartParams, timeoutMs: number): Promise<Opened<ReadyMessage>> {
  return awaitAnswer<ReadyMessage>(await openSocket(opts), startMessage(params), 'ready', timeoutMs);
}

/** Same session on a new socket: `resume` → `resumed` (then the server replays output from lastSampleOffset). */
export async function openResume(opts: HandshakeOptions, request: ResumeRequest, timeoutMs: number): Promise<Opened<ResumedMessage>> {
  return awaitAnswer<ResumedMessage>(await openSocket(opts), { type: 'resume', protocolVersion: PROTOCOL_VERSION, ...request }, 'resumed', timeoutMs);
}
