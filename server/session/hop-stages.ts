/**
 * Where a hop's server-added latency goes: the interval from the arrival of the input message that completed the hop
 * to the write of its output, cut at the three stamps its span carries on the way (all on the I/O thread's clock):
 *
 *   arrival ─to_engine─▶ handled ─engine─▶ emitted ─to_io─▶ received ─write─▶ written
 *
 * - to_engine: the command carrying the input waited for the I/O thread's turn to end, the post, and the engine
 *   thread's event loop;
 * - engine: the input queue, the batch window, the model call, DSP and framing (a hop that waits in its span for
 *   later hops waits here too);
 * - to_io: the worker's end-of-turn flush, the post back and the I/O thread's event loop (0 in-thread);
 * - write: selection, the replay buffer, wire encoding and the socket write.
 */

export const HOP_STAGES = ['to_engine', 'engine', 'to_io', 'write'] as const;
export type HopStage = (typeof HOP_STAGES)[number];

/** The stamps of one hop between its arrival and its write, ms on the I/O thread's clock. */
export interface HopStamps {
  arrivalMs: number;
  handledMs: number;
  emittedMs: number;
  receivedMs: number;
  writtenMs: number;
}

/**
 * Writes the hop's stage durations (ms, HOP_STAGES order) into `outMs`. The engine's stamps come from another
 * thread's clock converted by its time origin, which can be off by a few microseconds: each stamp is clamped between
 * the previous one and the write, so every stage is ≥ 0 and they sum to exactly max(0, written − arrival) — the
 * hop's server-added latency.
 */
export function splitHop(s: HopStamps, outMs: Float64Array): void {
  const end = Math.max(s.arrivalMs, s.writtenMs);
  const handled = clamp(s.handledMs, s.arrivalMs, end);
  const emitted = clamp(s.emittedMs, handled, end);
  const received = clamp(s.receivedMs, emitted, end);
  outMs[0] = handled - s.arrivalMs;
  outMs[1] = emitted - handled;
  outMs[2] = received - emitted;
  outMs[3] = end - received;
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}
