/**
 * One WebRTC client as a session `Connection`: the session engine is the very one WebSocket clients get, fed with
 * the decoded Opus input as f32le PCM and answering with the usual protocol messages, which this adapter turns into
 * RTP (output frames → paced Opus) and DataChannel events (ready, vad, stats, done, error).
 *
 * Lifetime: ends when the session closes it (done/error), on DELETE, when the peer's ICE fails, when no input RTP
 * arrives for `stallTimeoutMs`, or when media never starts within `mediaStartTimeoutMs`. Every end path frees the
 * decoder, encoders, timers and the peer, and counts the reason.
 */
import { randomUUID } from 'node:crypto';
import { LivestemError, isErrorCode } from "../../errors.js";
import { decodeAudioFrame, encodePcm } from "../../../client-sdk/src/protocol/index.js";
import { OPUS_RATE_HZ } from "./opus-ingest.js";
import { RtpPacer } from "./rtp-pacer.js";
const WATCHDOG_MS = 250;
const CLOSE_NOTICE_GRACE_MS = 200;
export class RtcStream {
    id = randomUUID();
    remoteAddress;
    bufferedBytes = 0;
    inputBackpressure = false;
    #opts;
    #handler;
    #state = 'starting';
    #ready;
    #readyWaiter;
    #peer;
    #ingest;
    #pacer;
    #channel;
    #lastRtpAtMs;
    #liveSinceMs = 0;
    #watchdog;
    #statsTimer;
    #countedIngest;
    #countedPacer = { sentPackets: 0, underrunFrames: 0, droppedFrames: 0 };
    #ended;
    #resolveEnded;
    constructor(opts) {
        this.#opts = opts;
        this.remoteAddress = opts.remoteAddress;
        this.#ended = new Promise((resolve) => {
            this.#resolveEnded = resolve;
        });
    }
    get sessionReady() {
        return this.#ready;
    }
    get state() {
        return this.#state;
    }
    /** Resolves with the reason once everything is freed. */
    get ended() {
        return this.#ended;
    }
    bind(handler) {
        this.#handler = handler;
    }
    /** Sends the bound session its `start` and resolves with `ready` (or rejects with the session's error). */
    start(start) {
        const handler = this.#handler;
        if (handler === undefined)
            return Promise.reject(new LivestemError('LIVESTEM_ERR_INTERNAL', 'no session bound to this WebRTC stream'));
        const ready = new Promise((resolve, reject) => {
            this.#readyWaiter = { resolve, reject };
        });
        handler.onText(JSON.stringify({ ...start, type: 'start', sampleRateHz: OPUS_RATE_HZ, channels: 2, format: 'f32le', outputFormat: 'f32le' }));
        return ready;
    }
    /** Wires the answered peer: input RTP → decoder → session; session output → pacer; events → DataChannel. */
    attach(peer, ingest) {
        if (this.#state !== 'starting') {
            ingest.free();
            void peer.pc.close();
            return;
        }
        this.#state = 'live';
        this.#peer = peer;
        this.#ingest = ingest;
        this.#pacer = new RtpPacer(peer.outputTracks);
        this.#liveSinceMs = performance.now();
        this.#opts.metrics.peersStarted.inc();
        this.#opts.metrics.peersActive.inc();
        peer.onInputRtp((rtp) => this.#onRtp(rtp));
        peer.onDataChannel((dc) => this.#onDataChannel(dc));
        peer.pc.connectionStateChange.subscribe((state) => {
            if (state === 'failed' || state === 'closed')
                this.end('ice-failed');
        });
        this.#watchdog = setInterval(() => this.#checkMedia(), WATCHDOG_MS);
        this.#statsTimer = setInterval(() => this.#handler?.onText('{"type":"stats"}'), this.#opts.statsIntervalMs);
    }
    /** Ends from our side (DELETE, stall, ICE failure, shutdown): the session drops its tail and is released. */
    end(reason) {
        if (this.#state === 'ended')
            return;
        const handler = this.#handler;
        this.#handler = undefined;
        if (handler !== undefined) {
            // `end` then loss of transport = client finished: the session is released now, not kept for a resume.
            if (this.#ready !== undefined)
                handler.onText('{"type":"end"}');
            handler.onClose();
        }
        this.#teardown(reason);
    }
    // ---- Connection (session → client) ----
    sendText(text) {
        const msg = JSON.parse(text);
        if (msg.type === 'ready') {
            this.#ready = msg;
            this.#readyWaiter?.resolve(msg);
            this.#readyWaiter = undefined;
            return;
        }
        if (msg.type === 'error' && this.#readyWaiter !== undefined) {
            this.#readyWaiter.reject(new LivestemError(isErrorCode(msg.code) ? msg.code : 'LIVESTEM_ERR_INTERNAL', msg.message));
            this.#readyWaiter = undefined;
            return;
        }
        if (msg.type === 'stats') {
            this.#sendEvent({ ...msg, rtc: this.#rtcStats() });
            return;
        }
        this.#sendEvent(msg);
    }
    sendBinary(bytes) {
        const frame = decodeAudioFrame(bytes);
        this.#pacer?.push(frame.kind, frame.samples);
    }
    close(code, reason) {
        if (this.#state === 'ended')
            return;
        this.#opts.log.debug('webrtc session closed by session', { code, reason });
        this.#handler = undefined;
        this.#readyWaiter?.reject(new LivestemError('LIVESTEM_ERR_INTERNAL', `session closed before ready (${code} ${reason})`));
        this.#readyWaiter = undefined;
        this.#teardown(code === 1000 || code === 1001 ? 'done' : 'session-error');
    }
    /**
     * RTP arrives at the peer's real-time pace and cannot be paused (`inputBackpressure` is false): a session that falls
     * behind drops its oldest input instead, reports `input-dropped` on the DataChannel and catches up.
     */
    pauseInput() { }
    resumeInput() { }
    // ---- media ----
    #onRtp(rtp) {
        const ingest = this.#ingest;
        const handler = this.#handler;
        if (ingest === undefined || handler === undefined)
            return;
        this.#lastRtpAtMs = performance.now();
        for (const chunk of ingest.push(rtp.header.sequenceNumber, rtp.payload)) {
            handler.onBinary(encodePcm(chunk, 'f32le'));
            if (this.#handler === undefined)
                break; // the session failed on this chunk
        }
        this.#syncCounters();
    }
    #checkMedia() {
        const now = performance.now();
        if (this.#lastRtpAtMs === undefined) {
            if (now - this.#liveSinceMs > this.#opts.mediaStartTimeoutMs)
                this.end('no-media');
        }
        else if (now - this.#lastRtpAtMs > this.#opts.stallTimeoutMs) {
            this.end('stalled');
        }
    }
    #onDataChannel(dc) {
        if (dc.label !== 'events')
            return;
        this.#channel = dc;
        const greet = () => {
            if (this.#ready !== undefined)
                this.#sendEvent({ ...this.#ready, outputMids: Object.fromEntries(this.#peer?.outputMids ?? []) });
        };
        if (dc.readyState === 'open')
            greet();
        else
            dc.stateChange.subscribe((state) => state === 'open' && greet());
        dc.onMessage.subscribe((data) => this.#onChannelMessage(String(data)));
    }
    /** Client → server over the DataChannel: vocal level, stats and ping only (tracks are fixed by the SDP). */
    #onChannelMessage(text) {
        let msg;
        try {
            msg = JSON.parse(text);
        }
        catch {
            this.#sendEvent({ type: 'error', code: 'LIVESTEM_ERR_BAD_MESSAGE', message: 'DataChannel message is not JSON', retryable: false });
            return;
        }
        const type = msg.type;
        const allowed = type === 'stats' || type === 'ping' || (type === 'configure' && !('outputs' in msg));
        if (!allowed) {
            this.#sendEvent({
                type: 'error',
                code: 'LIVESTEM_ERR_BAD_MESSAGE',
                message: 'over WebRTC the DataChannel accepts configure {vocalGain}, stats and ping (outputs are fixed by the SDP)',
                retryable: false,
            });
            return;
        }
        this.#handler?.onText(text);
    }
    #sendEvent(event) {
        const dc = this.#channel;
        if (dc === undefined || dc.readyState !== 'open')
            return;
        dc.send(JSON.stringify(event));
    }
    #rtcStats() {
        const ingest = this.#ingest?.stats;
        const pacer = this.#pacer?.stats;
        return {
            packetsReceived: ingest?.received ?? 0,
            packetsConcealed: ingest?.concealedPackets ?? 0,
            packetsLate: ingest?.late ?? 0,
            packetsReordered: ingest?.reordered ?? 0,
            packetsSent: pacer?.sentPackets ?? 0,
            underrunFrames: pacer?.underrunFrames ?? 0,
            droppedFrames: pacer?.droppedFrames ?? 0,
            pacerQueuedMs: pacer?.queuedMs ?? 0,
        };
    }
    #syncCounters() {
        const m = this.#opts.metrics;
        const ingest = this.#ingest?.stats;
        if (ingest !== undefined) {
            const prev = this.#countedIngest;
            m.rtpPacketsReceived.inc(ingest.received - (prev?.received ?? 0));
            m.rtpPacketsLate.inc(ingest.late - (prev?.late ?? 0));
            m.rtpPacketsReordered.inc(ingest.reordered - (prev?.reordered ?? 0));
            m.rtpPacketsConcealed.inc({ cause: 'lost' }, ingest.missing - (prev?.missing ?? 0));
            m.rtpPacketsConcealed.inc({ cause: 'undecodable' }, ingest.decodeErrors - (prev?.decodeErrors ?? 0));
            this.#countedIngest = ingest;
        }
        const pacer = this.#pacer?.stats;
        if (pacer !== undefined) {
            m.rtpPacketsSent.inc(pacer.sentPackets - this.#countedPacer.sentPackets);
            m.egressUnderrunFrames.inc(pacer.underrunFrames - this.#countedPacer.underrunFrames);
            m.egressDroppedFrames.inc(pacer.droppedFrames - this.#countedPacer.droppedFrames);
            this.#countedPacer = { sentPackets: pacer.sentPackets, underrunFrames: pacer.underrunFrames, droppedFrames: pacer.droppedFrames };
        }
    }
    #teardown(reason) {
        const wasLive = this.#state === 'live';
        this.#state = 'ended';
        clearInterval(this.#watchdog);
        clearInterval(this.#statsTimer);
        this.#syncCounters();
        const notified = reason !== 'done' && reason !== 'session-error' && this.#channel?.readyState === 'open';
        if (notified)
            this.#sendEvent({ type: 'closed', reason });
        this.#pacer?.stop();
        this.#ingest?.free();
        const pc = this.#peer?.pc;
        this.#pacer = undefined;
        this.#ingest = undefined;
        this.#peer = undefined;
        this.#channel = undefined;
        if (wasLive) {
            this.#opts.metrics.peersActive.dec();
            this.#opts.metrics.peersEnded.inc({ reason });
        }
        this.#opts.log.info('webrtc peer ended', { reason, streamId: this.id });
        this.#opts.onEnded(this, reason);
        // SCTP sends asynchronously: give the `closed` notice a moment to leave before the association goes away.
        const grace = notified ? new Promise((resolve) => setTimeout(resolve, CLOSE_NOTICE_GRACE_MS)) : Promise.resolve();
        const closing = grace.then(() => pc?.close());
        closing.then(() => this.#resolveEnded(reason), (err) => {
            this.#opts.log.warn('peer close failed', { err });
            this.#resolveEnded(reason);
        });
    }
}
//# sourceMappingURL=rtc-stream.js.map