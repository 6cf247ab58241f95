/**
 * One client session: runs the effects of the pure lifecycle table (session-state.ts), validates what the client
 * sends, feeds its stream to the engine (a worker thread, through the typed boundary of server/engine/) and hands
 * what comes back to its transport. Control messages are handled on arrival — never behind queued audio; `flush`
 * and `end` enter the engine's input queue as markers so they apply exactly after the audio sent before them.
 *
 * Bounds, all announced in `ready.limits`: messages per second per class (RATE_LIMITED); input — above half the input
 * buffer the socket is paused, a message arriving while it is full is INPUT_OVERRUN (a transport that cannot be
 * paused drops its oldest input instead, counted and reported); output — every byte queued for the client, of any
 * message kind, counts against `maxSendBufferBytes` (SLOW_CONSUMER), and reading pauses at a quarter of it.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { ERROR_CATALOG, LivestemError, toLivestemError, type ErrorCode } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { ServerMessage } from '../../client-sdk/src/protocol/index.ts';
import type { EngineEvent } from '../engine/engine-protocol.ts';
import { applyEngineEvent } from './engine-events.ts';
import { errorMessage, parseClientMessage, type ParsedClientMessage, type UncheckedStartMessage } from '../protocol/messages.ts';
import { takeAudio, type AudioInput } from './audio-intake.ts';
import { FlowControl } from './flow-control.ts';
import { remoteHost, type Connection, type ConnectionHandler } from './connection.ts';
import type { SessionHost } from './session-host.ts';
import { doneMessage, readyMessage, resumedMessage, statsMessage } from './session-messages.ts';
import type { MessageClass } from './message-rate.ts';
import { isTerminal, transition, type SessionEffect, type SessionEvent, type SessionState } from './session-state.ts';
import { SessionStream } from './session-stream.ts';

export type { SessionHost, SessionSettings, SessionTimers } from './session-host.ts';

export class Session implements ConnectionHandler {
  readonly id = randomUUID();
  readonly resumeToken = randomBytes(24).toString('base64url');
  private state: SessionState = { kind: 'starting' };
  private connection: Connection | undefined;
  private stream: SessionStream | undefined;
  private streamId: string | undefined;
  private idleTimer: { cancel(): void } | undefined;
  private graceTimer: { cancel(): void } | undefined;
  private readonly flow: FlowControl;
  private readonly createdAtMs: number;
  private readonly log: Logger;
  private resumeFrom = 0;
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly host: SessionHost,
    connection: Connection,
  ) {
    this.connection = connection;
    connection.bind(this);
    this.flow = new FlowControl(host.settings.limits.maxSendBufferBytes, host.settings.limits, host.timers);
    this.flow.attach(connection);
    this.createdAtMs = host.timers.now();
    this.log = host.log.child({ sessionId: this.id });
    this.idleTimer = host.timers.setTimeout(() => this.dispatch({ type: 'idle-timeout' }), host.settings.limits.startTimeoutMs);
  }

  get lifecycle(): SessionState {
    return this.state;
  }

  get bufferedInputSeconds(): number {
    return (this.stream?.ledger.bufferedInputMs ?? 0) / 1000;
  }

  // ---- transport → session ----

  onText(text: string): void {
    if (this.withinRate('control')) this.guard(() => this.handleText(text));
  }

  onBinary(bytes: Uint8Array): void {
    if (this.withinRate('audio')) this.guard(() => this.handleAudio({ bytes }));
  }

  onMessage(message: ParsedClientMessage): void {
    if (this.withinRate('control')) this.guard(() => this.handleMessage(message));
  }

  onAudio(samples: Float32Array[]): void {
    if (this.withinRate('audio')) this.guard(() => this.handleAudio({ samples }));
  }

  /** Checked before any parsing, so a flood costs one bucket update per message until the session fails. */
  private withinRate(kind: MessageClass): boolean {
    if (isTerminal(this.state)) return false;
    const exceededLimit = this.flow.admitMessage(kind);
    if (exceededLimit === undefined) return true;
    this.host.metrics.rateLimited.inc({ class: kind });
    this.failCode('LIVESTEM_ERR_RATE_LIMITED', `more than ${exceededLimit} ${kind} messages per second`);
    return false;
  }

  /** A bug in handling one client's message fails that session (INTERNAL, logged), never the process. */
  private guard(handle: () => void): void {
    try {
      handle();
    } catch (err) {
      this.failWith(err);
    }
  }

  private handleText(text: string): void {
    if (isTerminal(this.state)) return;
    let message: ParsedClientMessage;
    try {
      message = parseClientMessage(text);
    } catch (err) {
      this.failWith(err);
      return;
    }
    this.handleMessage(message);
  }

  private handleMessage(message: ParsedClientMessage): void {
    if (isTerminal(this.state)) return;
    if (this.state.kind === 'starting') {
      if (message.type === 'start') this.start(message);
      else if (message.type === 'resume') this.host.resume(this, message);
      else this.failCode('LIVESTEM_ERR_BAD_MESSAGE', `first message must be start or resume, got ${message.type}`);
      return;
    }
    this.dispatch({ type: 'client-message' });
    this.control(message);
  }

  /** After the server flushed the session for shutdown, the client may not know yet: its input is not an error. */
  private get flushedForShutdown(): boolean {
    return this.state.kind === 'draining' && this.state.reason === 'shutdown';
  }

  private handleAudio(input: AudioInput): void {
    if (isTerminal(this.state)) return;
    const p = this.stream;
    const flushedForShutdown = this.flushedForShutdown;
    if ((this.state.kind !== 'streaming' && !flushedForShutdown) || !p) {
      this.failCode('LIVESTEM_ERR_BAD_MESSAGE', `audio ${this.state.kind === 'starting' ? 'before ready' : 'after end'}`);
      return;
    }
    this.dispatch({ type: 'client-message' });
    const outcome = takeAudio(p, input, {
      maxBufferedInputMs: this.host.settings.limits.maxBufferedInputMs,
      inputBackpressure: this.connection?.inputBackpressure !== false,
      flushedForShutdown,
      nowMs: this.host.timers.now(),
      metrics: this.host.metrics,
      decodeInto: (channels, frames) => this.host.engine.inputBuffers(channels, frames),
    });
    if (outcome.kind === 'refused') this.failCode(outcome.code, outcome.message);
    if (outcome.kind === 'queued' && outcome.pauseInput) this.flow.pause('input');
  }

  onTransportError(error: LivestemError): void {
    this.failWith(error);
  }

  /** Fails the session with a catalog error (used by the registry, e.g. a refused resume). */
  fail(error: LivestemError): void {
    this.failWith(error);
  }

  onClose(): void {
    this.connection = undefined;
    this.flow.attach(undefined);
    this.dispatch({ type: 'transport-lost' });
  }

  onSendDrained(): void {
    this.flow.sendDrained();
  }

  // ---- registry → session ----

  /** Resume: validates the offset, takes the connection (closing an old one) and replays retained output. */
  attach(connection: Connection, lastSampleOffset: number): LivestemError | undefined {
    const p = this.stream;
    if (!p || (this.state.kind !== 'detached' && this.state.kind !== 'streaming')) return new LivestemError('LIVESTEM_ERR_UNKNOWN_SESSION');
    const check = p.replay.check(lastSampleOffset);
    if (!check.ok) return new LivestemError('LIVESTEM_ERR_RESUME_GAP', check.detail);
    const old = this.connection;
    if (old && old !== connection) {
      old.bind(undefined);
      old.close(4000, 'resumed on another connection');
    }
    this.connection = connection;
    connection.bind(this);
    this.flow.attach(connection);
    this.resumeFrom = lastSampleOffset;
    this.dispatch({ type: 'resumed' });
    return undefined;
  }

  get transport(): Connection | undefined {
    return this.connection;
  }

  /** Ends a placeholder whose connection now belongs to a resumed session (the connection is left open). */
  handOff(): void {
    this.connection = undefined;
    this.flow.attach(undefined);
    this.dispatch({ type: 'handed-off' });
  }

  notifyDraining(deadlineMs: number): void {
    if (this.state.kind === 'streaming') this.send({ type: 'draining', deadlineMs });
  }

  shutdown(): void {
    this.dispatch({ type: 'shutdown-deadline' });
  }

  /** Resolves when background processing has stopped (the engine stream is closed). */
  async settled(): Promise<void> {
    await (this.stopping ?? this.stream?.stop());
  }

  // ---- lifecycle ----

  private dispatch(event: SessionEvent): void {
    const before = this.state.kind;
    const { state, effects } = transition(this.state, event, (code) => ERROR_CATALOG[code].closeCode);
    this.state = state;
    if (state.kind !== before) this.log.debug('session state', { from: before, to: state.kind, event: event.type });
    for (const effect of effects) this.run(effect);
  }

  private run(effect: SessionEffect): void {
    const { timers, settings } = this.host;
    switch (effect.type) {
      case 'send-ready':
        this.send(readyMessage(this.identity(), this.stream!, settings.limits));
        return;
      case 'send-resumed':
        this.sendResumed();
        return;
      case 'arm-idle-timer':
        this.idleTimer?.cancel();
        this.idleTimer = timers.setTimeout(() => this.idleTimeout(), settings.limits.idleTimeoutMs);
        return;
      case 'cancel-idle-timer':
        this.idleTimer?.cancel();
        this.idleTimer = undefined;
        return;
      case 'arm-grace-timer':
        this.graceTimer?.cancel();
        this.graceTimer = timers.setTimeout(() => this.dispatch({ type: 'grace-expired' }), settings.limits.resumeGraceMs);
        return;
      case 'cancel-grace-timer':
        this.graceTimer?.cancel();
        this.graceTimer = undefined;
        return;
      case 'begin-drain':
        this.stream?.engine?.pushMarker('end', timers.now());
        return;
      case 'send-done':
        this.send(doneMessage(this.stream, effect.reason, Math.round(timers.now() - this.createdAtMs)));
        return;
      case 'send-error':
        this.host.metrics.sessionErrors.inc({ code: effect.code });
        this.send(errorMessage(new LivestemError(effect.code, effect.message)));
        this.host.logThrottle.log(this.log, 'info', remoteHost(this.connection?.remoteAddress), 'session error', { code: effect.code, detail: effect.message });
        return;
      case 'close-transport':
        this.connection?.close(effect.code, effect.reason);
        this.connection = undefined;
        this.flow.attach(undefined);
        return;
      case 'release':
        this.release(effect.outcome);
        return;
    }
  }

  private release(outcome: string): void {
    this.idleTimer?.cancel();
    this.graceTimer?.cancel();
    this.flow.stop();
    const p = this.stream;
    if (p) {
      // Kept and awaited by settled(); stop() cannot reject (engine errors arrive as `failed` events).
      this.stopping = p.stop();
      this.host.metrics.sessionsEnded.inc({ outcome });
      const { inputSamples, outputSamples } = p.ledger.progress;
      this.log.info('session ended', { outcome, inputSamples, outputSamples, lateFrames: p.latency.lateFrames });
    }
    this.host.released(this);
  }

  /**
   * Silence while reading is paused is not the client's: paused for output, the client stopped reading (a slow
   * consumer); paused for input or rate, the server has not read what it sent yet (wait for it).
   */
  private idleTimeout(): void {
    if (this.state.kind === 'streaming' && this.flow.paused && !this.flow.pausedForOutput) {
      this.dispatch({ type: 'client-message' }); // re-arms the idle timer
      return;
    }
    if (this.flow.pausedForOutput) {
      const buffered = this.connection?.bufferedBytes ?? 0;
      this.failCode('LIVESTEM_ERR_SLOW_CONSUMER', `client read no output for ${this.host.settings.limits.idleTimeoutMs} ms (${buffered} bytes unsent)`);
      return;
    }
    this.dispatch({ type: 'idle-timeout' });
  }

  private failCode(code: ErrorCode, message: string): void {
    this.dispatch({ type: 'fail', code, message });
  }

  private failWith(err: unknown): void {
    const error = toLivestemError(err);
    if (error.code === 'LIVESTEM_ERR_INTERNAL') this.log.error('internal error', { err });
    this.failCode(error.code, error.message);
  }

  // ---- start / control ----

  private start(message: UncheckedStartMessage): void {
    let stream: SessionStream;
    try {
      stream = SessionStream.forStart(message, this.host);
      const refused = this.host.admissionError();
      if (refused) throw refused;
    } catch (err) {
      this.reject(toLivestemError(err));
      return;
    }
    const { settings } = this.host;
    this.streamId = message.streamId;
    this.stream = stream;
    const lowWaterInputMs = settings.limits.maxBufferedInputMs / 4;
    stream.openEngine(this.host.engine, { maxFrameSamples: settings.maxFrameSamples, lowWaterInputMs }, (event) =>
      this.guard(() => this.onEngineEvent(event)),
    );
    // An engine that refuses the stream at once (in-thread) has already failed the session.
    if (isTerminal(this.state)) return;
    this.host.admitted(this);
    this.log.info('session started', {
      model: stream.manifest.name,
      streamId: message.streamId,
      inputRateHz: stream.audio.inputSampleRateHz,
      outputRateHz: stream.audio.outputSampleRateHz,
      channels: stream.audio.inputChannels,
      format: stream.audio.inputFormat,
      remote: this.connection?.remoteAddress,
    });
    this.dispatch({ type: 'start-accepted' });
  }

  private reject(error: LivestemError): void {
    this.host.metrics.sessionsRejected.inc({ reason: error.code });
    this.failWith(error);
  }

  private control(message: ParsedClientMessage): void {
    const p = this.stream!;
    switch (message.type) {
      case 'ping':
        this.send({ type: 'pong', ...(message.id !== undefined ? { id: message.id } : {}), serverTimeMs: Date.now() });
        return;
      case 'stats':
        this.send(
          statsMessage(this.identity(), p, {
            id: message.id,
            state: this.state.kind,
            sendBufferedBytes: this.connection?.bufferedBytes ?? 0,
            uptimeMs: Math.round(this.host.timers.now() - this.createdAtMs),
          }),
        );
        return;
      case 'configure': {
        const sampleOffset = p.configure({ outputs: message.outputs, vocalGain: message.vocalGain });
        this.send({ type: 'configured', sampleOffset, ...p.outputConfig });
        return;
      }
      case 'flush':
      case 'end':
        if (this.flushedForShutdown) return; // the server's own flush already ends the session
        if (this.state.kind !== 'streaming') break;
        if (message.type === 'flush') p.engine?.pushMarker('flush', this.host.timers.now());
        else this.dispatch({ type: 'end-requested' });
        return;
      case 'start':
      case 'resume':
        break;
    }
    this.failCode('LIVESTEM_ERR_BAD_MESSAGE', `${message.type} is not allowed now (${this.state.kind})`);
  }

  // ---- output policy ----

  private checkSendBuffer(): void {
    const { overLimitBytes } = this.flow.afterSend();
    if (overLimitBytes !== undefined) this.failCode('LIVESTEM_ERR_SLOW_CONSUMER', `${overLimitBytes} bytes of output unsent`);
  }

  // ---- messages ----

  private identity(): { id: string; resumeToken: string; streamId: string | undefined } {
    return { id: this.id, resumeToken: this.resumeToken, streamId: this.streamId };
  }

  /**
   * Sends while a connection is attached (effects run after the state changed, so `done`/`error` still go out). Every
   * reply counts against the send limit: a client that never reads cannot grow the queue with control replies.
   */
  private send(message: ServerMessage): void {
    if (!this.connection) return;
    this.connection.sendMessage(message);
    this.checkSendBuffer();
  }

  private sendResumed(): void {
    const p = this.stream!;
    this.send(resumedMessage(this.identity(), p, this.host.settings.limits, this.resumeFrom));
    // Output produced while detached went to the replay buffer only; live output follows it.
    for (const span of p.replay.replay(this.resumeFrom)) this.connection?.sendOutput(span, p.wire);
    this.checkSendBuffer();
    this.host.metrics.resumes.inc();
    this.log.info('session resumed', { fromSampleOffset: this.resumeFrom });
  }

  // ---- engine → session ----

  private onEngineEvent(event: EngineEvent): void {
    const p = this.stream;
    if (!p || isTerminal(this.state)) return;
    applyEngineEvent(event, p, {
      connection: this.state.kind === 'detached' ? undefined : this.connection,
      metrics: this.host.metrics,
      log: this.log,
      now: () => this.host.timers.now(),
      lowWaterInputMs: this.host.settings.limits.maxBufferedInputMs / 4,
      send: (message) => this.send(message),
      sent: () => this.checkSendBuffer(),
      drained: () => this.dispatch({ type: 'drained' }),
      fail: (code, message) => this.failCode(code, message),
      inputLow: () => this.flow.unpause('input'),
    });
  }
}
