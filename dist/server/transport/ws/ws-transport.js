import { randomUUID } from 'node:crypto';
import { WebSocketServer } from 'ws';
import { ERROR_CATALOG, LivestemError } from "../../errors.js";
import { errorMessage } from "../../protocol/messages.js";
import { parseRequestTarget } from "../http/request-target.js";
import { WsConnection } from "./ws-connection.js";
export const STREAM_PATH = '/v1/stream';
export class WsTransport {
    options;
    wss;
    connections = new Set();
    heartbeat;
    constructor(server, options) {
        this.options = options;
        // ws's own ceiling is a backstop: messages between the protocol limit and it get a JSON error first.
        this.wss = new WebSocketServer({ noServer: true, maxPayload: 2 * options.maxMessageBytes + 1024, perMessageDeflate: false });
        server.on('upgrade', (req, socket, head) => this.upgrade(req, socket, head));
        this.heartbeat = setInterval(() => this.beat(), options.heartbeatMs).unref();
    }
    upgrade(req, socket, head) {
        socket.on('error', () => socket.destroy());
        const target = parseRequestTarget(req.url);
        if (target === undefined) {
            const body = JSON.stringify(errorMessage(new LivestemError('LIVESTEM_ERR_BAD_MESSAGE', 'malformed request target')));
            socket.end(`HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
            this.options.onRejected('LIVESTEM_ERR_BAD_MESSAGE', remoteOf(req));
            return;
        }
        this.wss.handleUpgrade(req, socket, head, (ws) => {
            if (target.pathname !== STREAM_PATH)
                this.refuse(ws, req, new LivestemError('LIVESTEM_ERR_NOT_FOUND', `no WebSocket endpoint at this path; use ${STREAM_PATH}`));
            else
                this.accept(ws, req, target.searchParams);
        });
    }
    connection(ws, req) {
        const { maxMessageBytes, closeTimeoutMs, control } = this.options;
        const connection = new WsConnection(ws, randomUUID(), remoteOf(req), { maxMessageBytes, closeTimeoutMs, control });
        this.connections.add(connection);
        ws.on('close', () => this.connections.delete(connection));
        return connection;
    }
    /** Refused inside the WebSocket so browsers (which cannot read a failed upgrade's status) learn why. */
    refuse(ws, req, error) {
        const connection = this.connection(ws, req);
        this.options.onRejected(error.code, connection.remoteAddress);
        connection.sendText(JSON.stringify(errorMessage(error)));
        connection.close(ERROR_CATALOG[error.code].closeCode, error.code);
    }
    accept(ws, req, query) {
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
    beat() {
        for (const c of this.connections) {
            // While the server itself is not reading, a pong cannot arrive: that silence is ours, not a dead peer. The
            // session's own timers (idle, slow consumer) bound how long such a connection can stay paused.
            if (c.inputPaused)
                continue;
            if (!c.alive) {
                this.options.log.info('heartbeat missed, dropping connection', { connection: c.id, remote: c.remoteAddress });
                c.terminate();
                continue;
            }
            c.alive = false;
            c.ping();
        }
    }
    get connectionCount() {
        return this.connections.size;
    }
    /**
     * Closes every socket: those already closing (a session sent `done`/`error` and a close frame) get up to `graceMs`
     * to finish the handshake so their last frames are not cut off; whatever is left is then terminated.
     */
    async close(graceMs) {
        clearInterval(this.heartbeat);
        for (const c of this.connections)
            if (!c.isClosing)
                c.close(ERROR_CATALOG.LIVESTEM_ERR_DRAINING.closeCode, 'LIVESTEM_ERR_DRAINING');
        let timer;
        const deadline = new Promise((resolve) => (timer = setTimeout(resolve, graceMs)));
        await Promise.race([Promise.all([...this.connections].map((c) => c.whenClosed)), deadline]);
        clearTimeout(timer);
        for (const c of this.connections)
            c.terminate();
        await new Promise((resolve) => this.wss.close(() => resolve()));
    }
}
function remoteOf(req) {
    return `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`;
}
//# sourceMappingURL=ws-transport.js.map