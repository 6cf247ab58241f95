/**
 * Server configuration from command-line flags and environment variables (flags win), validated with zod.
 * `--help` prints every option with its env variable and default.
 */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { z } from 'zod';

interface OptionSpec {
  flag: string;
  env: string;
  help: string;
  kind: 'string' | 'int' | 'number' | 'bool';
}

const OPTIONS = {
  host: { flag: 'host', env: 'HOST', help: 'interface to listen on', kind: 'string' },
  port: { flag: 'port', env: 'PORT', help: 'TCP port (0 = any free port)', kind: 'int' },
  modelsDir: { flag: 'models-dir', env: 'LIVESTEM_MODELS_DIR', help: 'directory of <model>/{manifest.json,model.onnx}', kind: 'string' },
  defaultModel: { flag: 'default-model', env: 'LIVESTEM_DEFAULT_MODEL', help: 'model used when start names none', kind: 'string' },
  provider: { flag: 'provider', env: 'LIVESTEM_EXECUTION_PROVIDER', help: 'ONNX Runtime execution provider: cpu | cuda | auto (cuda, else cpu)', kind: 'string' },
  engineWorkers: {
    flag: 'engine-workers',
    env: 'LIVESTEM_ENGINE_WORKERS',
    help: 'engine worker threads (DSP + batched model calls, each loads every model); sessions go to the least-loaded one; 0 = run the engine on the I/O thread',
    kind: 'int',
  },
  ortThreads: { flag: 'ort-threads', env: 'LIVESTEM_ORT_THREADS', help: 'ONNX Runtime intra-op threads per model (per engine worker)', kind: 'int' },
  maxBatch: { flag: 'max-batch', env: 'LIVESTEM_MAX_BATCH', help: 'most streams stepped in one model call, per engine worker (1 = no batching)', kind: 'int' },
  batchWindowMs: { flag: 'batch-window-ms', env: 'LIVESTEM_BATCH_WINDOW_MS', help: 'longest a ready frame waits for other streams to join its batch (adds to every hop\'s latency)', kind: 'number' },
  maxSessions: { flag: 'max-sessions', env: 'LIVESTEM_MAX_SESSIONS', help: 'admission: most concurrent sessions, detached ones awaiting resume included (OVERLOADED beyond)', kind: 'int' },
  admission: { flag: 'admission', env: 'LIVESTEM_ADMISSION', help: 'admission control: latency (refuse new sessions when the measured headroom against --latency-budget-ms or --max-load is gone) | sessions (only --max-sessions)', kind: 'string' },
  latencyBudgetMs: { flag: 'latency-budget-ms', env: 'LIVESTEM_LATENCY_BUDGET_MS', help: 'per-hop server latency budget: admission refuses new sessions once the recent p99 hop latency, or the engine\'s busy time per hop with one more session, exceeds it', kind: 'number' },
  maxLoad: { flag: 'max-load', env: 'LIVESTEM_MAX_LOAD', help: 'admission: refuse a new session that would bring the engine load (metric livestem_engine_load, 0..1) above this', kind: 'number' },
  maxMessageBytes: { flag: 'max-message-bytes', env: 'LIVESTEM_MAX_MESSAGE_BYTES', help: 'largest accepted WebSocket message, text or binary (PAYLOAD_TOO_LARGE beyond)', kind: 'int' },
  maxBufferedInputMs: { flag: 'max-buffered-input-ms', env: 'LIVESTEM_MAX_BUFFERED_INPUT_MS', help: 'audio received but not yet processed, per session: reading pauses at half; INPUT_OVERRUN when full (WebRTC: oldest input dropped)', kind: 'number' },
  maxSendBufferBytes: { flag: 'max-send-buffer-bytes', env: 'LIVESTEM_MAX_SEND_BUFFER_BYTES', help: 'unsent output (every message kind) per session before SLOW_CONSUMER; reading pauses at a quarter', kind: 'int' },
  maxControlMessagesPerSecond: { flag: 'max-control-messages-per-second', env: 'LIVESTEM_MAX_CONTROL_MESSAGES_PER_SECOND', help: 'text messages per connection per second (burst: one second) before RATE_LIMITED', kind: 'int' },
  maxAudioMessagesPerSecond: { flag: 'max-audio-messages-per-second', env: 'LIVESTEM_MAX_AUDIO_MESSAGES_PER_SECOND', help: 'binary messages per connection per second (burst: one second) before RATE_LIMITED', kind: 'int' },
  closeTimeoutMs: { flag: 'close-timeout-ms', env: 'LIVESTEM_CLOSE_TIMEOUT_MS', help: 'after the server closes a WebSocket, how long the peer has to answer before the socket is cut', kind: 'int' },
  idleTimeoutMs: { flag: 'idle-timeout-ms', env: 'LIVESTEM_IDLE_TIMEOUT_MS', help: 'fail a session (IDLE_TIMEOUT) that sends nothing for this long', kind: 'int' },
  startTimeoutMs: { flag: 'start-timeout-ms', env: 'LIVESTEM_START_TIMEOUT_MS', help: 'time a new connection has to send start/resume (IDLE_TIMEOUT)', kind: 'int' },
  resumeGraceMs: { flag: 'resume-grace-ms', env: 'LIVESTEM_RESUME_GRACE_MS', help: 'how long a dropped session waits for resume (0 = resume off)', kind: 'int' },
  resumeBufferMs: { flag: 'resume-buffer-ms', env: 'LIVESTEM_RESUME_BUFFER_MS', help: 'output retained per session for replay on resume (at least --max-buffered-input-ms)', kind: 'int' },
  lateFrameMs: { flag: 'late-frame-ms', env: 'LIVESTEM_LATE_FRAME_MS', help: 'a hop is late (stats.lateFrames, livestem_late_frames_total; still sent) when its output leaves this long after its input was due', kind: 'number' },
  heartbeatMs: { flag: 'heartbeat-ms', env: 'LIVESTEM_HEARTBEAT_MS', help: 'WebSocket ping interval; a missed pong drops the connection', kind: 'int' },
  drainTimeoutMs: { flag: 'drain-timeout-ms', env: 'LIVESTEM_DRAIN_TIMEOUT_MS', help: 'on SIGTERM, time sessions get to finish before they are flushed and closed', kind: 'int' },
  allowedOrigins: { flag: 'allowed-origins', env: 'LIVESTEM_ALLOWED_ORIGINS', help: 'comma-separated Origin allow-list for browser requests (empty = any; requests without Origin are not checked)', kind: 'string' },
  tokenTtlMs: { flag: 'token-ttl-ms', env: 'LIVESTEM_TOKEN_TTL_MS', help: 'lifetime of POST /v1/tokens tokens (a request may ask for less, down to 1000)', kind: 'int' },
  logLevel: { flag: 'log-level', env: 'LIVESTEM_LOG_LEVEL', help: 'debug | info | warn | error', kind: 'string' },
} as const satisfies Record<string, OptionSpec>;

