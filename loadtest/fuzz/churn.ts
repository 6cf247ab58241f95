/**
 * Session churn: N sessions connect, stream ~1 s of audio and leave — half with `end` (waiting for `done`, which
 * must account for every sample), half by cutting the socket mid-stream — with bounded concurrency, in R rounds
 * against one server process. The server's memory (process.memoryUsage() after a forced GC, over IPC from the child)
 * is sampled cold, after a warm-up, and after every round, once every session has been released. Linear growth per
 * round means a leak; growth in the first round(s) that stops is high-water behaviour (allocator arenas, pools).
 */
import WebSocket from 'ws';
import { encodePcm } from '../../client-sdk/src/protocol/index.ts';
import type { MemoryReply } from './memory-probe.ts';
import { exportFuzzModel, ServerProcess, type ServerEnv } from './server-process.ts';

export interface ChurnOptions {
  sessions: number;
  rounds?: number;
  concurrency?: number;
  audioSeconds?: number;
  warmupSessions?: number;
  /** Extra server environment (e.g. MALLOC_ARENA_MAX) for experiments. */
  env?: ServerEnv;
  /** Another checkout's server/main.ts (compare memory behaviour across commits). */
  serverMain?: string | undefined;
  /** Also sample right after each round, while cut sessions are still detached (held for resume). */
  measureHeld?: boolean;
  log?: (line: string) => void;
}

export interface MemorySample {
  label: string;
  sessionsSoFar: number;
  /** Sessions the server still held (streaming, draining or detached) when sampled. */
  sessionsHeld: number;
  rssMB: number;
  heapUsedMB: number;
  externalMB: number;
  arrayBuffersMB: number;
  mallocedMB: number;
  /** Resident part of the V8 heap; RSS minus this minus external is native memory (allocator, ONNX Runtime). */
  v8PhysicalMB: number;
  rssAnonMB: number;
  rssFileMB: number;
  rssBrkHeapMB: number;
  /** Largest anonymous mappings, "size/resident" in MB. */
  topAnonMappings: string[];
  collected: boolean;
}

export interface RoundResult {
  round: number;
  ended: number;
  aborted: number;
  failed: number;
  problems: string[];
  durationS: number;
}

export interface ChurnSummary {
  tool: 'livestem-churn';
  sessionsPerRound: number;
  rounds: RoundResult[];
  memory: MemorySample[];
  /** After the last round minus after the warm-up. */
  growthMB: { rss: number; heapUsed: number; external: number; arrayBuffers: number };
  /** Growth in each round (MB), to tell a leak (constant) from a high-water mark (shrinking to ~0). */
  perRoundGrowthMB: Array<{ round: number; rss: number; heapUsed: number; external: number }>;
  /** With measureHeld: samples taken right after each round, before detached sessions expired. */
  heldMemory: MemorySample[];
  serverAlive: boolean;
}

export const CHURN_SERVER_ENV: ServerEnv = {
  LIVESTEM_MAX_SESSIONS: '1000',
  LIVESTEM_ADMISSION: 'sessions',
  LIVESTEM_RESUME_GRACE_MS: '500',
  LIVESTEM_LOG_LEVEL: 'warn',
};

const MB = 1024 * 1024;
const RATES_HZ = [44100, 48000, 16000, 22050];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function toSample(label: string, sessionsSoFar: number, sessionsHeld: number, m: MemoryReply): MemorySample {
  const mb = (b: number): number => Math.round((b / MB) * 10) / 10;
  return {
    label,
    sessionsSoFar,
    sessionsHeld,
    rssMB: mb(m.rssBytes),
    heapUsedMB: mb(m.heapUsedBytes),
    externalMB: mb(m.externalBytes),
    arrayBuffersMB: mb(m.arrayBuffersBytes),
    mallocedMB: mb(m.mallocedBytes),
    v8PhysicalMB: mb(m.v8PhysicalBytes),
    rssAnonMB: mb(m.rssAnonBytes),
    rssFileMB: mb(m.rssFileBytes),
    rssBrkHeapMB: mb(m.rssBrkHeapBytes),
    topAnonMappings: m.topAnonMappings.map((x) => `${mb(x.sizeKb * 1024)}/${mb(x.rssKb * 1024)}`),
    collected: m.collected,
  };
}

