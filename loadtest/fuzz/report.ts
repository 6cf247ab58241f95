/**
 * Counting and printing: outcomes per category, verdicts, the first examples of every wrong or unexpected
 * (category, outcome) pair with their exact reproduction, and the JSON summary the CLI prints and the test reads.
 */
import type { CanaryResult } from './canary.ts';
import type { FloodCheckResult } from './flood-check.ts';
import { describeCase, judge, type CaseResult, type Category, type FuzzCase, type Verdict } from './cases.ts';

export interface Finding {
  verdict: Exclude<Verdict, 'ok'>;
  category: Category;
  outcome: string;
  violations: string[];
  count: number;
  repro: string;
}

export interface CategoryStats {
  cases: number;
  messages: number;
  outcomes: Record<string, number>;
  unexpected: number;
  wrong: number;
  /** Cases cut short by a crash (their outcome says nothing about themselves). */
  crashAffected: number;
  skipped: number;
}

export interface CrashRecord {
  phase: string;
  exitCode: number | null;
  signal: string | null;
  stderrTail: string[];
  inFlight: string[];
  /** The case that crashed a fresh server on its own (triage), if found. */
  culprit: string | undefined;
  quarantined: string | undefined;
}

export interface StallRecord {
  phase: string;
  healthzMs: number;
  ownLagMs: number;
  inFlight: string[];
}

export interface ShutdownRecord {
  phase: string;
  exitCode: number | null;
  signal: string | null;
  killed: boolean;
  durationMs: number;
  canaries: CanaryResult[];
  ok: boolean;
  problems: string[];
}

export interface FuzzSummary {
  tool: 'livestem-fuzz';
  seed: number;
  messagesPlanned: number;
  messagesSent: number;
  cases: number;
  connections: number;
  durationS: number;
  categories: Partial<Record<Category, CategoryStats>>;
  findings: Finding[];
  crashes: CrashRecord[];
  stalls: StallRecord[];
  maxHealthzMs: number;
  canaries: CanaryResult[];
  shutdowns: ShutdownRecord[];
  floodChecks: Array<FloodCheckResult & { phase: string }>;
  server: { aliveAtEnd: boolean; healthzAtEnd: string; errorLogs: string[]; maxLogLineBytes: number; logBytes: number; logMessages: Record<string, number> };
  failures: string[];
  passed: boolean;
}

export class Tally {
  readonly categories: Partial<Record<Category, CategoryStats>> = {};
  private readonly findings = new Map<string, Finding>();
  cases = 0;
  messages = 0;

  private stats(category: Category): CategoryStats {
    return (this.categories[category] ??= { cases: 0, messages: 0, outcomes: {}, unexpected: 0, wrong: 0, crashAffected: 0, skipped: 0 });
  }

  skip(c: FuzzCase): void {
    this.stats(c.category).skipped++;
  }

  record(c: FuzzCase, r: CaseResult, crashAffected: boolean): Verdict {
    const s = this.stats(c.category);
    s.cases++;
    s.messages += c.messages;
    this.cases++;
    this.messages += c.messages;
    const key = crashAffected ? 'crash-affected' : r.outcome;
    s.outcomes[key] = (s.outcomes[key] ?? 0) + 1;
    if (crashAffected) {
      s.crashAffected++;
      return 'ok';
    }
    const verdict = judge(c, r);
    if (verdict === 'ok') return verdict;
    if (verdict === 'wrong') s.wrong++;
    else s.unexpected++;
    // one example per (category, outcome, first violation): enough to reproduce, without drowning the report
    const id = `${c.category}|${r.outcome}|${(r.violations[0] ?? '').replace(/\d+/g, 'N')}`;
    const f = this.findings.get(id);
    if (f) f.count++;
    else this.findings.set(id, { verdict, category: c.category, outcome: r.outcome, violations: r.violations.slice(0, 5), count: 1, repro: describeCase(c) });
    return verdict;
  }

