import { ERROR_CATALOG, LivestemError, isErrorCode } from "../../errors.js";
import { errorMessage } from "../../protocol/messages.js";
const TOO_MUCH_CLOSE_CODE = ERROR_CATALOG.LIVESTEM_ERR_RATE_LIMITED.closeCode;
export class WsConnection {
    ws;
    id;
    remoteAddress;
    options;
    inputBackpressure = true;
    handler;
    closed = false;
    messagesSeen = 0;
    closeTimer;
    closedPromise;
    alive = true;
    constructor(ws, id, remoteAddress, options) {
        this.ws = ws;
        this.id = id;
        this.remoteAddress = remoteAddress;
        this.options = options;
        let markClosed;
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
        ws.on('error', (err) => {
            const code = err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' ? 'LIVESTEM_ERR_PAYLOAD_TOO_LARGE' : 'LIVESTEM_ERR_BAD_MESSAGE';
            this.handler?.onTransportError(new LivestemError(code, `WebSocket protocol error: ${err.message.slice(0, 120)}`, { cause: err }));
        });
        ws.on('pong', () => {
            this.alive = true;
        });
    }
    bind(handler) {
        this.handler = handler;
    }
    get bufferedBytes() {
        return this.ws.bufferedAmount;
    }
    /** Resolves once the socket is closed (handshake done, terminated or lost). */
    get whenClosed() {
        return this.closedPromise;
    }
    get isClosing() {
        return this.closed;
    }
    sendText(text) {
        if (this.closed)
            return;
        this.ws.send(text, (err) => this.afterSend(err));
    }
    sendBinary(bytes) {
        if (this.closed)
            return;
        this.ws.send(bytes, { binary: true }, (err) => this.afterSend(err));
    }
    /**
     * Starts the close handshake. Reading resumes (a paused socket would never see the peer's close frame), except for
     * a flooding client, and a peer that does not answer within `closeTimeoutMs` is cut off, so a failed session never
     * holds its socket for long.
     */
    close(code, reason) {
        if (this.closed)
            return;
        this.closed = true;
        this.handler = undefined;
        // A client closed for sending too much (4429) is not read any further: parsing the rest of its flood would cost
        // other sessions; it still gets the error and the close frame, and the socket is cut after the close timeout.
        if (code === TOO_MUCH_CLOSE_CODE)
            this.ws.pause();
        else if (this.ws.isPaused)
            this.ws.resume();
        this.ws.close(code, reason.slice(0, 120));
        this.closeTimer = setTimeout(() => this.ws.terminate(), this.options.closeTimeoutMs);
        this.closeTimer.unref();
    }
    /** Drops the TCP connection without a close handshake (dead peer, shutdown deadline). */
    terminate() {
        this.closed = true;
        this.ws.terminate();
    }
    /** Reading paused by the server (backpressure): the peer's pongs cannot be read either. */
    get inputPaused() {
        return this.ws.isPaused;
    }
    pauseInput() {
        if (!this.closed && !this.ws.isPaused)
            this.ws.pause();
    }
    resumeInput() {
        if (this.ws.isPaused)
            this.ws.resume();
    }
    ping() {
        if (!this.closed)
            this.ws.ping();
    }
    afterSend(err) {
        // A failed send means the socket is going away; its 'close' event reports that to the session.
        if (!err)
            this.handler?.onSendDrained();
    }
    onMessage(data, isBinary) {
        const handler = this.handler;
        if (!handler)
            return;
        const first = this.messagesSeen++ === 0;
        const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
        if (bytes.byteLength > this.options.maxMessageBytes) {
            handler.onTransportError(new LivestemError('LIVESTEM_ERR_PAYLOAD_TOO_LARGE', `message of ${bytes.byteLength} bytes exceeds the ${this.options.maxMessageBytes}-byte limit`));
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
            handler.onTransportError(new LivestemError('LIVESTEM_ERR_BAD_MESSAGE', 'signalling messages (webrtc-offer) are only accepted as the first and only message of a socket'));
            return;
        }
        // A signalling socket: its placeholder session must not time out or take more messages while the answer is made.
        this.handler = undefined;
        this.options.control.answer(text, this.remoteAddress).then((answer) => this.finishSignalling(answer, handler), (err) => {
            const error = new LivestemError('LIVESTEM_ERR_INTERNAL', 'control message failed', { cause: err });
            this.finishSignalling(JSON.stringify(errorMessage(error)), handler);
        });
    }
    /** Sends the signalling answer and closes the socket: 1000 after success, the error's close code after an error. */
    finishSignalling(answer, placeholder) {
        this.sendText(answer);
        let closeCode = 1000;
        let reason = 'answered';
        try {
            const parsed = JSON.parse(answer);
            if (parsed.type === 'error' && isErrorCode(parsed.code)) {
                closeCode = ERROR_CATALOG[parsed.code].closeCode;
                reason = parsed.code;
            }
        }
        catch {
            // The router produced the text itself; anything unparsable is still closed normally.
        }
        this.close(closeCode, reason);
        placeholder.onClose();
    }
}
//# sourceMappingURL=ws-connection.js.map