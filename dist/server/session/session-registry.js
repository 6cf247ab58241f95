/**
 * All sessions of a server: creates one per connection, admits (or refuses) starts, finds detached sessions for
 * resume (token compared in constant time), and drains everything on shutdown. It is the sessions' SessionHost.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { LivestemError } from "../errors.js";
import { LogThrottle } from "../log-throttle.js";
import { PROTOCOL_VERSION } from "../../client-sdk/src/protocol/index.js";
import { Session } from "./session.js";
function sameSecret(a, b) {
    const digest = (s) => createHash('sha256').update(s).digest();
    return timingSafeEqual(digest(a), digest(b));
}
export class SessionRegistry {
    options;
    settings;
    metrics;
    log;
    timers;
    logThrottle;
    admittedSessions = new Map();
    everySession = new Set();
    draining = false;
    emptyWaiters = [];
    constructor(options) {
        this.options = options;
        this.settings = options.settings;
        this.metrics = options.metrics;
        this.log = options.log;
        this.timers = options.timers;
        this.logThrottle = options.logThrottle ?? new LogThrottle({ now: () => options.timers.now() });
    }
    /** Sessions admitted and not yet ended (streaming, draining or detached). */
    get activeCount() {
        return this.admittedSessions.size;
    }
    get isDraining() {
        return this.draining;
    }
    sessions() {
        return [...this.admittedSessions.values()];
    }
    /** A new connection: its placeholder session waits for start or resume. */
    open(connection) {
        const session = new Session(this, connection);
        this.everySession.add(session);
        return session;
    }
    model(name) {
        return this.options.models.get(name ?? this.options.models.defaultModel);
    }
    /** Refuses up front rather than degrading the sessions already running. */
    admissionError() {
        if (this.draining)
            return new LivestemError('LIVESTEM_ERR_DRAINING');
        if (this.admittedSessions.size >= this.options.maxSessions) {
            return new LivestemError('LIVESTEM_ERR_OVERLOADED', `session limit ${this.options.maxSessions} reached`);
        }
        // With nobody streaming there is nobody to degrade: the load reading is the tail of sessions already gone.
        const load = this.options.load();
        if (this.admittedSessions.size > 0 && load > this.options.maxLoad) {
            return new LivestemError('LIVESTEM_ERR_OVERLOADED', `engine load ${load.toFixed(2)} above ${this.options.maxLoad}`);
        }
        return undefined;
    }
    /** Whether a new session would be admitted now (for /readyz). */
    get admitting() {
        return this.admissionError() === undefined;
    }
    admitted(session) {
        this.admittedSessions.set(session.id, session);
        this.metrics.sessionsStarted.inc();
        this.metrics.sessionsActive.set(this.admittedSessions.size);
    }
    released(session) {
        this.everySession.delete(session);
        if (this.admittedSessions.delete(session.id))
            this.metrics.sessionsActive.set(this.admittedSessions.size);
        if (this.everySession.size === 0) {
            const waiters = this.emptyWaiters;
            this.emptyWaiters = [];
            for (const w of waiters)
                w();
        }
    }
    resume(placeholder, message) {
        if (message.protocolVersion !== undefined && message.protocolVersion !== PROTOCOL_VERSION) {
            placeholder.fail(new LivestemError('LIVESTEM_ERR_PROTOCOL_VERSION', `protocolVersion ${message.protocolVersion} is not supported (this server speaks ${PROTOCOL_VERSION})`));
            return;
        }
        const target = this.admittedSessions.get(message.sessionId);
        const connection = placeholder.transport;
        if (!target || !connection || !sameSecret(target.resumeToken, message.resumeToken)) {
            placeholder.fail(new LivestemError('LIVESTEM_ERR_UNKNOWN_SESSION'));
            return;
        }
        const error = target.attach(connection, message.lastSampleOffset);
        if (error) {
            placeholder.fail(error);
            return;
        }
        placeholder.handOff();
    }
    whenEmpty() {
        if (this.everySession.size === 0)
            return Promise.resolve();
        return new Promise((resolve) => this.emptyWaiters.push(resolve));
    }
    /**
     * Graceful drain: admit nobody new, tell streaming clients the deadline, let them finish; at the deadline flush
     * and close whoever is left (`done` with reason shutdown, close 1001). Resolves when every session has ended.
     */
    async drain(deadlineMs) {
        this.draining = true;
        for (const s of this.everySession)
            s.notifyDraining(deadlineMs);
        let timer;
        const deadline = new Promise((resolve) => {
            timer = this.timers.setTimeout(resolve, deadlineMs);
        });
        const sessions = [...this.everySession];
        await Promise.race([this.whenEmpty(), deadline]);
        timer?.cancel();
        for (const s of [...this.everySession]) {
            if (s.lifecycle.kind === 'starting')
                s.fail(new LivestemError('LIVESTEM_ERR_DRAINING'));
            else
                s.shutdown();
        }
        await this.whenEmpty();
        await Promise.all(sessions.map((s) => s.settled()));
    }
    /** Immediate stop: every session fails with DRAINING. */
    async closeAll() {
        this.draining = true;
        const sessions = [...this.everySession];
        for (const s of sessions)
            s.fail(new LivestemError('LIVESTEM_ERR_DRAINING'));
        await Promise.all(sessions.map((s) => s.settled()));
    }
}
//# sourceMappingURL=session-registry.js.map