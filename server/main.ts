/**
 * Composition root of the livestem process: config from flags/env, the server, signal handling, and the line that
 * tells a human where to connect. Everything else lives in server.ts and below.
 */
import { ConfigError, helpText, loadConfig } from './config.ts';
import { demoPlugin } from './demo/demo-plugin.ts';
import { createLogger } from './log.ts';
import { startServer } from './server.ts';
import { webrtcPlugin } from './transport/webrtc/webrtc-plugin.ts';

/** Beyond the drain and close deadlines: time for model sessions and plugins to release. */
const EXIT_MARGIN_MS = 5000;

async function main(): Promise<number> {
  let loaded: ReturnType<typeof loadConfig>;
  try {
    loaded = loadConfig(process.argv.slice(2), process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`livestem: ${err.message}\n\n${helpText()}\n`);
      return 2;
    }
    throw err;
  }
  if (loaded.help) {
    process.stdout.write(helpText() + '\n');
    return 0;
  }
  const { config } = loaded;
  const log = createLogger({ level: config.logLevel });
  // WebRTC (WHIP-style POST /v1/webrtc) and the demo page + browser SDK at / ride on the same HTTP server.
  const server = await startServer(config, { log, plugins: [webrtcPlugin(), demoPlugin()] });
  log.info('listening', {
    stream: server.streamUrl,
    http: server.httpUrl,
    host: config.host,
    port: server.port,
    models: server.models.map((m) => m.manifest.name),
    engineWorkers: server.engine.workerCount,
    defaultModel: config.defaultModel,
    auth: config.apiKey ? 'api-key' : 'none',
  });
  process.stderr.write(
    `\nlivestem ready: stream ws://<host>:${server.port}/v1/stream (locally ${server.streamUrl}), ` +
      `WebRTC ${server.httpUrl}/v1/webrtc, demo ${server.httpUrl}/, health ${server.httpUrl}/healthz, ` +
      `metrics ${server.httpUrl}/metrics, protocol docs/protocol.md\n\n`,
  );

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) {
        log.warn('second signal: exiting now', { signal });
        resolve(1);
        return;
      }
      stopping = true;
      log.info('shutting down', { signal, drainTimeoutMs: config.drainTimeoutMs });
      // The drain is bounded by its own deadlines; this is the backstop that makes exit unconditional.
      const exitDeadlineMs = config.drainTimeoutMs + 2 * config.closeTimeoutMs + EXIT_MARGIN_MS;
      setTimeout(() => {
        log.error('shutdown did not finish in time: exiting anyway', { exitDeadlineMs });
        resolve(1);
      }, exitDeadlineMs).unref();
      server.drain(config.drainTimeoutMs).then(
        () => resolve(0),
        (err: unknown) => {
          log.error('drain failed', { err });
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`livestem: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
