/**
 * One fuzz run: per phase, a server (a child process running the real CLI, or the --url one), a canary streaming
 * in real time, a /healthz watchdog, and C workers drawing cases by index until the phase's message budget is
 * spent. A crash is recorded with the cases in flight, the server is restarted, and those cases are replayed one by
 * one against a fresh server to isolate the one that kills it (its variant is then quarantined so the run can go
 * on finding other bugs). Each own-server phase ends with a graceful-shutdown check (SIGTERM while canaries stream).
 */
import { Canary, synthSong, type CanaryResult } from './canary.ts';
import { runCase, type RunTarget } from './case-runner.ts';
import { describeCase, FUZZ_API_KEY, FUZZ_GOOD_ORIGIN, type Category, type FuzzCase, type Phase } from './cases.ts';
import { generateCase, variantKey } from './generate.ts';
import { connectionCounter } from './raw-ws.ts';
import { formatReport, Tally, type CrashRecord, type FuzzSummary, type ShutdownRecord, type StallRecord } from './report.ts';
import { floodCheck, type FloodCheckResult } from './flood-check.ts';
import { exportFuzzModel, healthz, ServerProcess, type ServerEnv } from './server-process.ts';
import type { Song } from '../song.ts';

export interface FuzzOptions {
  messages: number;
  seed: number;
  connections: number;
  /** An already running server (ws://host:port/…); default: start our own, twice (open, then auth). */
  url?: string | undefined;
  /** The --url server's API key, if it has one. */
  apiKey?: string | undefined;
  /** An Origin in the --url server's allow-list (without it, Origin refusals are not expected there). */
  allowedOrigin?: string | undefined;
  maxMessageBytes?: number;
  maxSendBufferBytes?: number;
  maxCrashes?: number;
  answerTimeoutMs?: number;
  /** GET /healthz slower than this (beyond our own event-loop lag) is an event-loop stall. */
  stallMs?: number;
  shutdownCheck?: boolean;
  /** The serial never-reading flood measured on the server's memory (own server only). */
  floodCheck?: boolean;
  song?: Song | undefined;
  only?: Category[] | undefined;
  /** Count cases outside their documented outcomes as warnings only. */
  lenient?: boolean;
  /** Another checkout's server/main.ts to run instead of this one's. */
  serverMain?: string | undefined;
  /** Overrides of FUZZ_SERVER_ENV for our own server (e.g. a longer heartbeat). */
  serverEnv?: ServerEnv;
  /** Run only these case indices (from a report's `#N phase/…`), one at a time, in `replayPhase`. */
  replay?: number[] | undefined;
  replayPhase?: Phase | undefined;
  log?: (line: string) => void;
}

/** Small limits so that floods, never-reading clients and idle sockets resolve within a case's timeout. */
export const FUZZ_SERVER_ENV: ServerEnv = {
  LIVESTEM_MAX_SESSIONS: '2000',
  LIVESTEM_ADMISSION: 'sessions',
  LIVESTEM_MAX_SEND_BUFFER_BYTES: String(256 * 1024),
  LIVESTEM_IDLE_TIMEOUT_MS: '4000',
  LIVESTEM_START_TIMEOUT_MS: '2000',
  LIVESTEM_RESUME_GRACE_MS: '1500',
  LIVESTEM_HEARTBEAT_MS: '3000',
  LIVESTEM_DRAIN_TIMEOUT_MS: '2000',
  LIVESTEM_CLOSE_TIMEOUT_MS: '1000',
  LIVESTEM_LOG_LEVEL: 'info',
};

const AUTH_ENV: ServerEnv = { LIVESTEM_API_KEY: FUZZ_API_KEY, LIVESTEM_ALLOWED_ORIGINS: FUZZ_GOOD_ORIGIN };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** Outcomes a dying server causes in whatever case is in flight. */
const CRASHY = /^(refused|reset|eof|no-response|timeout)/;

