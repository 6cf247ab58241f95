/**
 * Recovering from a dropped connection (docs/protocol.md §5): `resume` the same session on a new socket, retrying
 * with exponential backoff while the server's grace period lasts; only when the server refuses (UNKNOWN_SESSION,
 * RESUME_GAP) or the grace period is over, start a replacement session. Decides nothing about audio or output:
 * the session adopts whichever socket this hands back.
 */
import { LivestemClientError } from './errors.ts';
import { openResume, openStart, type HandshakeOptions, type Opened, type ResumeRequest, type StartParams } from './handshake.ts';
import type { ReadyMessage, ResumedMessage } from './protocol/index.ts';

export interface ReconnectOptions {
  /** Resume the same session first (lossless). Default true; false: always start a new session. */
  resume?: boolean;
  /** Attempts at a replacement session once resume is refused or impossible. Default 3. */
  attempts?: number;
  /** First retry delay; doubles per attempt up to `maxDelayMs`, each randomised to 50–100 % of it. Default 200. */
  delayMs?: number;
  maxDelayMs?: number;
  /** How much input `write()` takes while disconnected before it starts waiting. Default 10 000 ms. */
  bufferInputMs?: number;
}

export type ReconnectPolicy = Required<ReconnectOptions>;

export function reconnectPolicy(option: boolean | ReconnectOptions | undefined): ReconnectPolicy | undefined {
  if (option === undefined || option === false) return undefined;
  const o = option === true ? {} : option;
  return {
    resume: o.resume ?? true,
    attempts: o.attempts ?? 3,
    delayMs: o.delayMs ?? 200,
    maxDelayMs: o.maxDelayMs ?? 5000,
    bufferInputMs: o.bufferInputMs ?? 10_000,
  };
}

/** Jittered so that clients dropped together (a proxy restart) do not come back in lockstep. */
export function backoffMs(attempt: number, policy: ReconnectPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.delayMs * 2 ** Math.min(attempt, 30));
  return ceiling * (0.5 + 0.5 * random());
}

const REFUSALS: ReadonlySet<string> = new Set(['LIVESTEM_ERR_UNKNOWN_SESSION', 'LIVESTEM_ERR_RESUME_GAP']);

export type Recovery =
  | { kind: 'resumed'; opened: Opened<ResumedMessage>; attempts: number }
  | { kind: 'new-session'; opened: Opened<ReadyMessage>; attempts: number; refusal: LivestemClientError }
  | { kind: 'failed'; error: LivestemClientError }
  | { kind: 'cancelled' };

export interface RecoveryContext {
  handshake: HandshakeOptions;
  policy: ReconnectPolicy;
  /** The server's `limits.resumeGraceMs` (0: resume is off there). */
  graceMs: number;
  droppedAtMs: number;
  connectTimeoutMs: number;
  /** Built per attempt: output that arrived meanwhile moves `lastSampleOffset`. */
  resumeRequest: () => ResumeRequest;
  startParams: () => StartParams;
  /** Checks a `resumed` answer against what the client retained; an error means "cannot continue losslessly". */
  acceptResumed: (m: ResumedMessage) => LivestemClientError | undefined;
  cancelled: () => boolean;
  now?: () => number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function asClientError(err: unknown): LivestemClientError {
  if (err instanceof LivestemClientError) return err;
  return new LivestemClientError('LIVESTEM_CLIENT_CONNECTION_FAILED', err instanceof Error ? err.message : String(err), { cause: err });
}

export async function recover(ctx: RecoveryContext): Promise<Recovery> {
  const now = ctx.now ?? Date.now;
  let attempts = 0;
  let refusal: LivestemClientError | undefined;
  if (ctx.policy.resume && ctx.graceMs > 0) {
    const deadline = ctx.droppedAtMs + ctx.graceMs;
    for (let attempt = 0; ; attempt++) {
      const delay = backoffMs(attempt, ctx.policy);
      if (now() + delay >= deadline) break;
      await sleep(delay);
      if (ctx.cancelled()) return { kind: 'cancelled' };
      attempts++;
      try {
        // An attempt may outlive the client's idea of the deadline: the server then answers UNKNOWN_SESSION itself.
        const timeoutMs = Math.max(250, Math.min(ctx.connectTimeoutMs, deadline - now() + 2000));
        const opened = await openResume(ctx.handshake, ctx.resumeRequest(), timeoutMs);
        if (ctx.cancelled()) {
          opened.socket.close(1000, 'client closed');
          return { kind: 'cancelled' };
        }
        const problem = ctx.acceptResumed(opened.answer);
        if (problem === undefined) return { kind: 'resumed', opened, attempts };
        opened.socket.onclose = null;
        opened.socket.close(1000, 'cannot resume losslessly');
        refusal = problem;
        break;
      } catch (err) {
        const error = asClientError(err);
        if (REFUSALS.has(error.code)) {
          refusal = error;
          break;
        }
        if (!error.retryable) return { kind: 'failed', error };
      }
    }
  }
  refusal ??= new LivestemClientError(
    'LIVESTEM_CLIENT_CONNECTION_FAILED',
    ctx.policy.resume && ctx.graceMs > 0 ? `could not resume within the ${ctx.graceMs} ms grace period` : 'resume is off',
  );
  let lastError: LivestemClientError = refusal;
  for (let attempt = 0; attempt < ctx.policy.attempts; attempt++) {
    await sleep(backoffMs(attempt, ctx.policy));
    if (ctx.cancelled()) return { kind: 'cancelled' };
    attempts++;
    try {
      const opened = await openStart(ctx.handshake, ctx.startParams(), ctx.connectTimeoutMs);
      if (ctx.cancelled()) {
        opened.socket.close(1000, 'client closed');
        return { kind: 'cancelled' };
      }
      return { kind: 'new-session', opened, attempts, refusal };
    } catch (err) {
      lastError = asClientError(err);
      if (!lastError.retryable) break;
    }
  }
  return { kind: 'failed', error: lastError };
}
