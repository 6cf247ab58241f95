/**
 * `npm run loadtest -- --url ws://host:8080/v1/stream --streams 64 --duration 60 [--input song.wav] [--webrtc N]
 *  [--ramp 8:256:8] [--slo-p99-ms 40] [--out results/loadtest] [--soak [--capacity N] [--soak-hops 10000]]`
 * Credentials: the environment variable LIVESTEM_API_KEY (never a flag: argv shows in `ps` and in the report's command).
 * Exit status: 0 when done (and, with an SLO, every single step passed), 2 when an SLO was given and a non-ramp run
 * failed it or a soak missed a deadline (or lost a session or output), 1 on a usage or setup error.
 */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { OUTPUT_FRAMINGS, OUTPUT_KINDS, SAMPLE_FORMATS, type OutputFraming, type OutputKind, type SampleFormat } from '../client-sdk/src/protocol/index.ts';
import { connectSdk } from './clients/sdk-client.ts';
import { connectWebRtc } from './clients/webrtc-client.ts';
import { connectWebSocket } from './clients/ws-client.ts';
import { cpuLine, metricsUrlFor, stageQuantilesMs } from './metrics/scraper.ts';
import { judgeStep, parseRampSpec, rampOutcome, rampSteps, type RampSpec } from './ramp.ts';
import { generatorInfo, writeReport, type LoadReport } from './report.ts';
import { runStep, type StepProgress } from './run-step.ts';
import { DEFAULT_SOAK_HOPS, soakLine, soakStreams, summarizeSoak, type SoakStreamsSource } from './soak.ts';
import { loadSong, toWebRtcSong } from './song.ts';
import type { StepResult } from './step-result.ts';

/** The ramp a soak runs first when neither --streams nor --capacity says how many streams to soak. */
const DEFAULT_SOAK_RAMP = '2:64:2';

const USAGE = `usage: npm run loadtest -- --url ws://HOST:PORT/v1/stream [options]
  --streams N          concurrent sessions (default 16)
  --duration S         seconds of audio per session (default 60)
  --input FILE.wav     song to stream (default: first track of data/synth/test)
  --webrtc N           how many of the sessions use WebRTC (default 0): werift peers via POST /v1/webrtc, 48 kHz
                       Opus in 20 ms packets; latency per 20 ms output packet, located in the input by content
  --ramp A:B:STEP      capacity search: N = A, A+STEP, … ≤ B until a step fails the SLO
  --slo-p99-ms MS      SLO on p99 end-to-end latency (default: algorithmic latency + 20 ms)
  --out DIR            report directory (default results/loadtest)
  --frame-ms LIST      input frame sizes cycled over sessions (default 10,20,40)
  --stagger-ms MS      spread of session starts (default 1000)
  --format F           s16le | f32le (default s16le)
  --outputs LIST       output kinds (default: server default)
  --output-framing F   frames | bundles: one binary message per kind, or one per interval (default: the client's)
  --model NAME         model to request (default: server default)
  --late-ms MS         e2e above this counts a frame late (default: the SLO)
  --metrics-url URL    Prometheus endpoint to scrape, or "none" (default: http(s)://HOST:PORT/metrics)
  --ping-interval-ms   RTT probe period per session (default 1000)
  --client sdk|ws-raw  WebSocket client: the client SDK (default), or a header-only client that never decodes PCM
                       (lighter, for capacity runs with the generator on the server's machine)
  --budget-ms MS       per-hop server-added latency budget: hops above it are missed deadlines (default 10, the
                       server's --latency-budget-ms default)
  --soak               soak: --soak-hops hops per stream at --streams, else at 80 % of --capacity, else at 80 % of
                       the capacity the ramp (--ramp, default ${DEFAULT_SOAK_RAMP}) measures first; reports missed
                       deadlines (the number to beat is 0)
  --soak-hops N        model hops per stream in the soak (default ${DEFAULT_SOAK_HOPS}: 58 s at 256/44.1 kHz)
  --capacity N         capacity (streams) the soak's default stream count is 80 % of
environment:
  LIVESTEM_API_KEY     the server's API key, for a server that runs with one: sent as "Authorization: Bearer" by every
                       stream, WebRTC offer and /metrics scrape (an environment variable, not a flag, so that it does
                       not show in ps or in the report)`;