export async function runFuzz(o: FuzzOptions): Promise<FuzzSummary> {
  const log = o.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const t0 = Date.now();
  const maxMessageBytes = o.maxMessageBytes ?? 1024 * 1024;
  const answerTimeoutMs = o.answerTimeoutMs ?? 10_000;
  const stallMs = o.stallMs ?? 2500;
  const maxCrashes = o.maxCrashes ?? 5;
  const tally = new Tally();
  const crashes: CrashRecord[] = [];
  const stalls: StallRecord[] = [];
  const canaries: CanaryResult[] = [];
  const shutdowns: ShutdownRecord[] = [];
  const floodChecks: Array<FloodCheckResult & { phase: Phase }> = [];
  const quarantined = new Set<string>();
  let maxHealthzMs = 0;
  let healthzAtEnd = 'not checked';
  let aliveAtEnd = true;
  const errorLogs: string[] = [];
  let maxLogLineBytes = 0;
  let logBytes = 0;
  const logMessages: Record<string, number> = {};
  const external = o.url !== undefined ? new URL(o.url) : undefined;
  const replay = o.replay && o.replay.length > 0 ? [...o.replay] : undefined;
  const phases: Phase[] = replay ? [o.replayPhase ?? 'open'] : external ? [o.apiKey ? 'auth' : 'open'] : ['open', 'auth'];
  const model = external ? undefined : await exportFuzzModel();
  let index = 0;

  try {
    for (const [p, phase] of phases.entries()) {
      const budget = phases.length === 1 ? o.messages : Math.round(o.messages * (p === 0 ? 0.6 : 0.4));
      const env = { ...FUZZ_SERVER_ENV, ...o.serverEnv, ...(phase === 'auth' ? AUTH_ENV : {}) };
      const startServer = (): Promise<ServerProcess> => ServerProcess.start(model!.modelsDir, env, { mainPath: o.serverMain });
      let proc = external ? undefined : await startServer();
      let epoch = 0;
      const host = external?.hostname ?? '127.0.0.1';
      const port = (): number => proc?.port ?? Number(external!.port || 80);
      const httpUrl = (): string => `http://${host}:${port()}`;
      const apiKey = phase === 'auth' ? (o.apiKey ?? FUZZ_API_KEY) : undefined;
      const origins = external
        ? { goodOrigin: o.allowedOrigin ?? FUZZ_GOOD_ORIGIN, originsEnforced: o.allowedOrigin !== undefined }
        : { goodOrigin: FUZZ_GOOD_ORIGIN, originsEnforced: phase === 'auth' };
      const target = (): RunTarget => ({ host, port: port(), apiKey, maxSendBufferBytes: o.maxSendBufferBytes ?? (external ? 8 * 1024 * 1024 : 256 * 1024), answerTimeoutMs });
      const song = o.song ?? synthSong(await modelRate(httpUrl(), apiKey));
      const newCanary = (label: string, onDraining: 'polite' | 'stubborn' = 'polite'): Canary =>
        new Canary({ label, url: `ws://${host}:${port()}/v1/stream`, headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {}, song, onDraining, startSample: index * 4410 });
      let canary = newCanary(`${phase}-canary-0`);
      await canary.started();
      log(`fuzz: phase ${phase}: server ${httpUrl()}${proc ? ` (pid ${proc.pid})` : ''}, budget ${budget} messages`);

      const inFlight = new Map<number, FuzzCase>();
      let sent = 0;
      let stopped = false;
      let recovering: Promise<void> | undefined;

      const onCrash = async (dead: ServerProcess): Promise<void> => {
        const suspects = [...inFlight.values()].sort((a, b) => a.index - b.index);
        const record: CrashRecord = {
          phase,
          exitCode: dead.exit?.code ?? null,
          signal: dead.exit?.signal ?? null,
          stderrTail: [...dead.stderrTail],
          inFlight: suspects.map(describeCase),
          culprit: undefined,
          quarantined: undefined,
        };
        crashes.push(record);
        epoch++;
        log(`fuzz: SERVER CRASHED (exit ${record.exitCode}, ${record.signal ?? 'no signal'}) with ${suspects.length} cases in flight`);
        canaries.push(await canary.finish({ timeoutMs: 1000 }));
        collectLogs(dead);
        if (crashes.length >= maxCrashes) {
          stopped = true;
          return;
        }
        proc = await startServer();
        // Triage: replay the suspects alone; the one that kills a fresh server is the reproduction.
        for (const c of suspects.slice(0, 40)) {
          await runCase(c, target()).catch(() => undefined);
          await sleep(300);
          if (!proc.alive) {
            record.culprit = describeCase(c);
            record.quarantined = variantKey(c);
            quarantined.add(variantKey(c));
            log(`fuzz: crash reproduced alone by ${record.culprit}`);
            collectLogs(proc);
            proc = await startServer();
            break;
          }
        }
        watchExit(proc);
        canary = newCanary(`${phase}-canary-${epoch}`);
        await canary.started();
      };
      const watchExit = (w: ServerProcess): void => {
        void w.whenExited().then(() => {
          if (w.crashed && w === proc && !stopped) recovering = onCrash(w).finally(() => (recovering = undefined));
        });
      };
      const collectLogs = (w: ServerProcess): void => {
        errorLogs.push(...w.errorLogs.slice(0, Math.max(0, 50 - errorLogs.length)));
        maxLogLineBytes = Math.max(maxLogLineBytes, w.maxLogLineBytes);
        logBytes += w.logBytes;
        for (const [m, n] of w.logMessages) logMessages[m] = (logMessages[m] ?? 0) + n;
        w.logMessages.clear();
      };
      if (proc) watchExit(proc);

      const watchdog = startWatchdog(stallMs, () => (recovering || stopped ? undefined : httpUrl()), (ms, lag) => {
        maxHealthzMs = Math.max(maxHealthzMs, ms);
        if (ms > stallMs && lag < stallMs / 2) stalls.push({ phase, healthzMs: ms, ownLagMs: lag, inFlight: [...inFlight.values()].map(variantKey) });
      });

      const worker = async (): Promise<void> => {
        while ((replay ? replay.length > 0 : sent < budget) && !stopped) {
          if (recovering) {
            await recovering;
            continue;
          }
          const c = generateCase(replay ? replay.shift()! : index++, { seed: o.seed, phase, maxMessageBytes, only: o.only, apiKey: apiKey ?? FUZZ_API_KEY, ...origins });
          sent += c.messages;
          if (quarantined.has(variantKey(c))) {
            tally.skip(c);
            continue;
          }
          const startEpoch = epoch;
          inFlight.set(c.index, c);
          let r = await runCase(c, target()).catch((err: unknown) => ({ outcome: `runner-error:${(err as Error).message}`, violations: [], durationMs: 0 }));
          if (CRASHY.test(r.outcome) && proc) await sleep(150); // let the exit event land before judging
          inFlight.delete(c.index);
          const affected = epoch !== startEpoch || (proc !== undefined && !proc.alive) || recovering !== undefined;
          if (!affected && r.outcome.startsWith('runner-error')) r = { ...r, violations: [r.outcome] };
          const verdict = tally.record(c, r, affected);
          if (verdict === 'wrong') log(`fuzz: [wrong] ${r.outcome}${r.violations.length ? ` — ${r.violations[0]}` : ''} ← ${describeCase(c).slice(0, 300)}`);
        }
      };
      await Promise.all(Array.from({ length: replay ? 1 : o.connections }, () => worker()));
      while (recovering) await recovering;
      watchdog.stop();

      if (proc && proc.alive && !stopped && o.floodCheck !== false) {
        const headers = apiKey ? [`Authorization: Bearer ${apiKey}`] : [];
        const fc = await floodCheck(proc, headers, target().maxSendBufferBytes);
        floodChecks.push({ phase, ...fc });
        log(`fuzz: never-read flood (${phase}): ${fc.requests} stats requests, server live memory +${(fc.liveGrowthBytes / 1048576).toFixed(1)} MB, ${fc.serverReaction}${fc.problem ? ` — ${fc.problem}` : ''}`);
      }
      const health = stopped || !(proc?.alive ?? true) ? { ok: false, status: 0, ms: 0, error: 'server down' } : await healthz(httpUrl());
      healthzAtEnd = health.ok ? `200 in ${health.ms.toFixed(0)} ms` : `failed (${health.error ?? health.status})`;
      aliveAtEnd = health.ok && (proc?.alive ?? true);
      if (proc && proc.alive && o.shutdownCheck !== false) {
        shutdowns.push(await shutdownCheck(phase, proc, canary, newCanary));
      } else {
        if (!stopped) canaries.push(await canary.finish()); // after the last crash it was judged already
        if (proc) await proc.stop('SIGKILL', 5000);
      }
      if (proc) collectLogs(proc);
    }
  } finally {
    await model?.cleanup();
  }

  const summary: FuzzSummary = {
    tool: 'livestem-fuzz',
    seed: o.seed,
    messagesPlanned: o.messages,
    messagesSent: tally.messages,
    cases: tally.cases,
    connections: connectionCounter.count,
    durationS: (Date.now() - t0) / 1000,
    categories: tally.categories,
    findings: tally.allFindings(),
    crashes,
    stalls,
    maxHealthzMs,
    canaries,
    shutdowns,
    floodChecks,
    server: { aliveAtEnd, healthzAtEnd, errorLogs, maxLogLineBytes, logBytes, logMessages },
    failures: [],
    passed: false,
  };
  summary.failures = failuresOf(summary, o.lenient === true);
  summary.passed = summary.failures.length === 0;
  log(formatReport(summary));
  return summary;
}

