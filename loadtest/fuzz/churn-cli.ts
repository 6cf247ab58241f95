/**
 * `npm run churn -- --sessions 1000 [--rounds 2] [--concurrency 16] [--audio-s 1] [--env NAME=VALUE,…] [--server-main F]`
 * Session churn against a fresh server child; prints the memory table (stderr) and the JSON summary (stdout).
 * `--env MALLOC_ARENA_MAX=2` and the like run the same churn under a different allocator setting (leak vs allocator).
 * Exit status 1 when a session failed or the server died.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { runChurn } from './churn.ts';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      sessions: { type: 'string' },
      rounds: { type: 'string' },
      concurrency: { type: 'string' },
      'audio-s': { type: 'string' },
      env: { type: 'string' },
      'server-main': { type: 'string' },
      'measure-held': { type: 'boolean' },
    },
    strict: true,
  });
  const num = (v: string | undefined, fallback: number): number => (v === undefined ? fallback : Number(v));
  const env = Object.fromEntries(
    (values.env ?? '')
      .split(',')
      .filter((kv) => kv.includes('='))
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  );
  const summary = await runChurn({
    sessions: num(values.sessions, 1000),
    rounds: num(values.rounds, 2),
    concurrency: num(values.concurrency, 16),
    audioSeconds: num(values['audio-s'], 1),
    env,
    serverMain: values['server-main'] ? resolve(values['server-main']) : undefined,
    measureHeld: values['measure-held'] === true,
  });
  process.stderr.write(
    `churn: growth after warm-up → last round: rss ${summary.growthMB.rss} MB, heapUsed ${summary.growthMB.heapUsed} MB, ` +
      `external ${summary.growthMB.external} MB; per round: ${summary.perRoundGrowthMB.map((r) => `#${r.round} rss ${r.rss} / heap ${r.heapUsed} / ext ${r.external}`).join(', ')}\n`,
  );
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  return summary.serverAlive && summary.rounds.every((r) => r.failed === 0) ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`churn: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(2);
  },
);
