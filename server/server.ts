/**
 * Assembles a running livestem server from a validated config: models (one ORT session + one batcher each), the
 * session registry, HTTP routes and the WebSocket transport on one HTTP server. main.ts adds the process concerns
 * (CLI, signals, printing); tests call `startServer` directly with port 0.
 *
 * Other transports plug in through `plugins`: each gets the server context (registry entry point, access policy,
 * metrics, logger) and may claim HTTP requests the core routes do not know.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { AccessPolicy } from './auth/access-policy.ts';
import type { ServerConfig } from './config.ts';
import { Batcher, realTimers } from './inference/batcher.ts';
import { ModelRegistry, type LoadedModel } from './inference/model-registry.ts';
import { createLogger, type Logger } from './log.ts';
import { Metrics } from './metrics/metrics.ts';
import { SUPPORTED_SAMPLE_RATES_HZ } from '../client-sdk/src/protocol/index.ts';
import { INPUT_SAMPLE_LIMIT } from './session/input-clamp.ts';
import { warmRatePlans } from './pipeline/rate-plan.ts';
import { remoteHost, type Connection, type ConnectionHandler } from './session/connection.ts';
import { LoadMonitor } from './session/load-monitor.ts';
import { SessionRegistry } from './session/session-registry.ts';
import type { StreamModel } from './session/session.ts';
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

export interface ServedModel {
  loaded: LoadedModel;
  batcher: Batcher;
}

export interface LivestemServer {
  readonly port: number;
  /** ws://host:port/v1/stream */
  readonly streamUrl: string;
  readonly httpUrl: string;
  readonly registry: SessionRegistry;
  readonly metrics: Metrics;
  readonly models: ServedModel[];
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
  const registryOfModels = await ModelRegistry.load(config.modelsDir, config.defaultModel, {
    provider: config.provider,
    intraOpThreads: config.ortThreads,
  });
  const served = new Map<string, ServedModel>();
  for (const loaded of registryOfModels.list()) {
    const name = loaded.name;
    const batcher = new Batcher(
      loaded.runtime,
      { maxBatch: config.maxBatch, windowMs: config.batchWindowMs },
      {
        onBatch: (size, runMs, maxWaitMs) => {
          metrics.batchSize.observe({ model: name }, size);
          metrics.inferenceSeconds.observe({ model: name }, runMs / 1000);
          metrics.batchWaitSeconds.observe({ model: name }, maxWaitMs / 1000);
        },
      },
    );
    served.set(name, { loaded, batcher });
    warmRatePlans(SUPPORTED_SAMPLE_RATES_HZ, loaded.manifest.sampleRateHz, loaded.manifest.stft.nFft - loaded.manifest.stft.hopSamples);
    log.info('model loaded', {
      model: name,
      arch: loaded.manifest.arch,
      executionProvider: loaded.runtime.provider,
      ...(loaded.runtime.fallbackReason ? { cudaUnavailable: loaded.runtime.fallbackReason } : {}),
      sampleRateHz: loaded.manifest.sampleRateHz,
      nFft: loaded.manifest.stft.nFft,
      hopSamples: loaded.manifest.stft.hopSamples,
      parameters: loaded.manifest.parameters,
    });
  }

  const load = new LoadMonitor(() => [...served.values()].reduce((ms, m) => ms + m.batcher.busyTimeMs, 0));
  load.start();
  const streamModels = new Map<string, StreamModel>(
    [...served.values()].map((m) => [m.loaded.name, { manifest: m.loaded.manifest, createStream: () => m.batcher.createStream() }]),
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
    maxLoad: config.maxLoad,
    metrics,
    log,
    timers: realTimers,
    models: { get: (name) => streamModels.get(name), defaultModel: config.defaultModel },
    load: () => load.load,
  });
  metrics.setCollector(() => {
    for (const [name, m] of served) metrics.queueDepth.set({ model: name }, m.batcher.queueDepth);
    metrics.bufferedInputSeconds.set(registry.sessions().reduce((s, x) => s + x.bufferedInputSeconds, 0));
    metrics.engineLoad.set(load.load);
  });

  const access = new AccessPolicy({ apiKey: config.apiKey, allowedOrigins: config.allowedOrigins });
  const context: ServerContext = { config, log, metrics, access, openSession: (connection) => registry.open(connection) };
  const plugins = (options.plugins ?? []).map((make) => make(context));
  const modelListing = (): ModelListing[] =>
    [...served.values()].map(({ loaded: { manifest: m } }) => ({
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
  await listen(http, config.port, config.host);
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
      await Promise.all([...served.values()].map((m) => m.batcher.idle()));
      await registryOfModels.close();
      registry.logThrottle.flush({ all: true });
    })());

  return {
    port,
    streamUrl: `ws://${shownHost}:${port}${STREAM_PATH}`,
    httpUrl: `http://${shownHost}:${port}`,
    registry,
    metrics,
    models: [...served.values()],
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
