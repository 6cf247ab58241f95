/**
 * Assembles a running livestem server from a validated config: the engine (worker threads that each load every
 * model and batch their sessions' model steps; or in-thread), the session registry, HTTP routes and the WebSocket
 * transport on one HTTP server. main.ts adds the process concerns
 * (CLI, signals, printing); tests call `startServer` directly with port 0.
 *
 * Other transports plug in through `plugins`: each gets the server context (registry entry point, access policy,
 * metrics, logger) and may claim HTTP requests the core routes do not know.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { AccessPolicy } from './auth/access-policy.ts';
import type { ServerConfig } from './config.ts';
import { realTimers } from './engine/batcher.ts';
import { createEngine, type ServedModel } from './engine/create-engine.ts';
import type { Engine } from './engine/engine.ts';
import type { ModelManifest } from './inference/model-manifest.ts';
import { createLogger, type Logger } from './log.ts';
import { Metrics } from './metrics/metrics.ts';
import { INPUT_SAMPLE_LIMIT } from './session/input-clamp.ts';
import { remoteHost, type Connection, type ConnectionHandler } from './session/connection.ts';
import { createAdmission } from './session/admission.ts';
import { LoadMonitor } from './session/load-monitor.ts';
import { SessionRegistry } from './session/session-registry.ts';
import { createHttpHandler, type ModelListing } from './transport/http/http-routes.ts';
import type { ControlRouter } from './transport/ws/ws-connection.ts';
import { STREAM_PATH, WsTransport } from './transport/ws/ws-transport.ts';

export interface ServerContext {
  config: ServerConfig;
  log: Logger;
  metrics: Metrics;
  access: AccessPolicy;
  /** Creates a session for a new connection of any transport. */
  openSession(connection: Connection): ConnectionHandler;
}

export interface ServerPlugin {
  /** Returns true when it handled the request. */
  handle?(req: IncomingMessage, res: ServerResponse): boolean;
  /** JSON text messages with these `type`s on an authenticated stream socket go to `answer`, not to the session. */
  control?: { types: readonly string[]; answer(text: string, remoteAddress: string): Promise<string> };
  close?(): Promise<void>;
}

export interface StartOptions {
  log?: Logger;
  plugins?: Array<(ctx: ServerContext) => ServerPlugin>;
}

export type { ServedModel } from './engine/create-engine.ts';

