/**
 * `Connection` over a `ws` WebSocket: text/binary send with send-buffer accounting, close-once, pause/resume of
 * reading (TCP backpressure), and event routing to the bound handler. Messages over the protocol's size limit are
 * reported as PAYLOAD_TOO_LARGE (ws's own hard ceiling, set higher, closes 1009 by itself).
 */
import type WebSocket from 'ws';
import { LivestemError } from '../../errors.ts';
import type { Connection, ConnectionHandler } from '../../session/connection.ts';

/**
 * Answers a text message a plugin claims (e.g. `webrtc-offer` signalling on an open stream socket); returns
 * undefined for messages that belong to the session.
 */
export type ControlRouter = (text: string, remoteAddress: string) => Promise<string> | undefined;

export class WsConnection implements Connection {
  private handler: ConnectionHandler | undefined;
  private closed = false;
  alive = true;

  constructor(
    private readonly ws: WebSocket,
    readonly id: string,
    readonly remoteAddress: string,
    private readonly maxMessageBytes: number,
    private readonly control?: ControlRouter | undefined,
  ) {
    // Attached synchronously in the connection callback: a handler attached later can miss the first message.
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    ws.on('close', () => {
      this.closed = true;
      const handler = this.handler;
      this.handler = undefined;
      handler?.onClose();
    });
    ws.on('error', (err: Error & { code?: string }) => {
      const code = err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' ? 'LIVESTEM_ERR_PAYLOAD_TOO_LARGE' : 'LIVESTEM_ERR_BAD_MESSAGE';
      this.handler?.onTransportError(new LivestemError(code, `WebSocket protocol error: ${err.message}`, { cause: err }));
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

  sendText(text: string): void {
    if (this.closed) return;
    this.ws.send(text, (err) => this.afterSend(err));
  }

  sendBinary(bytes: Uint8Array): void {
    if (this.closed) return;
    this.ws.send(bytes, { binary: true }, (err) => this.afterSend(err));
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.ws.close(code, reason.slice(0, 120));
  }

  /** Drops the TCP connection without a close handshake (dead peer). */
  terminate(): void {
    this.closed = true;
    this.ws.terminate();
  }

  pauseInput(): void {
    if (!this.ws.isPaused) this.ws.pause();
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
    const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    if (bytes.byteLength > this.maxMessageBytes) {
      handler.onTransportError(
        new LivestemError('LIVESTEM_ERR_PAYLOAD_TOO_LARGE', `message of ${bytes.byteLength} bytes exceeds the ${this.maxMessageBytes}-byte limit`),
      );
      return;
    }
    if (isBinary) {
      handler.onBinary(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      return;
    }
    const text = bytes.toString('utf8');
    const reply = this.control?.(text, this.remoteAddress);
    if (reply === undefined) {
      handler.onText(text);
      return;
    }
    reply.then(
      (answer) => this.sendText(answer),
      (err: unknown) => handler.onTransportError(new LivestemError('LIVESTEM_ERR_INTERNAL', `control message failed: ${String(err)}`, { cause: err })),
    );
  }
}