  allFindings(): Finding[] {
    return [...this.findings.values()].sort((a, b) => (a.verdict === b.verdict ? b.count - a.count : a.verdict === 'wrong' ? -1 : 1));
  }
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

/** The human-readable report: a table per category with its outcomes, then findings, crashes, stalls, canaries. */
export function formatReport(s: FuzzSummary): string {
  const out: string[] = [];
  out.push(`livestem fuzz: seed ${s.seed}, ${s.messagesSent} messages in ${s.cases} cases over ${s.connections} connections, ${s.durationS.toFixed(1)} s`);
  out.push('');
  out.push(`${pad('category', 16)} ${pad('cases', 6)} ${pad('msgs', 7)} ${pad('unexp', 5)} ${pad('wrong', 5)} outcomes`);
  for (const [category, c] of Object.entries(s.categories)) {
    const outcomes = Object.entries(c.outcomes)
      .sort((a, b) => b[1] - a[1])
      .map(([o, n]) => `${o.replace('LIVESTEM_ERR_', '')} ${n}`)
      .join(', ');
    const skipped = c.skipped > 0 ? ` (skipped ${c.skipped} quarantined)` : '';
    out.push(`${pad(category, 16)} ${pad(String(c.cases), 6)} ${pad(String(c.messages), 7)} ${pad(String(c.unexpected), 5)} ${pad(String(c.wrong), 5)} ${outcomes}${skipped}`);
  }
  if (s.findings.length > 0) {
    out.push('', 'findings (one example each):');
    for (const f of s.findings) {
      out.push(`  [${f.verdict}] ${f.category}: ${f.outcome} ×${f.count}${f.violations.length ? ` — ${f.violations.join('; ')}` : ''}`);
      out.push(`      repro: ${f.repro}`);
    }
  }
  for (const c of s.crashes) {
    out.push('', `CRASH (${c.phase}): exit code ${c.exitCode}, signal ${c.signal}; culprit: ${c.culprit ?? 'not isolated'}`);
    out.push(...c.stderrTail.slice(-12).map((l) => `  | ${l}`));
  }
  out.push('', `GET /healthz during the run: max ${s.maxHealthzMs.toFixed(0)} ms`);
  if (s.stalls.length > 0) {
    out.push('', `event-loop stalls (GET /healthz slower than the limit): ${s.stalls.length}, max ${s.maxHealthzMs.toFixed(0)} ms`);
    for (const st of s.stalls.slice(0, 5)) out.push(`  ${st.healthzMs.toFixed(0)} ms (own lag ${st.ownLagMs.toFixed(0)} ms) during: ${st.inFlight.slice(0, 6).join(', ')}`);
  }
  out.push('', 'canaries:');
  for (const c of [...s.canaries, ...s.shutdowns.flatMap((x) => x.canaries)]) {
    const recv = Object.entries(c.receivedSamples).map(([k, n]) => `${k} ${n}`).join(', ');
    out.push(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.label}: sent ${c.sentSamples}, received ${recv}, max |v+a−x| ${c.maxMixtureError.toExponential(1)}, lag p50/p99/max ${c.lagMs.p50.toFixed(0)}/${c.lagMs.p99.toFixed(0)}/${c.lagMs.max.toFixed(0)} ms${c.problems.length ? ` — ${c.problems.join('; ')}` : ''}`);
  }
  for (const sd of s.shutdowns) {
    out.push(`shutdown (${sd.phase}): ${sd.ok ? 'ok' : 'FAIL'}, exit ${sd.exitCode}${sd.signal ? ` (${sd.signal})` : ''} after ${sd.durationMs.toFixed(0)} ms${sd.problems.length ? ` — ${sd.problems.join('; ')}` : ''}`);
  }
  for (const fc of s.floodChecks) {
    out.push(`never-read flood (${fc.phase}): ${fc.ok ? 'ok' : 'FAIL'}, ${fc.requests} stats requests, server heap+external +${(fc.liveGrowthBytes / 1048576).toFixed(1)} MB, rss +${(fc.rssGrowthBytes / 1048576).toFixed(1)} MB, ${fc.serverReaction}`);
  }
  const logs = Object.entries(s.server.logMessages).sort((a, b) => b[1] - a[1]).slice(0, 12);
  out.push(`server log messages: ${logs.map(([m, n]) => `${m} ×${n}`).join(', ')}`);
  out.push(`server at end: ${s.server.aliveAtEnd ? 'alive' : 'DEAD'}, /healthz ${s.server.healthzAtEnd}; logged errors ${s.server.errorLogs.length}; longest log line ${s.server.maxLogLineBytes} bytes`);
  out.push('', s.passed ? 'PASS' : `FAIL: ${s.failures.join('; ')}`);
  return out.join('\n');
}
