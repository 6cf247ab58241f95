/**
 * WebSocket endpoint `GET /v1/stream` on the shared HTTP server: upgrade, access check (Origin, key/token), one
 * WsConnection per socket handed to the session registry, and a ping/pong heartbeat that drops dead peers (which
 * detaches their sessions for resume). Nothing here knows about audio.
 *
 * Request targets are attacker input: a target that is not origin-form (`//`, `//[`, `//:99999` …) is answered 400
 * on the raw socket; an unknown path is upgraded and refused inside the WebSocket (error + close 4404), because a
 * browser cannot read the status of a failed upgrade.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { WebSocketServer } from 'ws';
import type WebSocket from 'ws';
import type { AccessPolicy } from '../../auth/access-policy.ts';
import { ERROR_CATALOG, LivestemError } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import { errorMessage } from '../../protocol/messages.ts';
import type { Connection } from '../../session/connection.ts';
import { parseRequestTarget } from '../http/request-target.ts';
import { WsConnection, type ControlRouter } from './ws-connection.ts';

export const STREAM_PATH = '/v1/stream';

export interface WsTransportOptions {
  maxMessageBytes: number;
  heartbeatMs: number;
  closeTimeoutMs: number;
  access: AccessPolicy;
  log: Logger;
  onConnection(connection: Connection): void;
  onRejected(code: string, remoteAddress: string): void;
  /** Plugin-claimed control messages on an accepted socket (signalling), answered on the same socket. */
  control?: ControlRouter | undefined;
}

export class WsTransport {
  private readonly wss: WebSocketServer;
  private readonly connections = new Set<WsConnection>();
  private readonly heartbeat: NodeJS.Timeout;

  constructor(
    server: Server,
    private readonly options: WsTransportOptions,
  ) {
    // ws's own ceiling is a backstop: messages between the protocol limit and it get a JSON error first.
    this.wss = new WebSocketServer({ noServer: true, maxPayload: 2 * options.maxMessageBytes + 1024, perMessageDeflate: false });
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket, head));
    this.heartbeat = setInterval(() => this.beat(), options.heartbeatMs).unref();
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const target = parseRequestTarget(req.url);
    if (target === undefined) {
      const body = JSON.stringify(errorMessage(new LivestemError('LIVESTEM_ERR_BAD_MESSAGE', 'malformed request target')));
      socket.end(`HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      this.options.onRejected('LIVESTEM_ERR_BAD_MESSAGE', remoteOf(req));
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      if (target.pathname !== STREAM_PATH) this.refuse(ws, req, new LivestemError('LIVESTEM_ERR_NOT_FOUND', `no WebSocket endpoint at this path; use ${STREAM_PATH}`));
      else this.accept(ws, req, target.searchParams);
    });
  }

  private connection(ws: WebSocket, req: IncomingMessage): WsConnection {
    const { maxMessageBytes, closeTimeoutMs, control } = this.options;
    const connection = new WsConnection(ws, randomUUID(), remoteOf(req), { maxMessageBytes, closeTimeoutMs, control });
    this.connections.add(connection);
    ws.on('close', () => this.connections.delete(connection));
    return connection;
  }

  /** Refused inside the WebSocket so browsers (which cannot read a failed upgrade's status) learn why. */
  private refuse(ws: WebSocket, req: IncomingMessage, error: LivestemError): void {
    const connection = this.connection(ws, req);
    this.options.onRejected(error.code, connection.remoteAddress);
    connection.sendMessage(errorMessage(error));
    connection.close(ERROR_CATALOG[error.code].closeCode, error.code);
  }

  private accept(ws: WebSocket, req: IncomingMessage, query: URLSearchParams): void {
    const decision = this.options.access.checkStream({
      origin: req.headers.origin,
      authorization: req.headers.authorization,
      queryToken: query.get('token') ?? undefined,
    });
    if (!decision.ok) {
      this.refuse(ws, req, new LivestemError(decision.code, decision.detail));
      return;
    }
    this.options.onConnection(this.connection(ws, req));
  }

  private beat(): void {
    for (const c of this.connections) {
      // While the server itself is not reading, a pong cannot arrive: that silence is ours, not a dead peer. The
      // session's own timers (idle, slow consumer) bound how long such a connection can stay paused.
      if (c.inputPaused) continue;
      if (!c.alive) {
        this.options.log.info('heartbeat missed, dropping connection', { connection: c.id, remote: c.remoteAddress });
        c.terminate();
        continue;
      }
      c.alive = false;
      c.ping();
    }
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /**
   * Closes every socket: those already closing (a session sent `done`/`error` and a close frame) get up to `graceMs`
   * to finish the handshake so their last frames are not cut off; whatever is left is then terminated.
   */
  async close(graceMs: number): Promise<void> {
    clearInterval(this.heartbeat);
    for (const c of this.connections) if (!c.isClosing) c.close(ERROR_CATALOG.LIVESTEM_ERR_DRAINING.closeCode, 'LIVESTEM_ERR_DRAINING');
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
    await Promise.race([Promise.all([...this.connections].map((c) => c.whenClosed)), deadline]);
    clearTimeout(timer);
    for (const c of this.connections) c.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}

function remoteOf(req: IncomingMessage): string {
  return `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`;
}
