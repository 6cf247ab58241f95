/**
 * `npm run bench:isolation`: how much one hostile connection delays another session's audio. The server (real CLI,
 * shipped default model, default limits) and the attacker each run in a child process; a witness streams a tone in
 * real time in 10 ms frames and measures, per vocals frame, the server-added latency: receive time − send time of
 * the input frame holding the last sample that output needed (its last sample + the announced latency), so the
 * algorithmic latency is removed and hop quantisation plus processing remain. Each attack runs for `--seconds` beside
 * it, reconnecting whenever the server cuts it off; compare with the quiet baseline rows.
 */
import { fork } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { ServerProcess } from '../loadtest/fuzz/server-process.ts';

type Attack = 'none' | 'ping-flood' | 'tiny-audio-flood' | 'never-read-stats';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '8' },
    models: { type: 'string', default: 'models' },
    attacker: { type: 'string' },
    url: { type: 'string' },
  },
});
const attackSeconds = Number(values.seconds);
const RATE_HZ = 44100;
const FRAME_SAMPLES = RATE_HZ / 100;

function open(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

async function started(url: string): Promise<WebSocket> {
  const ws = await open(url);
  ws.send(JSON.stringify({ type: 'start', sampleRateHz: RATE_HZ, channels: 2, format: 'f32le' }));
  await new Promise<void>((resolve) => ws.once('message', () => resolve()));
  return ws;
}

/** A real-time stream; per vocals frame, how long after the input it needed was sent it arrived (ms). */
async function witness(url: string): Promise<{ stop(): Promise<number[]> }> {
  const ws = await open(url);
  ws.send(JSON.stringify({ type: 'start', sampleRateHz: RATE_HZ, channels: 2, format: 'f32le' }));
  const ready = await new Promise<{ latency: { samples: number } }>((resolve) => ws.once('message', (d) => resolve(JSON.parse(String(d)))));
  const addedMs: number[] = [];
  const sentAtMs: number[] = [];
  ws.on('message', (data, isBinary) => {
    if (!isBinary) return;
    const buf = data as Buffer;
    if (buf.readUInt8(1) !== 1) return; // vocals only: one measurement per output span
    const end = Number(buf.readBigUInt64LE(8)) + buf.readUInt32LE(16);
    const needed = Math.floor((end - 1 + ready.latency.samples) / FRAME_SAMPLES);
    const sent = sentAtMs[needed];
    if (sent !== undefined) addedMs.push(performance.now() - sent);
  });
  const frame = new Float32Array(FRAME_SAMPLES * 2);
  let phase = 0;
  const t0 = performance.now();
  const timer = setInterval(() => {
    while (sentAtMs.length * 10 <= performance.now() - t0) {
      for (let i = 0; i < FRAME_SAMPLES; i++, phase++) frame[2 * i] = frame[2 * i + 1] = 0.3 * Math.sin((2 * Math.PI * 440 * phase) / RATE_HZ);
      sentAtMs.push(performance.now());
      ws.send(frame);
    }
  }, 1);
  return {
    async stop() {
      clearInterval(timer);
      ws.terminate();
      return addedMs;
    },
  };
}

/** Runs one attack until `untilMs`, reconnecting after every cut-off; returns how many connections it used. */
async function attack(kind: Attack, url: string, untilMs: number): Promise<number> {
  let connections = 0;
  while (kind !== 'none' && Date.now() < untilMs) {
    connections++;
    const ws = await started(url).catch(() => undefined);
    if (!ws) continue;
    const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
    if (kind === 'never-read-stats') (ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const tiny = new Float32Array(2);
    const pump = setInterval(() => {
      if (ws.readyState !== WebSocket.OPEN || ws.bufferedAmount > 1 << 20) return;
      for (let i = 0; i < 500; i++) {
        if (kind === 'ping-flood') ws.send('{"type":"ping","id":1}');
        else if (kind === 'tiny-audio-flood') ws.send(tiny);
        else ws.send('{"type":"stats","id":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}');
      }
    }, 1);
    await Promise.race([closed, new Promise((r) => setTimeout(r, Math.max(0, untilMs - Date.now())))]);
    clearInterval(pump);
    ws.terminate();
  }
  return connections;
}

function quantile(sorted: number[], q: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** The attack in its own process, so its sending never delays the witness's own event loop. */
function attackInChild(kind: Attack, url: string, seconds: number): Promise<number> {
  if (kind === 'none') return new Promise((r) => setTimeout(() => r(0), seconds * 1000));
  const child = fork(new URL(import.meta.url).pathname, ['--attacker', kind, '--url', url, '--seconds', String(seconds)], { execArgv: ['--import', 'tsx'] });
  return new Promise((resolve) => child.once('message', (m) => resolve(Number(m))));
}

async function main(): Promise<void> {
  if (values.attacker !== undefined && values.url !== undefined) {
    const connections = await attack(values.attacker as Attack, values.url, Date.now() + attackSeconds * 1000);
    process.send?.(connections);
    process.exit(0);
  }
  const server = await ServerProcess.start(values.models, {});
  try {
    console.log(`livestem isolation bench — ${cpus()[0]?.model ?? '?'} (${cpus().length} cores), Node ${process.version}`);
    console.log(`witness: 44.1 kHz stereo f32, 10 ms frames in real time, shipped default model; ${attackSeconds} s per attack\n`);
    console.log('| attack beside the witness | attacker connections | witness server-added latency p50 / p99 / max (ms) | 1-min load |');
    console.log('|---|---:|---:|---:|');
    for (const kind of ['none', 'ping-flood', 'tiny-audio-flood', 'never-read-stats', 'none'] as const) {
      const w = await witness(server.streamUrl);
      await new Promise((r) => setTimeout(r, 500)); // the witness's first output is out before the attack starts
      const connections = await attackInChild(kind, server.streamUrl, attackSeconds);
      const added = (await w.stop()).sort((x, y) => x - y);
      const f = (x: number): string => x.toFixed(1);
      console.log(`| ${kind} | ${connections} | ${f(quantile(added, 0.5))} / ${f(quantile(added, 0.99))} / ${f(added.at(-1) ?? NaN)} | ${loadavg()[0]!.toFixed(2)} |`);
    }
  } finally {
    await server.stop();
  }
}

await main();