export const configSchema = z
  .object({
    host: z.string().min(1).default('0.0.0.0'),
    port: z.number().int().min(0).max(65535).default(8080),
    modelsDir: z.string().min(1).default('models'),
    defaultModel: z.string().min(1).default('lstm'),
    provider: z.enum(['cpu', 'cuda', 'auto']).default('cpu'),
    /**
     * One per core but the I/O thread's: each worker is one event loop with one ORT intra-op thread. With one per
     * core the I/O thread contends with them, and each hop crosses two thread wake-ups that then wait for a core
     * (2 cores, 8 streams: server-added p99 ~29 ms with 2 workers, ~20–22 ms with 1).
     */
    engineWorkers: z.number().int().min(0).max(256).default(Math.max(1, availableParallelism() - 1)),
    ortThreads: z.number().int().min(1).max(64).default(1),
    maxBatch: z.number().int().min(1).max(4096).default(128),
    /**
     * 0: a frame waits only for the end of the current turn and any call already running (frames that arrive meanwhile
     * go in the next call together). A window adds its length to most hops for little batching: streams' frames
     * arrive staggered, and a timer of ≥ 1 ms fires late under load (2 cores, 8 streams: engine stage p50 2.7–3.5 ms
     * with 2 ms, 0.9–1.4 ms with 0; mean batch 2.0 → 1.4 frames).
     */
    batchWindowMs: z.number().min(0).max(100).default(0),
    maxSessions: z.number().int().min(1).default(128),
    admission: z.enum(['latency', 'sessions']).default('latency'),
    latencyBudgetMs: z.number().gt(0).max(1000).default(10),
    maxLoad: z.number().gt(0).max(1).default(0.85),
    maxMessageBytes: z.number().int().min(1024).max(64 * 1024 * 1024).default(1024 * 1024),
    maxBufferedInputMs: z.number().min(50).default(1000),
    maxSendBufferBytes: z.number().int().min(64 * 1024).default(8 * 1024 * 1024),
    maxControlMessagesPerSecond: z.number().int().min(1).max(100_000).default(100),
    maxAudioMessagesPerSecond: z.number().int().min(1).max(100_000).default(1000),
    closeTimeoutMs: z.number().int().min(10).max(60_000).default(2000),
    idleTimeoutMs: z.number().int().min(100).default(30_000),
    startTimeoutMs: z.number().int().min(100).default(10_000),
    resumeGraceMs: z.number().int().min(0).default(30_000),
    resumeBufferMs: z.number().int().min(0).default(3_000),
    lateFrameMs: z.number().min(0).default(40),
    heartbeatMs: z.number().int().min(100).default(15_000),
    drainTimeoutMs: z.number().int().min(0).default(30_000),
    allowedOrigins: z.array(z.string().min(1)).default([]),
    tokenTtlMs: z.number().int().min(1000).max(3_600_000).default(60_000),
    logLevel: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
    /** Only from the environment: a secret must not show up in `ps`. */
    apiKey: z.string().min(16, 'LIVESTEM_API_KEY must be at least 16 characters').optional(),
  })
  .refine((c) => c.resumeGraceMs === 0 || c.resumeBufferMs >= c.maxBufferedInputMs, {
    message: 'resumeBufferMs must be ≥ maxBufferedInputMs (a detached session keeps producing that much output)',
    path: ['resumeBufferMs'],
  });