/** One session: start, ~audioSeconds of audio at 4× real time in 20 ms chunks, then end (+done) or a cut. */
async function oneSession(url: string, i: number, audioSeconds: number): Promise<{ ok: boolean; problem?: string; aborted: boolean }> {
  const rate = RATES_HZ[i % RATES_HZ.length]!;
  const channels = i % 3 === 0 ? 1 : 2;
  const format = i % 4 < 2 ? 's16le' : 'f32le';
  const abort = i % 2 === 1;
  const chunk = Math.round(rate / 50);
  const chunks = Math.round((audioSeconds * rate) / chunk);
  const planar = Array.from({ length: channels }, () => Float32Array.from({ length: chunk }, (_, k) => 0.3 * Math.sin(k / 7 + i)));
  const bytes = encodePcm(planar, format);
  const ws = new WebSocket(url, { perMessageDeflate: false });
  const texts: Array<Record<string, unknown>> = [];
  let closeCode: number | undefined;
  const closed = new Promise<void>((resolve) => ws.on('close', (code) => ((closeCode = code), resolve())));
  ws.on('error', () => undefined);
  ws.on('message', (data, isBinary) => {
    if (!isBinary) texts.push(JSON.parse(String(data)) as Record<string, unknown>);
  });
  const waitFor = async (type: string, ms: number): Promise<boolean> => {
    const deadline = Date.now() + ms;
    while (!texts.some((m) => m['type'] === type || m['type'] === 'error') && closeCode === undefined && Date.now() < deadline) await sleep(5);
    return texts.some((m) => m['type'] === type);
  };
  await new Promise<void>((resolve) => (ws.once('open', () => resolve()), ws.once('close', () => resolve())));
  if (ws.readyState !== WebSocket.OPEN) return { ok: false, problem: `connect failed (${closeCode})`, aborted: abort };
  ws.send(JSON.stringify({ type: 'start', sampleRateHz: rate, channels, format }));
  if (!(await waitFor('ready', 10_000))) return { ok: false, problem: `no ready: ${JSON.stringify(texts[0] ?? closeCode)}`, aborted: abort };
  const cutAt = abort ? Math.floor(chunks * (0.3 + 0.4 * ((i * 7919) % 100) / 100)) : chunks;
  for (let k = 0; k < cutAt; k++) {
    ws.send(bytes);
    if (k % 4 === 3) await sleep(20); // 4 chunks (80 ms of audio) per 20 ms: 4× real time
  }
  if (abort) {
    ws.terminate();
    return { ok: true, aborted: true };
  }
  ws.send(JSON.stringify({ type: 'end' }));
  const gotDone = await waitFor('done', 20_000);
  await Promise.race([closed, sleep(5000)]);
  const done = texts.find((m) => m['type'] === 'done');
  if (!gotDone || !done) return { ok: false, problem: `no done: ${JSON.stringify(texts.find((m) => m['type'] === 'error') ?? closeCode)}`, aborted: false };
  if (done['inputSamples'] !== chunks * chunk || done['outputSamples'] !== chunks * chunk) {
    return { ok: false, problem: `done in/out ${String(done['inputSamples'])}/${String(done['outputSamples'])}, sent ${chunks * chunk}`, aborted: false };
  }
  return { ok: true, aborted: false };
}

async function runRound(url: string, first: number, count: number, concurrency: number, audioSeconds: number, round: number): Promise<RoundResult> {
  const t0 = Date.now();
  const result: RoundResult = { round, ended: 0, aborted: 0, failed: 0, problems: [], durationS: 0 };
  let next = first;
  const worker = async (): Promise<void> => {
    while (next < first + count) {
      const r = await oneSession(url, next++, audioSeconds);
      if (!r.ok) {
        result.failed++;
        if (result.problems.length < 10 && r.problem) result.problems.push(r.problem);
      } else if (r.aborted) result.aborted++;
      else result.ended++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, () => worker()));
  result.durationS = (Date.now() - t0) / 1000;
  return result;
}

