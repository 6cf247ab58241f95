/**
 * All sessions of a server: creates one per connection, admits (or refuses) starts, finds detached sessions for
 * resume (token compared in constant time), and drains everything on shutdown. It is the sessions' SessionHost.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Engine } from '../engine/engine.ts';
import { LivestemError } from '../errors.ts';
import type { ModelManifest } from '../inference/model-manifest.ts';
import type { Logger } from '../log.ts';
import { LogThrottle } from '../log-throttle.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { PROTOCOL_VERSION, type ResumeMessage } from '../../client-sdk/src/protocol/index.ts';
import type { Admission } from './admission.ts';
import type { Connection } from './connection.ts';
import { Session, type SessionHost, type SessionSettings, type SessionTimers } from './session.ts';

export interface RegistryOptions {
  settings: SessionSettings;
  maxSessions: number;
  metrics: Metrics;
  log: Logger;
  timers: SessionTimers;
  engine: Engine;
  models: { get(name: string): ModelManifest | undefined; defaultModel: string };
  /** Whether one more session fits beside `activeSessions` (measured headroom, admission.ts). */
  admission: Admission;
  logThrottle?: LogThrottle;
}

function sameSecret(a: string, b: string): boolean {
  const digest = (s: string): Buffer => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(a), digest(b));
}

export class SessionRegistry implements SessionHost {
  readonly settings: SessionSettings;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly timers: SessionTimers;
  readonly logThrottle: LogThrottle;
  readonly engine: Engine;
  private readonly admittedSessions = new Map<string, Session>();
  private readonly everySession = new Set<Session>();
  private draining = false;
  private emptyWaiters: Array<() => void> = [];

  constructor(private readonly options: RegistryOptions) {
    this.settings = options.settings;
    this.metrics = options.metrics;
    this.log = options.log;
    this.timers = options.timers;
    this.engine = options.engine;
    this.logThrottle = options.logThrottle ?? new LogThrottle({ now: () => options.timers.now() });
  }

  /** Sessions admitted and not yet ended (streaming, draining or detached). */
  get activeCount(): number {
    return this.admittedSessions.size;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  sessions(): Session[] {
    return [...this.admittedSessions.values()];
  }

  /** A new connection: its placeholder session waits for start or resume. */
  open(connection: Connection): Session {
    const session = new Session(this, connection);
    this.everySession.add(session);
    return session;
  }

  model(name: string | undefined): ModelManifest | undefined {
    return this.options.models.get(name ?? this.options.models.defaultModel);
  }

  /** Refuses up front rather than degrading the sessions already running. */
  admissionError(): LivestemError | undefined {
    if (this.draining) return new LivestemError('LIVESTEM_ERR_DRAINING');
    if (this.admittedSessions.size >= this.options.maxSessions) {
      return new LivestemError('LIVESTEM_ERR_OVERLOADED', `session limit ${this.options.maxSessions} reached`);
    }
    const decision = this.options.admission(this.admittedSessions.size);
    return decision.admit ? undefined : new LivestemError('LIVESTEM_ERR_OVERLOADED', decision.reason);
  }

  /** Whether a new session would be admitted now (for /readyz). */
  get admitting(): boolean {
    return this.admissionError() === undefined;
  }

  admitted(session: Session): void {
    this.admittedSessions.set(session.id, session);
    this.metrics.sessionsStarted.inc();
    this.metrics.sessionsActive.set(this.admittedSessions.size);
  }

  released(session: Session): void {
    this.everySession.delete(session);
    if (this.admittedSessions.delete(session.id)) this.metrics.sessionsActive.set(this.admittedSessions.size);
    if (this.everySession.size === 0) {
      const waiters = this.emptyWaiters;
      this.emptyWaiters = [];
      for (const w of waiters) w();
    }
  }

  resume(placeholder: Session, message: ResumeMessage): void {
    if (message.protocolVersion !== undefined && message.protocolVersion !== PROTOCOL_VERSION) {
      placeholder.fail(
        new LivestemError('LIVESTEM_ERR_PROTOCOL_VERSION', `protocolVersion ${message.protocolVersion} is not supported (this server speaks ${PROTOCOL_VERSION})`),
      );
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

  private whenEmpty(): Promise<void> {
    if (this.everySession.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.emptyWaiters.push(resolve));
  }

  /**
   * Graceful drain: admit nobody new, tell streaming clients the deadline, let them finish; at the deadline flush
   * and close whoever is left (`done` with reason shutdown, close 1001). Resolves when every session has ended.
   */
  async drain(deadlineMs: number): Promise<void> {
    this.draining = true;
    for (const s of this.everySession) s.notifyDraining(deadlineMs);
    let timer: { cancel(): void } | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = this.timers.setTimeout(resolve, deadlineMs);
    });
    const sessions = [...this.everySession];
    await Promise.race([this.whenEmpty(), deadline]);
    timer?.cancel();
    for (const s of [...this.everySession]) {
      if (s.lifecycle.kind === 'starting') s.fail(new LivestemError('LIVESTEM_ERR_DRAINING'));
      else s.shutdown();
    }
    await this.whenEmpty();
    await Promise.all(sessions.map((s) => s.settled()));
  }

  /** Immediate stop: every session fails with DRAINING. */
  async closeAll(): Promise<void> {
    this.draining = true;
    const sessions = [...this.everySession];
    for (const s of sessions) s.fail(new LivestemError('LIVESTEM_ERR_DRAINING'));
    await Promise.all(sessions.map((s) => s.settled()));
  }
}