export type ServerConfig = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export function helpText(): string {
  const lines = [
    'livestem — real-time vocals/accompaniment separation server',
    '',
    'usage: npm start -- [options]      (or: tsx server/main.ts [options])',
    '',
  ];
  const defaults = configSchema.parse({});
  const specs: readonly OptionSpec[] = Object.values(OPTIONS);
  const flagWidth = Math.max(...specs.map((spec) => spec.flag.length)) + 2;
  const envWidth = Math.max(...specs.map((spec) => spec.env.length));
  for (const [key, spec] of Object.entries(OPTIONS)) {
    const value = (defaults as Record<string, unknown>)[key];
    const shown = Array.isArray(value) ? value.join(',') || '(any)' : String(value ?? '');
    lines.push(`  ${`--${spec.flag}`.padEnd(flagWidth)} ${spec.env.padEnd(envWidth)} ${spec.help} [default: ${shown}]`);
  }
  lines.push(`  ${'--help'.padEnd(flagWidth)} ${''.padEnd(envWidth)} this text`);
  lines.push(
    '',
    'Flags win over environment variables. Durations are in ms, sizes in bytes.',
    '',
    'Environment only (no flag; secrets must not show up in `ps`):',
    '  LIVESTEM_API_KEY (secret, at least 16 characters): when set, requests need credentials:',
    '    streams (GET /v1/stream, POST /v1/webrtc): Authorization: Bearer <key or token>, or ?token=<token>',
    '      (a token from POST /v1/tokens, valid for one session; the key itself is never accepted in the URL);',
    '    GET /metrics, GET /v1/models, POST /v1/tokens: Authorization: Bearer <key> (the key itself, not a token);',
    '    GET /healthz, GET /readyz: open (probes; /readyz shows only its status without the key).',
    '  WebRTC / ICE (POST /v1/webrtc; read when the server starts):',
    `    ${'LIVESTEM_ICE_SERVERS'.padEnd(30)} comma-separated STUN/TURN URLs, e.g. turn:turn.example.com:3478 [default: none]`,
    `    ${'LIVESTEM_ICE_USERNAME'.padEnd(30)} TURN username, used for every URL above [default: none]`,
    `    ${'LIVESTEM_ICE_CREDENTIAL'.padEnd(30)} TURN credential (secret), used for every URL above [default: none]`,
    `    ${'LIVESTEM_ICE_HOST_ADDRESSES'.padEnd(30)} extra host candidates, comma-separated, e.g. the public IP behind 1:1 NAT; empty = none [default: 127.0.0.1]`,
    `    ${'LIVESTEM_ICE_PORT_RANGE'.padEnd(30)} UDP ports for media, min-max (e.g. 40000-40100; open them in the firewall; other values are ignored) [default: any]`,
    '',
    'Fixed (not settings):',
    '  WebRTC: a stream ends after 5 s without input RTP (stalled) or 15 s without any after the answer (no-media);',
    '    DataChannel stats every 1 s; the POST /v1/webrtc body must arrive within 10 s; ICE gathering for the answer',
    '    waits at most 3 s; output is sent as 20 ms Opus frames.',
    '',
    'Docs: docs/protocol.md (wire protocol, latency budget), docs/metrics.md (GET /metrics), client-sdk/README.md (SDK).',
  );
  return lines.join('\n');
}

