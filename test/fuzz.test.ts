/**
 * Protocol fuzzing as a regression test: ~20,000 seeded hostile messages (both phases: open, then API key + Origin
 * allow-list) against the real server CLI in a child process, while a canary streams in real time. Asserts the
 * hardening that must never regress: no crash, no 5xx / INTERNAL, the canary gets every sample back (also through a
 * graceful shutdown), a never-reading flood cannot grow the server's memory, and none of the checks that do not
 * depend on timing (auth bypass, NaN output, lost samples, malformed server output) fails.
 * Outcomes outside the documented ones are reported (t.comment), not asserted: the CLI (`npm run fuzz`) is strict.
 */
import t from 'tap';
import { runFuzz } from '../loadtest/fuzz/fuzz-run.ts';

const report: string[] = [];
const summary = await runFuzz({
  messages: 20_000,
  seed: 20_240_611,
  connections: 12,
  // a crash ends the run: the test fails on it anyway, and triage gives the reproduction
  maxCrashes: 1,
  lenient: true,
  // The fuzz sessions stream faster than real time with admission by session count only, so the engine runs seconds
  // behind (12 sessions × 1 s of buffered input each; the canary's output lagged up to 14 s on a loaded 2-core box)
  // and the server pauses reading the canary's socket. Its heartbeat then drops the live canary (1006) because the
  // pong sits unread behind that pause — a server bug the CLI's 3 s heartbeat reports (the 4 s idle timeout counts
  // the same pause against a client, too); here it would only make the test depend on the box's load, so both are
  // kept out of the way.
  serverEnv: { LIVESTEM_HEARTBEAT_MS: '120000', LIVESTEM_IDLE_TIMEOUT_MS: '15000' },
  log: (line) => report.push(line),
});
t.comment(report.join('\n'));

const outcomes = Object.entries(summary.categories).flatMap(([category, c]) => Object.entries(c.outcomes).map(([outcome, n]) => ({ category, outcome, n })));

t.test('the server survives: no crash, alive and answering /healthz at the end', async (t) => {
  t.same(
    summary.crashes.map((c) => c.culprit ?? c.stderrTail.slice(-3).join(' | ')),
    [],
    'no crash (culprit reproduction if one happened)',
  );
  t.ok(summary.server.aliveAtEnd, `server alive at the end (/healthz ${summary.server.healthzAtEnd})`);
});

t.test('no 5xx from an HTTP route and no INTERNAL / 1011 on a socket', async (t) => {
  const bad = outcomes.filter(({ outcome }) => /^http:5\d\d$/.test(outcome) && outcome !== 'http:503');
  const internal = outcomes.filter(({ outcome }) => /INTERNAL|INFERENCE_FAILED|\/1011$|^close:1011$/.test(outcome));
  t.same(bad, [], 'no HTTP 5xx');
  t.same(internal, [], 'no INTERNAL or close 1011');
});

t.test('the canaries lose nothing: length per kind == input, vocals + accompaniment == input', async (t) => {
  const all = [...summary.canaries, ...summary.shutdowns.flatMap((s) => s.canaries)];
  t.ok(all.length >= 2, 'a canary ran in each phase');
  for (const c of all) t.ok(c.ok, `${c.label}: ${c.ok ? `${c.sentSamples} samples, max error ${c.maxMixtureError.toExponential(1)}` : c.problems.join('; ')}`);
  for (const s of summary.shutdowns) t.ok(s.ok, `graceful shutdown (${s.phase}): ${s.problems.join('; ') || `exit ${s.exitCode}`}`);
});

t.test('a client that never reads cannot make the server queue replies without bound', async (t) => {
  t.ok(summary.floodChecks.length >= 1, 'the never-read flood ran');
  for (const fc of summary.floodChecks) {
    t.ok(fc.ok, `${fc.phase}: ${fc.requests} stats requests → server heap+external +${(fc.liveGrowthBytes / 1048576).toFixed(1)} MB${fc.problem ? ` (${fc.problem})` : ''}`);
  }
});

t.test('deterministic checks: no auth bypass, NaN output, lost samples or malformed server output', async (t) => {
  const deterministic = /auth bypass|non-finite|expected \d+|received \d+ samples|malformed|not in the catalog/;
  const found = summary.findings.filter((f) => f.violations.some((v) => deterministic.test(v)));
  t.same(
    found.map((f) => `${f.category} ${f.outcome}: ${f.violations[0]} — ${f.repro.slice(0, 400)}`),
    [],
    'no violation',
  );
  t.ok(summary.messagesSent >= 20_000, `${summary.messagesSent} messages in ${summary.cases} cases over ${summary.connections} connections`);
  t.ok(summary.connections >= 500, 'hundreds of connections');
});