/** Whether the server is on this machine (loopback), so its CPU and the generator's share these cores. */
function isLoopbackUrl(url: string): boolean {
  const host = new URL(url).hostname;
  return host === 'localhost' || host === '[::1]' || host.startsWith('127.');
}

function fail(message: string): never {
  console.error(`loadtest: ${message}\n\n${USAGE}`);
  process.exit(1);
}

function positive(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const v = Number(text);
  if (!Number.isFinite(v) || v <= 0) fail(`--${name} must be a positive number, got "${text}"`);
  return v;
}

function progressPrinter(): (p: StepProgress) => void {
  const tty = process.stderr.isTTY === true;
  let lastPrint = 0;
  return (p) => {
    const line = `[${p.streams} streams] ${p.elapsedS.toFixed(0)} s  active ${p.active}  failed ${p.failed}  frames ${p.framesReceived}  gaps ${p.gaps}  p99(1 s) ${Number.isFinite(p.recentP99Ms) ? p.recentP99Ms.toFixed(1) : '–'} ms`;
    if (tty) process.stderr.write(`\r${line.padEnd(100)}`);
    else if (p.elapsedS - lastPrint >= 5) {
      lastPrint = p.elapsedS;
      process.stderr.write(`${line}\n`);
    }
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      streams: { type: 'string' },
      duration: { type: 'string' },
      input: { type: 'string' },
      webrtc: { type: 'string' },
      ramp: { type: 'string' },
      'slo-p99-ms': { type: 'string' },
      out: { type: 'string' },
      'frame-ms': { type: 'string' },
      'stagger-ms': { type: 'string' },
      format: { type: 'string' },
      outputs: { type: 'string' },
      'output-framing': { type: 'string' },
      model: { type: 'string' },
      'late-ms': { type: 'string' },
      'metrics-url': { type: 'string' },
      'ping-interval-ms': { type: 'string' },
      client: { type: 'string' },
      'budget-ms': { type: 'string' },
      soak: { type: 'boolean' },
      'soak-hops': { type: 'string' },
      capacity: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (!values.url) fail('--url is required');
  const url = values.url;
  const soak = values.soak === true;
  const streamsArg = values.streams === undefined ? null : Math.round(positive('streams', values.streams, 16));
  const streams = streamsArg ?? 16;
  const durationS = positive('duration', values.duration, 60);
  const webrtc = values.webrtc === undefined ? 0 : Math.round(Number(values.webrtc));
  if (!Number.isInteger(webrtc) || webrtc < 0) fail(`--webrtc must be a non-negative integer`);
  const capacityArg = values.capacity === undefined ? null : Math.round(positive('capacity', values.capacity, 0));
  if (!soak && (capacityArg !== null || values['soak-hops'] !== undefined)) fail('--capacity and --soak-hops go with --soak');
  // a soak without a stream count measures capacity first
  const soakNeedsRamp = soak && streamsArg === null && capacityArg === null;
  const rampText = values.ramp ?? (soakNeedsRamp ? DEFAULT_SOAK_RAMP : undefined);
  const ramp: RampSpec | null = rampText !== undefined && (!soak || soakNeedsRamp) ? parseRampSpec(rampText) : null;
  if (soak && values.ramp !== undefined && !soakNeedsRamp) fail('--ramp with --soak only measures the capacity: drop --streams/--capacity, or --ramp');
  const soakHops = Math.round(positive('soak-hops', values['soak-hops'], DEFAULT_SOAK_HOPS));
  const budgetMs = positive('budget-ms', values['budget-ms'], 10);
  const sloArg = values['slo-p99-ms'] === undefined ? null : positive('slo-p99-ms', values['slo-p99-ms'], 0);
  const frameSizesMs = (values['frame-ms'] ?? '10,20,40').split(',').map((s) => positive('frame-ms', s, 0));
  const format = (values.format ?? 's16le') as SampleFormat;
  if (!(SAMPLE_FORMATS as readonly string[]).includes(format)) fail(`--format must be one of ${SAMPLE_FORMATS.join(', ')}`);
  const outputs = values.outputs?.split(',') as OutputKind[] | undefined;
  if (outputs?.some((k) => !(OUTPUT_KINDS as readonly string[]).includes(k))) fail(`--outputs takes ${OUTPUT_KINDS.join(', ')}`);
  const outputFraming = values['output-framing'] as OutputFraming | undefined;
  if (outputFraming !== undefined && !(OUTPUT_FRAMINGS as readonly string[]).includes(outputFraming)) fail(`--output-framing takes ${OUTPUT_FRAMINGS.join(', ')}`);
  const metricsUrl = values['metrics-url'] === 'none' ? null : (values['metrics-url'] ?? metricsUrlFor(url));
  const outDir = values.out ?? 'results/loadtest';
  const client = values.client ?? 'sdk';
  if (client !== 'sdk' && client !== 'ws-raw') fail(`--client must be sdk or ws-raw, got "${client}"`);
  // the one place the load tester reads the environment; empty counts as unset, as on the server (server/config.ts)
  const apiKey = process.env['LIVESTEM_API_KEY'] || undefined;

  const song = await loadSong(values.input);
  const webrtcSong = webrtc > 0 ? toWebRtcSong(song) : undefined;
  const counts = ramp ? rampSteps(ramp) : soak ? [] : [streams];
  if (webrtc > Math.min(...counts, streamsArg ?? Number.POSITIVE_INFINITY)) fail(`--webrtc ${webrtc} exceeds the number of streams`);
  const steps: StepResult[] = [];
  let slo = sloArg;
  const report: LoadReport = {
    tool: 'livestem-loadtest',
    reportVersion: 1,
    date: new Date().toISOString(),
    command: `npm run loadtest -- ${process.argv.slice(2).join(' ')}`,
    generator: generatorInfo(),
    url,
    song: { name: song.name, sampleRateHz: song.sampleRateHz, channels: song.channels.length },
    config: {
      durationS,
      frameSizesMs,
      staggerMs: positive('stagger-ms', values['stagger-ms'], 1000),
      format,
      webrtcStreams: webrtc,
      client,
      lateThresholdMs: 0,
      sloP99Ms: slo,
    },
    ramp: null,
    steps,
  };

  const runOne = async (n: number, hopsPerStream?: number): Promise<StepResult> => {
    const lateThresholdMs = values['late-ms'] ? positive('late-ms', values['late-ms'], 0) : (slo ?? 40);
    const step = await runStep({
      url,
      streams: n,
      webrtcStreams: webrtc,
      durationS,
      ...(hopsPerStream !== undefined ? { hopsPerStream } : {}),
      song,
      ...(webrtcSong ? { webrtcSong } : {}),
      frameSizesMs,
      staggerMs: report.config.staggerMs,
      format,
      ...(outputs ? { outputs } : {}),
      ...(outputFraming ? { outputFraming } : {}),
      ...(values.model ? { model: values.model } : {}),
      lateThresholdMs,
      budgetMs,
      metricsUrl,
      ...(apiKey !== undefined ? { apiKey } : {}),
      pingIntervalMs: positive('ping-interval-ms', values['ping-interval-ms'], 1000),
      doneTimeoutMs: 30_000,
      connectors: { websocket: client === 'sdk' ? connectSdk : connectWebSocket, webrtc: connectWebRtc },
      onProgress: progressPrinter(),
    });
    if (process.stderr.isTTY) process.stderr.write('\n');
    // default SLO from the first step's announced latency: p99 e2e ≤ algorithmic + 20 ms
    if (slo === null && step.algorithmicLatencyMs !== null) slo = step.algorithmicLatencyMs + 20;
    report.config.sloP99Ms = slo;
    report.config.lateThresholdMs = lateThresholdMs;
    steps.push(step);
    return step;
  };

  for (const n of counts) {
    const step = await runOne(n);
    if (slo !== null) {
      step.verdict = judgeStep(
        { streams: n, p99E2eMs: step.e2eMs.p99Ms, gaps: step.continuity.gaps + step.continuity.missingSequences, failedSessions: step.sessions.failed },
        slo,
      );
    }
    console.log(
      `${n} streams: e2e p50 ${ms(step.e2eMs.p50Ms)} p99 ${ms(step.e2eMs.p99Ms)} max ${ms(step.e2eMs.maxMs)} ms, ` +
        `server-added p50 ${ms(step.serverAddedMs.p50Ms)} p99 ${ms(step.serverAddedMs.p99Ms)} max ${ms(step.serverAddedMs.maxMs)} ms, ` +
        `gaps ${step.continuity.gaps}, failed ${step.sessions.failed}${step.verdict ? ` → ${step.verdict.pass ? 'pass' : `FAIL (${step.verdict.reasons.join('; ')})`}` : ''}`,
    );
    const stages = step.server ? stageQuantilesMs(step.server) : [];
    if (stages.length > 0) console.log(`  server stages p50/p99 ms: ${stages.map((s) => `${s.stage} ${s.p50.toFixed(2)}/${s.p99.toFixed(2)}`).join(', ')}`);
    const cpu = step.server?.cpu;
    if (cpu !== undefined) console.log(`  ${cpuLine(cpu, isLoopbackUrl(url), availableParallelism())}`);
    if (ramp && slo !== null) {
      const outcome = rampOutcome(steps.map((s) => ({ streams: s.streams, pass: s.verdict?.pass ?? false })), ramp);
      report.ramp = { ...outcome, spec: ramp, sloP99Ms: slo };
      if (outcome.done) break;
    }
  }
  if (report.ramp) console.log(`capacity: ${report.ramp.capacityStreams} streams (SLO p99 ≤ ${report.ramp.sloP99Ms.toFixed(1)} ms, zero gaps)`);

  if (soak) {
    const source: SoakStreamsSource = streamsArg !== null ? 'flag' : capacityArg !== null ? 'capacity-flag' : 'ramp';
    const capacity = capacityArg ?? report.ramp?.capacityStreams ?? null;
    const n = soakStreams({ streams: streamsArg, capacity, source });
    if (n === null) {
      const paths = await writeReport(report, outDir);
      console.log(`wrote ${paths.join(', ')}`);
      throw new Error('the ramp found no capacity to soak at (its first step failed): see the report');
    }
    if (webrtc > n) fail(`--webrtc ${webrtc} exceeds the soak's ${n} streams`);
    const step = await runOne(n, soakHops);
    if (!step.deadlines) throw new Error('soak step without a deadline count');
    report.soak = summarizeSoak({ step, deadlines: step.deadlines, streamsSource: source, capacityStreams: capacity, hopsPerStream: soakHops });
    console.log(soakLine(report.soak));
  }
  const paths = await writeReport(report, outDir);
  console.log(`wrote ${paths.join(', ')}`);
  if (!ramp && !soak && steps[0]?.verdict && !steps[0].verdict.pass) process.exitCode = 2;
  if (report.soak && !report.soak.pass) process.exitCode = 2;
}

const ms = (v: number): string => (Number.isFinite(v) ? v.toFixed(1) : '–');

// explicit exit: closed WebRTC peers can leave werift timers/sockets that would keep the process alive
main().then(
  () => process.exit(process.exitCode ?? 0),
  (err: unknown) => {
    console.error(`loadtest: ${(err as Error).message}`);
    process.exit(1);
  },
);