function failuresOf(s: FuzzSummary, lenient: boolean): string[] {
  const f: string[] = [];
  const sum = (k: 'wrong' | 'unexpected'): number => Object.values(s.categories).reduce((n, c) => n + c[k], 0);
  if (s.crashes.length > 0) f.push(`${s.crashes.length} server crash(es)`);
  if (sum('wrong') > 0) f.push(`${sum('wrong')} wrong outcomes (5xx, INTERNAL, hang, violation)`);
  if (!lenient && sum('unexpected') > 0) f.push(`${sum('unexpected')} outcomes outside the documented ones`);
  const lost = s.canaries.filter((c) => !c.ok);
  if (lost.length > 0) f.push(`canary failed: ${lost.map((c) => `${c.label} (${c.problems[0] ?? ''})`).join(', ')}`);
  for (const sd of s.shutdowns) if (!sd.ok) f.push(`graceful shutdown (${sd.phase}): ${sd.problems.join('; ')}`);
  for (const fc of s.floodChecks) if (!fc.ok) f.push(`never-read flood (${fc.phase}): ${fc.problem ?? ''}`);
  if (s.stalls.length > 0) f.push(`${s.stalls.length} event-loop stalls (max /healthz ${s.maxHealthzMs.toFixed(0)} ms)`);
  if (!s.server.aliveAtEnd) f.push(`server not answering /healthz at the end (${s.server.healthzAtEnd})`);
  if (s.server.maxLogLineBytes > 64 * 1024) f.push(`log line of ${s.server.maxLogLineBytes} bytes (client input logged without bound)`);
  return f;
}

