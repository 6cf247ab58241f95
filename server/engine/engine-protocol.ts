/**
 * The typed boundary between the I/O thread (sockets, sessions, wire formats) and the engine (per-stream DSP and
 * cross-stream batched model steps), whether the engine runs in a worker thread or in-thread. Audio crosses it as
 * planar Float32 arrays, never as wire bytes: each transport owns its own wire format. Every message is
 * structured-clone safe, and the arrays in `audio` commands and `output` events are transferred, not copied.
 *
 * Times are the I/O thread's: arrival and due times are carried in the messages, so latency is measured on one
 * clock from arrival to send. The engine reads a clock only to stamp when it took input in and emitted output, for
 * the per-stage breakdown, and converts it to the I/O thread's first (engine-worker.ts).
 */
import type { FramedOutput } from '../pipeline/output-framer.ts';
import type { ErrorCode } from '../errors.ts';

/** What the engine needs to know about one stream (the audio fields of a validated `start`). */
export interface EngineStreamConfig {
  /** A model name the engine has loaded. */
  model: string;
  inputSampleRateHz: number;
  inputChannels: 1 | 2;
  outputSampleRateHz: number;
  vad: boolean;
  /** Output above this many samples is emitted without waiting for the processing loop to run dry. */
  maxFrameSamples: number;
  /** Below this much queued input (input-rate samples) after having been above it, `input-low-water` is emitted. */
  lowWaterInputSamples: number;
}

export type EngineCommand =
  | { type: 'open'; streamId: number; config: EngineStreamConfig }
  /** Planar input at the client rate (transferred). */
  | { type: 'audio'; streamId: number; samples: Float32Array[]; arrivalMs: number }
  | { type: 'marker'; streamId: number; marker: 'flush' | 'end'; arrivalMs: number }
  /** Drops the oldest queued input until at most `keepSamples` is queued (transports without backpressure). */
  | { type: 'trim-input'; streamId: number; keepSamples: number }
  | { type: 'close'; streamId: number };

/** Cumulative counters of one stream, attached to every event so the I/O thread's view is never older than its news. */
export interface EngineProgress {
  /** Input samples (per channel, input rate) that entered the pipeline. */
  inputSamples: number;
  /** Input samples dropped by `trim-input`. */
  droppedSamples: number;
  /** Output samples (per channel, output rate) the pipeline produced. */
  outputSamples: number;
  framesProcessed: number;
}

/**
 * A contiguous span of separated output as it crosses the boundary: the pipeline's framed span (both stems planar,
 * one array per client channel, transferred; the VAD of its hops; per hop the due, arrival and engine-handled times
 * on the I/O thread's clock, for latency accounting at send time), and when it left the engine and reached the I/O
 * thread (session/hop-stages.ts).
 */
export interface EngineOutput extends FramedOutput {
  emittedMs: number;
  /** Set by the I/O side of a worker boundary when the event arrives; equal to `emittedMs` in-thread. */
  receivedMs: number;
}

export type EngineEvent =
  | { type: 'output'; streamId: number; output: EngineOutput; progress: EngineProgress }
  | { type: 'flushed'; streamId: number; sampleOffset: number; progress: EngineProgress }
  /** The `end` marker was applied: every output sample has been emitted. */
  | { type: 'drained'; streamId: number; progress: EngineProgress }
  | { type: 'input-dropped'; streamId: number; samples: number; inputSampleOffset: number; progress: EngineProgress }
  | { type: 'input-low-water'; streamId: number; progress: EngineProgress }
  | { type: 'failed'; streamId: number; code: ErrorCode; message: string };

/** Engine-side counts for the I/O thread's metrics (deltas since the last report). */
export interface EngineTelemetry {
  modelFrames: number;
  outputNonFiniteSamples: number;
  /** Per model: one entry per batched model call. */
  batches: Array<{ model: string; size: number; runMs: number; maxWaitMs: number }>;
  /** Per model: frames waiting for a model call right now. */
  queueDepth: Record<string, number>;
}

/** The arrays an event carries, for a transfer list. */
export function transferablesOf(event: EngineEvent): ArrayBuffer[] {
  if (event.type !== 'output') return [];
  return uniqueBuffers([...event.output.vocals, ...event.output.accompaniment]);
}

export function commandTransferables(command: EngineCommand): ArrayBuffer[] {
  return command.type === 'audio' ? uniqueBuffers(command.samples) : [];
}

/** A buffer may back several arrays (both channels of one block): list it once, and never a shared one. */
function uniqueBuffers(arrays: readonly Float32Array[]): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  for (const a of arrays) if (a.buffer instanceof ArrayBuffer) out.add(a.buffer);
  return [...out];
}