export interface LivestemServer {
  readonly port: number;
  /** ws://host:port/v1/stream */
  readonly streamUrl: string;
  readonly httpUrl: string;
  readonly registry: SessionRegistry;
  readonly metrics: Metrics;
  readonly models: ServedModel[];
  readonly engine: Engine;
  readonly access: AccessPolicy;
  /** Graceful: no new sessions, active ones get `deadlineMs` to finish, then are flushed and closed. */
  drain(deadlineMs: number): Promise<void>;
  /** Immediate: sessions fail with DRAINING, everything is released. Idempotent. */
  close(): Promise<void>;
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

export async function startServer(config: ServerConfig, options: StartOptions = {}): Promise<LivestemServer> {
  const log = options.log ?? createLogger({ level: config.logLevel });
  const metrics = new Metrics();
  const { engine, models: served } = await createEngine(config, metrics, log);
  for (const { manifest: m, executionProvider, fallbackReason } of served) {
    log.info('model loaded', {
      model: m.name,
      arch: m.arch,
      executionProvider,
      ...(fallbackReason ? { cudaUnavailable: fallbackReason } : {}),
      sampleRateHz: m.sampleRateHz,
      nFft: m.stft.nFft,
      hopSamples: m.stft.hopSamples,
      parameters: m.parameters,
      engineWorkers: engine.workerCount,
    });
  }
  // The registry (below) exists before the first sample (one interval after start).
  const load = new LoadMonitor(() => engine.busyTimeMs(), () => registry.activeCount);
  load.start();
  const manifests = new Map<string, ModelManifest>(served.map((m) => [m.manifest.name, m.manifest]));
  const admission = createAdmission(
    {
      mode: config.admission,
      budgetMs: config.latencyBudgetMs,
      maxLoad: config.maxLoad,
      // the tightest model sets the pace: every one of its streams needs a hop served per hop interval
      hopIntervalMs: Math.min(...served.map(({ manifest: m }) => (m.stft.hopSamples / m.sampleRateHz) * 1000)),
    },
    { metrics, load: () => ({ load: load.load, loadSessions: load.loadSessions }), now: () => realTimers.now() },
  );
  const registry = new SessionRegistry({
    settings: {
      limits: {
        maxMessageBytes: config.maxMessageBytes,
        maxBufferedInputMs: config.maxBufferedInputMs,
        idleTimeoutMs: config.idleTimeoutMs,
        startTimeoutMs: config.startTimeoutMs,
        resumeGraceMs: config.resumeGraceMs,
        resumeBufferMs: config.resumeBufferMs,
        maxSendBufferBytes: config.maxSendBufferBytes,
        maxControlMessagesPerSecond: config.maxControlMessagesPerSecond,
        maxAudioMessagesPerSecond: config.maxAudioMessagesPerSecond,
        inputSampleLimit: INPUT_SAMPLE_LIMIT,
      },
      lateFrameMs: config.lateFrameMs,
      maxFrameSamples: 8192,
    },
    maxSessions: config.maxSessions,
    metrics,
    log,
    timers: realTimers,
    engine,
    models: { get: (name) => manifests.get(name), defaultModel: config.defaultModel },
    admission,
  });
  metrics.setCollector(() => {
    for (const name of manifests.keys()) metrics.queueDepth.set({ model: name }, engine.queueDepth(name));
    metrics.bufferedInputSeconds.set(registry.sessions().reduce((s, x) => s + x.bufferedInputSeconds, 0));
    metrics.engineLoad.set(load.load);
    metrics.admissionHeadroomSeconds.set(admission(registry.activeCount).headroomMs / 1000);
  });

  const access = new AccessPolicy({ apiKey: config.apiKey, allowedOrigins: config.allowedOrigins });
  const context: ServerContext = { config, log, metrics, access, openSession: (connection) => registry.open(connection) };
  const plugins = (options.plugins ?? []).map((make) => make(context));
  const modelListing = (): ModelListing[] =>
    served.map(({ manifest: m }) => ({
      name: m.name,
      arch: m.arch,
      sampleRateHz: m.sampleRateHz,
      nFft: m.stft.nFft,
      hopSamples: m.stft.hopSamples,
      latencySamples: m.latencySamples,
      default: m.name === config.defaultModel,
    }));
  const routes = createHttpHandler({
    metrics,
    access,
    log,
    tokenTtlMs: config.tokenTtlMs,
    models: modelListing,
    notReadyReason: () => {
      if (registry.isDraining) return 'draining';
      const refused = registry.admissionError();
      return refused ? refused.message : undefined;
    },
    status: () => ({ sessions: registry.activeCount, maxSessions: config.maxSessions, load: Number(load.load.toFixed(3)) }),
  });
  const http = createServer((req, res) => {
    for (const plugin of plugins) if (plugin.handle?.(req, res)) return;
    routes(req, res);
  });
  // Every socket, upgraded or not, so shutdown can cut off peers that never finish a request or a close handshake.
  const sockets = new Set<Socket>();
  http.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  const ws = new WsTransport(http, {
    maxMessageBytes: config.maxMessageBytes,
    heartbeatMs: config.heartbeatMs,
    closeTimeoutMs: config.closeTimeoutMs,
    access,
    log,
    onConnection: (connection) => registry.open(connection),
    onRejected: (code, remoteAddress) => {
      metrics.sessionsRejected.inc({ reason: code });
      registry.logThrottle.log(log, 'info', remoteHost(remoteAddress), 'stream refused', { code, remote: remoteAddress });
    },
    control: controlRouter(plugins),
  });
  try {
    await listen(http, config.port, config.host);
  } catch (err) {
    // Worker threads would keep a process that failed to start alive.
    load.stop();
    await engine.close();
    throw err;
  }
  const port = (http.address() as AddressInfo).port;
  const shownHost = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      await registry.closeAll();
      const httpClosed = new Promise<void>((resolve) => http.close(() => resolve()));
      // Sessions already sent done/error and a close frame: give those handshakes a moment so the last frames arrive.
      await ws.close(config.closeTimeoutMs);
      // Whatever is still open now (a stalled request body, a half-open socket, a peer ignoring close) is cut off.
      for (const socket of sockets) socket.destroy();
      await Promise.all(plugins.map((p) => p.close?.()));
      await httpClosed;
      load.stop();
      await engine.close();
      registry.logThrottle.flush({ all: true });
    })());

  return {
    port,
    streamUrl: `ws://${shownHost}:${port}${STREAM_PATH}`,
    httpUrl: `http://${shownHost}:${port}`,
    registry,
    metrics,
    models: served,
    engine,
    access,
    async drain(deadlineMs) {
      log.info('draining', { sessions: registry.activeCount, deadlineMs });
      await registry.drain(deadlineMs);
      await close();
    },
    close,
  };
}

function controlRouter(plugins: ServerPlugin[]): ControlRouter | undefined {
  const byType = new Map<string, NonNullable<ServerPlugin['control']>>();
  for (const p of plugins) for (const type of p.control?.types ?? []) if (p.control) byType.set(type, p.control);
  if (byType.size === 0) return undefined;
  const types = [...byType.keys()];
  const handlerOf = (text: string): NonNullable<ServerPlugin['control']> | undefined => {
    // Every text message of every session passes here: parse only those that can name a claimed type.
    if (!types.some((t) => text.includes(t))) return undefined;
    let type: unknown;
    try {
      type = (JSON.parse(text) as { type?: unknown } | null)?.type;
    } catch {
      return undefined; // not JSON: the session answers with its own BAD_MESSAGE error
    }
    return typeof type === 'string' ? byType.get(type) : undefined;
  };
  return {
    claims: (text) => handlerOf(text) !== undefined,
    answer: (text, remoteAddress) => handlerOf(text)!.answer(text, remoteAddress),
  };
}