async function modelRate(httpUrl: string, apiKey: string | undefined): Promise<number> {
  try {
    const res = await fetch(`${httpUrl}/v1/models`, { headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {} });
    const body = (await res.json()) as { models?: Array<{ sampleRateHz: number; default: boolean }> };
    return body.models?.find((m) => m.default)?.sampleRateHz ?? 44100;
  } catch {
    return 44100; // not answering as expected: the default model's rate
  }
}

function startWatchdog(stallMs: number, url: () => string | undefined, onSample: (ms: number, ownLagMs: number) => void): { stop(): void } {
  const periodMs = 250;
  let last = performance.now();
  let busy = false;
  const timer = setInterval(() => {
    const now = performance.now();
    const lag = Math.max(0, now - last - periodMs);
    last = now;
    const u = url();
    if (busy || u === undefined) return;
    busy = true;
    void healthz(u, stallMs * 4).then((h) => {
      busy = false;
      if (h.ok) onSample(h.ms, lag);
    });
  }, periodMs);
  return { stop: () => clearInterval(timer) };
}

/** SIGTERM while a polite canary (ends on `draining`) and a stubborn one (streams on) are mid-stream. */
async function shutdownCheck(phase: Phase, proc: ServerProcess, polite: Canary, newCanary: (label: string, d: 'polite' | 'stubborn') => Canary): Promise<ShutdownRecord> {
  const stubborn = newCanary(`${phase}-shutdown-stubborn`, 'stubborn');
  await stubborn.started();
  await sleep(500);
  const t0 = performance.now();
  const exiting = proc.stop('SIGTERM', 20_000);
  const results = await Promise.all([polite.finish({ sendEnd: false, timeoutMs: 20_000 }), stubborn.finish({ sendEnd: false, timeoutMs: 20_000 })]);
  const exit = await exiting;
  const problems: string[] = [];
  if (exit.killed) problems.push('did not exit within 20 s of SIGTERM');
  else if (exit.code !== 0) problems.push(`exit code ${exit.code}${exit.signal ? ` (${exit.signal})` : ''}`);
  for (const r of results) {
    if (!r.sawDraining) problems.push(`${r.label}: no draining message`);
    if (!r.ok) problems.push(`${r.label}: ${r.problems.join(', ')}`);
  }
  return { phase, exitCode: exit.code, signal: exit.signal, killed: exit.killed, durationMs: performance.now() - t0, canaries: results, ok: problems.length === 0, problems };
}

export { formatReport };
