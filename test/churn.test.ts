/**
 * Session churn must not leak: 2 × 100 sessions (after a warm-up) connect, stream ~1 s each and leave, half with
 * `end` + `done` (every sample accounted for), half by cutting the socket mid-stream. The server runs as a child with
 * --expose-gc; memory is read after a forced GC once every session (detached ones included) has been released.
 * heapUsed and external must come back to where the warm-up left them; RSS only gets a loose sanity bound, since
 * the allocator keeps freed pages (see the fuzz README in loadtest/fuzz/README.md for the measurements).
 */
import t from 'tap';
import { runChurn } from '../loadtest/fuzz/churn.ts';

const lines: string[] = [];
const summary = await runChurn({ sessions: 100, rounds: 2, warmupSessions: 16, concurrency: 12, log: (l) => lines.push(l) });
t.comment(lines.join('\n'));

t.test('every session ends cleanly or is cut, none fails; the server stays up', async (t) => {
  for (const r of summary.rounds) t.equal(r.failed, 0, `round ${r.round}: ${r.ended} ended, ${r.aborted} cut${r.problems.length ? ` (${r.problems[0]})` : ''}`);
  t.equal(summary.rounds.slice(1).reduce((n, r) => n + r.ended + r.aborted, 0), 200, '200 sessions after the warm-up');
  t.ok(summary.serverAlive, 'server alive');
});

t.test('memory returns to the warm-up level once sessions are released', async (t) => {
  t.ok(summary.memory.every((m) => m.collected), 'samples taken after a forced GC');
  t.ok(summary.memory.every((m) => m.sessionsHeld === 0), 'no session held when sampled');
  const g = summary.growthMB;
  t.ok(g.heapUsed < 8, `heapUsed growth ${g.heapUsed} MB < 8 MB`);
  t.ok(g.external < 8, `external growth ${g.external} MB < 8 MB`);
  t.ok(g.arrayBuffers < 8, `arrayBuffers growth ${g.arrayBuffers} MB < 8 MB`);
  t.ok(g.rss < 150, `RSS growth ${g.rss} MB < 150 MB (allocator high-water, sanity bound only)`);
});
