/**
 * The server under test as a child process: the real CLI (`node --import tsx server/main.ts`), so that a crash, an
 * exit code, an uncaught exception on stderr or a hang is observable from outside instead of taking the fuzzer down
 * with it. A preload (memory-probe.ts) answers memory queries over the IPC channel; with `--expose-gc` it collects
 * first, which is what the churn measurement needs.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exportRandomModel } from '../../training/export/random-model.ts';
import type { MemoryReply } from './memory-probe.ts';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = fileURLToPath(new URL('../../server/main.ts', import.meta.url));
const PROBE = new URL('./memory-probe.ts', import.meta.url).href;
const TAIL_LINES = 60;

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  atMs: number;
}

export interface ModelDir {
  modelsDir: string;
  cleanup(): Promise<void>;
}

/** A random small LSTM exported as models/lstm in a temp dir (what test/helpers/server-harness.ts does). */
export async function exportFuzzModel(seed = 7): Promise<ModelDir> {
  const modelsDir = await mkdtemp(join(tmpdir(), 'livestem-fuzz-models-'));
  await exportRandomModel({ arch: 'lstm', name: 'lstm', seed }, join(modelsDir, 'lstm'));
  return { modelsDir, cleanup: () => rm(modelsDir, { recursive: true, force: true }) };
}

/** Server settings as LIVESTEM_* environment variables: a server that does not know one ignores it (flags would fail). */
export type ServerEnv = Record<string, string>;

export class ServerProcess {
  readonly stderrTail: string[] = [];
  /** stdout log lines with level error (internal errors the server caught and logged). */
  readonly errorLogs: string[] = [];
  /** Log lines per `msg` (e.g. "heartbeat missed, dropping connection"), to explain outcomes from the server side. */
  readonly logMessages = new Map<string, number>();
  logLines = 0;
  logBytes = 0;
  maxLogLineBytes = 0;
  exit: ExitInfo | undefined;
  port = 0;
  private readonly exitWaiters: Array<(info: ExitInfo) => void> = [];
  private readonly memoryWaiters = new Map<number, (reply: MemoryReply) => void>();
  private nextMemoryId = 1;
  private stopping = false;

  private constructor(private readonly child: ChildProcess) {}

  /**
   * Starts the CLI on a free port and resolves once it prints where it listens (rejects if it exits first).
   * `mainPath` runs another checkout's server/main.ts (e.g. an older commit, to see which bugs the fuzzer finds there).
   */
  static async start(modelsDir: string, env: ServerEnv, options: { mainPath?: string | undefined; startTimeoutMs?: number } = {}): Promise<ServerProcess> {
    const startTimeoutMs = options.startTimeoutMs ?? 60_000;
    const main = options.mainPath ?? MAIN;
    const child = fork(main, ['--host', '127.0.0.1', '--port', '0', '--models-dir', modelsDir], {
      cwd: options.mainPath ? dirname(dirname(options.mainPath)) : REPO_ROOT,
      execArgv: ['--expose-gc', '--import', 'tsx', '--import', PROBE],
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const server = new ServerProcess(child);
    const ready = new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`server did not start within ${startTimeoutMs} ms`)), startTimeoutMs);
      server.onStderrLine = (line) => {
        const m = /locally ws:\/\/[^:]+:(\d+)\//.exec(line);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      };
      server.whenExited().then((info) => {
        clearTimeout(timer);
        reject(new Error(`server exited during start (code ${info.code}, signal ${info.signal}):\n${server.stderrTail.join('\n')}`));
      }, reject);
    });
    server.wire();
    server.port = await ready;
    return server;
  }

  private onStderrLine: (line: string) => void = () => {};

  private wire(): void {
    lines(this.child.stderr!, (line) => {
      this.stderrTail.push(line);
      if (this.stderrTail.length > TAIL_LINES) this.stderrTail.shift();
      this.onStderrLine(line);
    });
    lines(this.child.stdout!, (line) => {
      this.logLines++;
      const bytes = Buffer.byteLength(line);
      this.logBytes += bytes + 1;
      if (bytes > this.maxLogLineBytes) this.maxLogLineBytes = bytes;
      // substring tests, not JSON.parse: thousands of lines per second must cost the fuzzer nothing
      if (line.includes('"level":"error"') && this.errorLogs.length < 50) this.errorLogs.push(line.slice(0, 2000));
      const msg = /"msg":"([^"]{1,80})"/.exec(line)?.[1];
      if (msg !== undefined && (this.logMessages.size < 200 || this.logMessages.has(msg))) this.logMessages.set(msg, (this.logMessages.get(msg) ?? 0) + 1);
    });
    this.child.on('message', (msg: unknown) => {
      const reply = msg as Partial<MemoryReply>;
      if (reply.type !== 'memory' || typeof reply.id !== 'number') return;
      this.memoryWaiters.get(reply.id)?.(reply as MemoryReply);
      this.memoryWaiters.delete(reply.id);
    });
    this.child.on('exit', (code, signal) => {
      this.exit = { code, signal, atMs: Date.now() };
      for (const w of this.exitWaiters.splice(0)) w(this.exit);
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get httpUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get streamUrl(): string {
    return `ws://127.0.0.1:${this.port}/v1/stream`;
  }

  get alive(): boolean {
    return this.exit === undefined;
  }

  /** True when the process ended without being asked to (a crash, whatever the exit code). */
  get crashed(): boolean {
    return this.exit !== undefined && !this.stopping;
  }

  whenExited(): Promise<ExitInfo> {
    if (this.exit) return Promise.resolve(this.exit);
    return new Promise((resolve) => this.exitWaiters.push(resolve));
  }

  /** process.memoryUsage() of the server after a forced GC (the child runs with --expose-gc). */
  memory(timeoutMs = 10_000): Promise<MemoryReply> {
    const id = this.nextMemoryId++;
    return new Promise((resolve, reject) => {
      if (!this.alive) return reject(new Error('server is not running'));
      const timer = setTimeout(() => {
        this.memoryWaiters.delete(id);
        reject(new Error('memory query timed out'));
      }, timeoutMs);
      this.memoryWaiters.set(id, (reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
      this.child.send({ type: 'memory', id, gc: true });
    });
  }

  /** Sends `signal` (graceful: SIGTERM drains) and waits up to `timeoutMs`, then SIGKILLs. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 15_000): Promise<ExitInfo & { killed: boolean }> {
    if (this.exit) return { ...this.exit, killed: false };
    this.stopping = true;
    this.child.kill(signal);
    const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), timeoutMs).unref());
    const result = await Promise.race([this.whenExited(), timer]);
    if (result !== 'timeout') return { ...result, killed: false };
    this.child.kill('SIGKILL');
    return { ...(await this.whenExited()), killed: true };
  }
}

function lines(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let rest = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    rest += chunk;
    let nl: number;
    while ((nl = rest.indexOf('\n')) >= 0) {
      onLine(rest.slice(0, nl));
      rest = rest.slice(nl + 1);
    }
  });
  stream.on('end', () => {
    if (rest) onLine(rest);
  });
}

/** GET /healthz: the status and how long it took, or the error (refused, reset, timeout). */
export function healthz(httpUrl: string, timeoutMs = 5000): Promise<{ ok: boolean; status: number; ms: number; error?: string }> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const req = request(`${httpUrl}/healthz`, { agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve({ ok: res.statusCode === 200, status: res.statusCode ?? 0, ms: performance.now() - t0 }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err: Error & { code?: string }) => resolve({ ok: false, status: 0, ms: performance.now() - t0, error: err.code ?? err.message }));
    req.end();
  });
}
