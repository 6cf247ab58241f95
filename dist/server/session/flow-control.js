export class FlowControl {
    maxSendBufferBytes;
    reasons = new Set();
    connection;
    constructor(maxSendBufferBytes) {
        this.maxSendBufferBytes = maxSendBufferBytes;
    }
    /** The transport to pause (undefined while detached); a new one starts unpaused. */
    attach(connection) {
        this.connection = connection;
        this.reasons.clear();
    }
    get paused() {
        return this.reasons.size > 0;
    }
    get pausedForOutput() {
        return this.reasons.has('output');
    }
    /** Reading pauses at a quarter of the send limit, so a client that stops reading is slowed well before it fails. */
    get pauseBytes() {
        return this.maxSendBufferBytes / 4;
    }
    /** After anything was queued for the client: whether it is now over the limit (a slow consumer). */
    afterSend() {
        const buffered = this.connection?.bufferedBytes ?? 0;
        if (buffered > this.maxSendBufferBytes)
            return { overLimitBytes: buffered };
        if (buffered > this.pauseBytes)
            this.pause('output');
        return { overLimitBytes: undefined };
    }
    /** Some output reached the OS. */
    sendDrained() {
        if (this.connection && this.connection.bufferedBytes < this.pauseBytes / 2)
            this.unpause('output');
    }
    pause(reason) {
        if (!this.connection)
            return;
        this.reasons.add(reason);
        this.connection.pauseInput();
    }
    unpause(reason) {
        if (!this.reasons.delete(reason) || this.reasons.size > 0)
            return;
        this.connection?.resumeInput();
    }
}
//# sourceMappingURL=flow-control.js.map