async function heldSessions(httpUrl: string): Promise<number> {
  try {
    const body = (await (await fetch(`${httpUrl}/readyz`)).json()) as { sessions?: number };
    return body.sessions ?? -1;
  } catch {
    return -1;
  }
}

/** Waits until the server holds no session (detached ones expire after the resume grace). */
async function settled(httpUrl: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && (await heldSessions(httpUrl)) !== 0) await sleep(200);
}

export async function runChurn(o: ChurnOptions): Promise<ChurnSummary> {
  const log = o.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const rounds = o.rounds ?? 2;
  const concurrency = o.concurrency ?? 16;
  const audioSeconds = o.audioSeconds ?? 1;
  const model = await exportFuzzModel();
  const server = await ServerProcess.start(model.modelsDir, { ...CHURN_SERVER_ENV, ...o.env }, { mainPath: o.serverMain });
  const memory: MemorySample[] = [];
  const results: RoundResult[] = [];
  let alive = false;
  const graceMs = Number(o.env?.['LIVESTEM_RESUME_GRACE_MS'] ?? CHURN_SERVER_ENV['LIVESTEM_RESUME_GRACE_MS']);
  const sample = async (label: string, sessionsSoFar: number, settle = true): Promise<MemorySample> => {
    if (settle) await settled(server.httpUrl, graceMs + 15_000);
    await sleep(300); // let closed sockets and finished ORT runs release their buffers before the GC
    const s = toSample(label, sessionsSoFar, await heldSessions(server.httpUrl), await server.memory());
    if (settle) memory.push(s);
    log(
      `churn: ${label.padEnd(14)} rss ${s.rssMB} MB (anon ${s.rssAnonMB} of which malloc brk heap ${s.rssBrkHeapMB}, file ${s.rssFileMB}; V8 heap resident ${s.v8PhysicalMB}), ` +
        `heapUsed ${s.heapUsedMB} MB, external ${s.externalMB} MB (arrayBuffers ${s.arrayBuffersMB} MB), ${s.sessionsHeld} sessions held`,
    );
    return s;
  };
  const held: MemorySample[] = [];
  try {
    await sample('cold', 0);
    const warm = o.warmupSessions ?? 32;
    results.push(await runRound(server.streamUrl, 0, warm, concurrency, audioSeconds, 0));
    await sample('after warm-up', warm);
    let done = warm;
    for (let r = 1; r <= rounds; r++) {
      const res = await runRound(server.streamUrl, done, o.sessions, concurrency, audioSeconds, r);
      results.push(res);
      done += o.sessions;
      log(`churn: round ${r}: ${res.ended} ended, ${res.aborted} cut, ${res.failed} failed in ${res.durationS.toFixed(1)} s${res.problems.length ? ` (${res.problems[0]})` : ''}`);
      if (o.measureHeld) held.push(await sample(`round ${r}, held`, done, false));
      await sample(`after round ${r}`, done);
    }
  } finally {
    alive = server.alive;
    await server.stop('SIGKILL', 5000);
    await model.cleanup();
  }
  const warmSample = memory[1] ?? memory[0]!;
  const last = memory.at(-1)!;
  const perRound = memory.slice(2).map((m, k) => {
    const prev = memory[k + 1]!;
    return { round: k + 1, rss: round1(m.rssMB - prev.rssMB), heapUsed: round1(m.heapUsedMB - prev.heapUsedMB), external: round1(m.externalMB - prev.externalMB) };
  });
  return {
    tool: 'livestem-churn',
    sessionsPerRound: o.sessions,
    rounds: results,
    memory,
    growthMB: {
      rss: round1(last.rssMB - warmSample.rssMB),
      heapUsed: round1(last.heapUsedMB - warmSample.heapUsedMB),
      external: round1(last.externalMB - warmSample.externalMB),
      arrayBuffers: round1(last.arrayBuffersMB - warmSample.arrayBuffersMB),
    },
    perRoundGrowthMB: perRound,
    heldMemory: held,
    serverAlive: alive,
  };
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}