function convert(raw: string, spec: OptionSpec, source: string): unknown {
  if (spec.kind === 'string') return raw;
  if (spec.kind === 'bool') return raw === 'true' || raw === '1';
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value)) throw new ConfigError(`${source}: "${raw}" is not a number`);
  return value;
}

/** Parses argv (without node and script) and env; throws ConfigError with a readable message. */
export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv): { help: true } | { help: false; config: ServerConfig } {
  const flagOptions: Record<string, { type: 'string' | 'boolean' }> = { help: { type: 'boolean' } };
  for (const spec of Object.values(OPTIONS)) flagOptions[spec.flag] = { type: 'string' };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...argv], options: flagOptions, allowPositionals: false, strict: true });
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  if (parsed.values['help'] === true) return { help: true };
  const input: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(OPTIONS)) {
    const fromFlag = parsed.values[spec.flag];
    const raw = typeof fromFlag === 'string' ? fromFlag : env[spec.env];
    if (raw === undefined || raw === '') continue;
    const source = typeof fromFlag === 'string' ? `--${spec.flag}` : spec.env;
    input[key] = key === 'allowedOrigins' ? raw.split(',').map((s) => s.trim()).filter(Boolean) : convert(raw, spec, source);
  }
  if (env['LIVESTEM_API_KEY']) input['apiKey'] = env['LIVESTEM_API_KEY'];
  return { help: false, config: validateConfig(input) };
}

export function validateConfig(input: ConfigInput | Record<string, unknown>): ServerConfig {
  const result = configSchema.safeParse(input);
  if (!result.success) {
    const issues = result.error.issues.map((i) => `${i.path.join('.') || 'config'}: ${i.message}`);
    throw new ConfigError(`invalid configuration: ${issues.join('; ')}`);
  }
  return result.data;
}
