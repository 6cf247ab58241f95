/**
 * `npm run fuzz -- --messages N [--url ws://host:port] [--seed S] [--connections C] …`
 * `npm run fuzz -- --churn N [--rounds R]` (same as `npm run churn -- --sessions N`)
 * The report table goes to stderr, the JSON summary to stdout (and to --json FILE). Exit status: 0 clean,
 * 1 when the run found a failure (crash, 5xx/INTERNAL, hang, lost canary samples, unexpected outcome), 2 usage.
 */
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadSong, toWebRtcSong } from '../song.ts';
import { CATEGORIES, type Category } from './cases.ts';
import { runChurn } from './churn.ts';
import { runFuzz } from './fuzz-run.ts';

const USAGE = `usage: npm run fuzz -- --messages N [options]
  --messages N         messages to send in total (HTTP requests + WebSocket frames; default 20000)
  --seed S             seed of the case sequence (default 1): same seed, same cases
  --connections C      cases (connections) in flight at once (default 16)
  --url ws://H:P/...   fuzz a running server instead of starting our own (no crash recovery, no shutdown check)
  --api-key KEY        that server's API key (auth-phase cases and the canary use it)
  --allowed-origin O   an Origin in that server's allow-list (then other Origins must be refused)
  --max-message-bytes  that server's message limit (default 1048576)
  --max-crashes K      stop after K crashes (default 5); each crash is triaged to one reproducing case
  --timeout-ms MS      longest wait for any answer before it counts as a hang (default 10000)
  --stall-ms MS        GET /healthz slower than this is an event-loop stall (default 2500)
  --only LIST          only these categories (${CATEGORIES.join(', ')})
  --song FILE.wav      canary audio (default: a song made in code at the model's rate)
  --no-shutdown-check  skip the SIGTERM-with-streaming-canaries check at the end of each phase
  --lenient            outcomes outside the documented ones are warnings, not failures
  --json FILE          also write the JSON summary to FILE
  --server-main FILE   run another checkout's server/main.ts (e.g. an older commit exported with git archive)
  --replay I,J,…       run only these case indices (the #N of a report), one at a time, with the same --seed
  --phase open|auth    the phase of the replayed cases (the word after #N in a report; default open)
  --churn N            instead: session churn, N sessions per round (see npm run churn)`;

function fail(message: string): never {
  process.stderr.write(`fuzz: ${message}\n\n${USAGE}\n`);
  process.exit(2);
}

function int(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const v = Number(text);
  if (!Number.isInteger(v) || v < 0) fail(`--${name} must be a non-negative integer, got "${text}"`);
  return v;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      messages: { type: 'string' },
      seed: { type: 'string' },
      connections: { type: 'string' },
      url: { type: 'string' },
      'api-key': { type: 'string' },
      'allowed-origin': { type: 'string' },
      'max-message-bytes': { type: 'string' },
      'max-crashes': { type: 'string' },
      'timeout-ms': { type: 'string' },
      'stall-ms': { type: 'string' },
      only: { type: 'string' },
      song: { type: 'string' },
      'no-shutdown-check': { type: 'boolean' },
      lenient: { type: 'boolean' },
      json: { type: 'string' },
      churn: { type: 'string' },
      rounds: { type: 'string' },
      'server-main': { type: 'string' },
      replay: { type: 'string' },
      phase: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (values.churn !== undefined) {
    const summary = await runChurn({ sessions: int('churn', values.churn, 1000), rounds: int('rounds', values.rounds, 2) });
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    return summary.serverAlive && summary.rounds.every((r) => r.failed === 0) ? 0 : 1;
  }
  const only = values.only?.split(',').map((s) => s.trim()) as Category[] | undefined;
  if (only?.some((c) => !(CATEGORIES as readonly string[]).includes(c))) fail(`--only takes ${CATEGORIES.join(', ')}`);
  // The canary compares its output with its input sample for sample, so it streams at the model's own rate.
  const song = values.song ? toWebRtcSong(await loadSong(values.song), 44100) : undefined;
  const summary = await runFuzz({
    messages: int('messages', values.messages, 20_000),
    seed: int('seed', values.seed, 1),
    connections: Math.max(1, int('connections', values.connections, 16)),
    url: values.url,
    apiKey: values['api-key'],
    allowedOrigin: values['allowed-origin'],
    maxMessageBytes: int('max-message-bytes', values['max-message-bytes'], 1024 * 1024),
    maxCrashes: Math.max(1, int('max-crashes', values['max-crashes'], 5)),
    answerTimeoutMs: int('timeout-ms', values['timeout-ms'], 10_000),
    stallMs: int('stall-ms', values['stall-ms'], 2500),
    shutdownCheck: values['no-shutdown-check'] !== true,
    song,
    only,
    lenient: values.lenient === true,
    serverMain: values['server-main'] ? resolve(values['server-main']) : undefined,
    replay: values.replay?.split(',').map((v) => int('replay', v.trim(), 0)),
    replayPhase: values.phase === 'auth' ? 'auth' : values.phase === undefined || values.phase === 'open' ? 'open' : fail('--phase is open or auth'),
  });
  const json = JSON.stringify(summary, null, 2);
  if (values.json) await writeFile(values.json, json);
  process.stdout.write(`${json}\n`);
  return summary.passed ? 0 : 1;
}

// explicit exit: a server child or a half-closed socket must not keep a finished run alive
main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`fuzz: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(2);
  },
);
