/**
 * `Connection` over a `ws` WebSocket: text/binary send with send-buffer accounting, close-once with a bounded close
 * handshake, pause/resume of reading (TCP backpressure), and event routing to the bound handler. Messages over the
 * protocol's size limit are reported as PAYLOAD_TOO_LARGE (ws's own hard ceiling, set higher, closes 1009 by itself).
 *
 * A socket is either a stream socket (first message `start` or `resume`, handled by the bound session) or a
 * signalling socket (first and only message a plugin-claimed control message such as `webrtc-offer`): one socket
 * therefore admits one session whatever its credential, so a single-use token cannot open several.
 */
import type WebSocket from 'ws';
import { ERROR_CATALOG, LivestemError, isErrorCode } from '../../errors.ts';
import type { ServerMessage } from '../../../client-sdk/src/protocol/index.ts';
import { errorMessage } from '../../protocol/messages.ts';
import type { Connection, ConnectionHandler, DeliveredOutput, OutputWire } from '../../session/connection.ts';
import { encodeWsOutput } from './ws-output.ts';

/**
 * Text messages a plugin claims (e.g. `webrtc-offer` signalling) instead of the session. The answer is JSON text: a
 * success reply, or an `error` message with a catalog code.
 */
export interface ControlRouter {
  claims(text: string): boolean;
  answer(text: string, remoteAddress: string): Promise<string>;
}

export interface WsConnectionOptions {
  maxMessageBytes: number;
  /** After our close frame, how long the peer has to answer before the socket is destroyed. */
  closeTimeoutMs: number;
  control?: ControlRouter | undefined;
}

const TOO_MUCH_CLOSE_CODE = ERROR_CATALOG.LIVESTEM_ERR_RATE_LIMITED.closeCode;

export class WsConnection implements Connection {
  readonly inputBackpressure = true;
  private handler: ConnectionHandler | undefined;
  private closed = false;
  private messagesSeen = 0;
  private closeTimer: NodeJS.Timeout | undefined;
  private readonly closedPromise: Promise<void>;
  alive = true;

  constructor(
    private readonly ws: WebSocket,
    readonly id: string,
    readonly remoteAddress: string,
    private readonly options: WsConnectionOptions,
  ) {
    let markClosed!: () => void;
    this.closedPromise = new Promise((resolve) => (markClosed = resolve));
    // Attached synchronously in the connection callback: a handler attached later can miss the first message.
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    ws.on('close', () => {
      this.closed = true;
      clearTimeout(this.closeTimer);
      markClosed();
      const handler = this.handler;
      this.handler = undefined;
      handler?.onClose();
    });
    ws.on('error', (err: Error & { code?: string }) => {
      const code = err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' ? 'LIVESTEM_ERR_PAYLOAD_TOO_LARGE' : 'LIVESTEM_ERR_BAD_MESSAGE';
      this.handler?.onTransportError(new LivestemError(code, `WebSocket protocol error: ${err.message.slice(0, 120)}`, { cause: err }));
    });
    ws.on('pong', () => {
      this.alive = true;
    });
  }

  bind(handler: ConnectionHandler | undefined): void {
    this.handler = handler;
  }

  get bufferedBytes(): number {
    return this.ws.bufferedAmount;
  }

  /** Resolves once the socket is closed (handshake done, terminated or lost). */
  get whenClosed(): Promise<void> {
    return this.closedPromise;
  }

  get isClosing(): boolean {
    return this.closed;
  }

  sendMessage(message: ServerMessage): void {
    this.sendText(JSON.stringify(message));
  }

  sendOutput(output: DeliveredOutput, wire: OutputWire): void {
    if (this.closed) return;
    for (const m of encodeWsOutput(output, wire)) {
      if ('text' in m) this.sendText(m.text);
      else this.ws.send(m.binary, { binary: true }, (err) => this.afterSend(err));
    }
  }

  private sendText(text: string): void {
    if (this.closed) return;
    this.ws.send(text, (err) => this.afterSend(err));
  }

  /**
   * Starts the close handshake. Reading resumes (a paused socket would never see the peer's close frame), except for
   * a flooding client, and a peer that does not answer within `closeTimeoutMs` is cut off, so a failed session never
   * holds its socket for long.
   */
  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.handler = undefined;
    // A client closed for sending too much (4429) is not read any further: parsing the rest of its flood would cost
    // other sessions; it still gets the error and the close frame, and the socket is cut after the close timeout.
    if (code === TOO_MUCH_CLOSE_CODE) this.ws.pause();
    else if (this.ws.isPaused) this.ws.resume();
    this.ws.close(code, reason.slice(0, 120));
    this.closeTimer = setTimeout(() => this.ws.terminate(), this.options.closeTimeoutMs);
    this.closeTimer.unref();
  }

  /** Drops the TCP connection without a close handshake (dead peer, shutdown deadline). */
  terminate(): void {
    this.closed = true;
    this.ws.terminate();
  }

  /** Reading paused by the server (backpressure): the peer's pongs cannot be read either. */
  get inputPaused(): boolean {
    return this.ws.isPaused;
  }

  pauseInput(): void {
    if (!this.closed && !this.ws.isPaused) this.ws.pause();
  }

  resumeInput(): void {
    if (this.ws.isPaused) this.ws.resume();
  }

  ping(): void {
    if (!this.closed) this.ws.ping();
  }

  private afterSend(err: Error | undefined | null): void {
    // A failed send means the socket is going away; its 'close' event reports that to the session.
    if (!err) this.handler?.onSendDrained();
  }

  private onMessage(data: WebSocket.RawData, isBinary: boolean): void {
    const handler = this.handler;
    if (!handler) return;
    const first = this.messagesSeen++ === 0;
    const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    if (bytes.byteLength > this.options.maxMessageBytes) {
      handler.onTransportError(
        new LivestemError('LIVESTEM_ERR_PAYLOAD_TOO_LARGE', `message of ${bytes.byteLength} bytes exceeds the ${this.options.maxMessageBytes}-byte limit`),
      );
      return;
    }
    if (isBinary) {
      handler.onBinary(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      return;
    }
    const text = bytes.toString('utf8');
    if (this.options.control?.claims(text) !== true) {
      handler.onText(text);
      return;
    }
    if (!first) {
      handler.onTransportError(
        new LivestemError('LIVESTEM_ERR_BAD_MESSAGE', 'signalling messages (webrtc-offer) are only accepted as the first and only message of a socket'),
      );
      return;
    }
    // A signalling socket: its placeholder session must not time out or take more messages while the answer is made.
    this.handler = undefined;
    this.options.control.answer(text, this.remoteAddress).then(
      (answer) => this.finishSignalling(answer, handler),
      (err: unknown) => {
        const error = new LivestemError('LIVESTEM_ERR_INTERNAL', 'control message failed', { cause: err });
        this.finishSignalling(JSON.stringify(errorMessage(error)), handler);
      },
    );
  }

  /** Sends the signalling answer and closes the socket: 1000 after success, the error's close code after an error. */
  private finishSignalling(answer: string, placeholder: ConnectionHandler): void {
    this.sendText(answer);
    let closeCode = 1000;
    let reason = 'answered';
    try {
      const parsed = JSON.parse(answer) as { type?: unknown; code?: unknown };
      if (parsed.type === 'error' && isErrorCode(parsed.code)) {
        closeCode = ERROR_CATALOG[parsed.code].closeCode;
        reason = parsed.code;
      }
    } catch {
      // The router produced the text itself; anything unparsable is still closed normally.
    }
    this.close(closeCode, reason);
    placeholder.onClose();
  }
}
