/**
 * WebSocket endpoint `GET /v1/stream` on the shared HTTP server: upgrade, access check (Origin, key/token), one
 * WsConnection per socket handed to the session registry, and a ping/pong heartbeat that drops dead peers (which
 * detaches their sessions for resume). Nothing here knows about audio.
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
import { WsConnection, type ControlRouter } from './ws-connection.ts';

export const STREAM_PATH = '/v1/stream';

export interface WsTransportOptions {
  maxMessageBytes: number;
  heartbeatMs: number;
  access: AccessPolicy;
  log: Logger;
  onConnection(connection: Connection): void;
  onRejected(code: string): void;
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
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== STREAM_PATH) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, req, url));
  }

  private accept(ws: WebSocket, req: IncomingMessage, url: URL): void {
    const remote = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`;
    const connection = new WsConnection(ws, randomUUID(), remote, this.options.maxMessageBytes, this.options.control);
    const decision = this.options.access.checkStream({
      origin: req.headers.origin,
      authorization: req.headers.authorization,
      queryToken: url.searchParams.get('token') ?? undefined,
    });
    if (!decision.ok) {
      // Refused inside the WebSocket so browsers (which cannot read a failed upgrade's status) learn why.
      const error = new LivestemError(decision.code, decision.detail);
      this.options.onRejected(error.code);
      this.options.log.info('stream refused', { code: error.code, remote });
      connection.sendText(JSON.stringify(errorMessage(error)));
      connection.close(ERROR_CATALOG[error.code].closeCode, error.code);
      return;
    }
    this.connections.add(connection);
    ws.on('close', () => this.connections.delete(connection));
    this.options.onConnection(connection);
  }

  private beat(): void {
    for (const c of this.connections) {
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

  async close(): Promise<void> {
    clearInterval(this.heartbeat);
    for (const c of this.connections) c.terminate();
    await new Promise<void>((resolve, reject) => this.wss.close((err) => (err ? reject(err) : resolve())));
  }
}
