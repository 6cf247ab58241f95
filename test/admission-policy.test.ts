/**
 * Admission by measured headroom against the latency budget (server/session/admission-policy.ts), on signals made
 * in the test: which measurement refuses, with which message, and what the cold start does.
 */
import t from 'tap';
import { decideAdmission, type AdmissionOptions, type AdmissionSignals } from '../server/session/admission-policy.ts';

const options: AdmissionOptions = { budgetMs: 10, maxLoad: 0.85, hopIntervalMs: 5.8, minWindowHops: 200 };
const quiet: AdmissionSignals = { activeSessions: 4, load: 0.2, loadSessions: 4, recentP99Ms: 2, recentHops: 5000 };

t.test('an idle server admits even with a bad tail measured: nobody is left to degrade', async (t) => {
  const d = decideAdmission({ activeSessions: 0, load: 1, loadSessions: 3, recentP99Ms: 500, recentHops: 5000 }, options);
  t.same(d, { admit: true, headroomMs: 10 });
});

t.test('headroom is the budget minus the larger of the recent p99 and the projected round time', async (t) => {
  const d = decideAdmission(quiet, options);
  t.equal(d.admit, true);
  // load 0.2 × 5/4 = 0.25 of a 5.8 ms hop = 1.45 ms < p99 2 ms
  t.equal(d.headroomMs, 8);
  const busy = decideAdmission({ ...quiet, load: 0.6 }, options);
  t.equal(busy.admit, true);
  t.ok(Math.abs(busy.headroomMs - (10 - 0.75 * 5.8)) < 1e-9, 'round time 0.75 × 5.8 ms decides');
});

t.test('a recent p99 above the budget refuses, once enough hops were measured', async (t) => {
  const slow = decideAdmission({ ...quiet, recentP99Ms: 12.5 }, options);
  t.equal(slow.admit, false);
  t.equal(slow.reason, 'recent p99 hop latency 12.5 ms above the 10.0 ms budget');
  t.equal(slow.headroomMs, -2.5);
  const coldStart = decideAdmission({ ...quiet, recentP99Ms: 12.5, recentHops: 199 }, options);
  t.equal(coldStart.admit, true, 'warm-up hops of new sessions are not trusted: 199 < 200 hops');
  t.equal(decideAdmission({ ...quiet, recentP99Ms: NaN, recentHops: 0 }, options).admit, true, 'nothing measured yet');
});

t.test('projected load above --max-load refuses before latency shows it', async (t) => {
  const d = decideAdmission({ activeSessions: 4, load: 0.7, loadSessions: 4, recentP99Ms: 3, recentHops: 5000 }, options);
  t.equal(d.admit, false, '0.7 × 5/4 = 0.875 > 0.85');
  t.equal(d.reason, 'engine load 0.70 (0.88 with one more session) above 0.85');
  t.equal(decideAdmission({ activeSessions: 40, load: 0.7, loadSessions: 40, recentP99Ms: 3, recentHops: 5000 }, options).admit, true, '0.7 × 41/40 = 0.72');
  t.match(decideAdmission({ activeSessions: 1, load: 0.95, loadSessions: 1, recentP99Ms: 1, recentHops: 0 }, options).reason, /engine load 0.95/);
});

t.test('a hop interval longer than the budget: the round time refuses within the load ceiling', async (t) => {
  // 2048/512 at 44.1 kHz: 11.6 ms per hop; 0.8 × 9/8 = 0.9 busy (under the 0.95 ceiling) is 10.4 ms per round
  const d = decideAdmission({ activeSessions: 8, load: 0.8, loadSessions: 8, recentP99Ms: 3, recentHops: 5000 }, { ...options, hopIntervalMs: 11.6, maxLoad: 0.95 });
  t.equal(d.admit, false);
  t.equal(d.reason, 'engine busy 10.4 ms per 11.6 ms hop with one more session, above the 10.0 ms budget');
  t.ok(d.headroomMs < 0);
});

t.test('the load is charged to the sessions it was sampled with, not to the few left after churn', async (t) => {
  // A second ago 12 sessions made load 0.51; they left, one new session is streaming, a second one asks.
  const afterChurn = decideAdmission({ activeSessions: 1, load: 0.51, loadSessions: 12, recentP99Ms: 3, recentHops: 5000 }, options);
  t.equal(afterChurn.admit, true, '0.51 × 2 / 12 = 0.085');
  // 2.4 sessions on average during the sample (a burst of arrivals since): the fixed costs of that sample are not
  // multiplied by 16 — the newcomers are assumed to cost what the others do until the next sample.
  const burst = decideAdmission({ activeSessions: 15, load: 0.13, loadSessions: 2.4, recentP99Ms: 3, recentHops: 5000 }, options);
  t.equal(burst.admit, true, '0.13 × 16 / 15 = 0.14');
  const full = decideAdmission({ activeSessions: 20, load: 0.84, loadSessions: 20.5, recentP99Ms: 3, recentHops: 5000 }, options);
  t.match(full.reason, /engine load 0.84 \(0.86 with one more session\)/, '0.84 × 21 / 20.5');
});
