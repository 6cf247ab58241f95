/**
 * Capacity search, pure: step the number of concurrent streams up from `start` by `step` until a step fails the
 * SLO, and report the largest passing N below the first failure. Stepping (not bisection) because a real-time
 * server degrades abruptly past saturation, and the curve of p99 vs N is itself part of the answer.
 */

export interface RampSpec {
  start: number;
  end: number;
  step: number;
}

export interface StepVerdictInput {
  streams: number;
  p99E2eMs: number;
  gaps: number;
  /** Sessions that failed to start or ended with an error. */
  failedSessions: number;
}

export interface StepVerdict {
  pass: boolean;
  reasons: string[];
}

export function parseRampSpec(spec: string): RampSpec {
  const parts = spec.split(':').map((p) => Number(p));
  if (parts.length !== 3 || parts.some((n) => !Number.isInteger(n) || n <= 0)) {
    throw new Error(`--ramp expects start:end:step with positive integers (e.g. 8:256:8), got "${spec}"`);
  }
  const [start, end, step] = parts as [number, number, number];
  if (end < start) throw new Error(`--ramp end ${end} is below start ${start}`);
  return { start, end, step };
}

export function rampSteps(spec: RampSpec): number[] {
  const steps: number[] = [];
  for (let n = spec.start; n <= spec.end; n += spec.step) steps.push(n);
  return steps;
}

export function judgeStep(input: StepVerdictInput, sloP99Ms: number): StepVerdict {
  const reasons: string[] = [];
  if (!(input.p99E2eMs <= sloP99Ms)) reasons.push(`p99 ${input.p99E2eMs.toFixed(1)} ms > SLO ${sloP99Ms.toFixed(1)} ms`);
  if (input.gaps > 0) reasons.push(`${input.gaps} gap(s) in output`);
  if (input.failedSessions > 0) reasons.push(`${input.failedSessions} session(s) failed`);
  return { pass: reasons.length === 0, reasons };
}

export interface RampOutcome {
  /** Largest N that passed, with every smaller step passing too; 0 when the first step already failed. */
  capacityStreams: number;
  /** First failing N, or null when every step passed (capacity is then at least the last step). */
  firstFailStreams: number | null;
  saturated: boolean;
}

/** Decides from the steps run so far; `done` is true once a step failed or the spec is exhausted. */
export function rampOutcome(verdicts: Array<{ streams: number; pass: boolean }>, spec: RampSpec): RampOutcome & { done: boolean } {
  let capacity = 0;
  for (const v of verdicts) {
    if (!v.pass) return { capacityStreams: capacity, firstFailStreams: v.streams, saturated: true, done: true };
    capacity = v.streams;
  }
  const steps = rampSteps(spec);
  const done = verdicts.length >= steps.length;
  return { capacityStreams: capacity, firstFailStreams: null, saturated: false, done };
}
