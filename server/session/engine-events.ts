/**
 * What each engine event means for a session: output is selected, retained and written (when attached), progress
 * refreshes the input ledger, drops are reported to the client and counted, and input reading resumes once the
 * engine has caught up. The session supplies the effects; lifecycle decisions (drained, fail) stay the session's.
 */
import type { ErrorCode } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics/metrics.ts';
import type { ServerMessage } from '../../client-sdk/src/protocol/index.ts';
import type { EngineEvent } from '../engine/engine-protocol.ts';
import type { Connection } from './connection.ts';
import type { SessionStream } from './session-stream.ts';

export interface EngineEventEffects {
  /** Where output goes now; undefined while detached (output is only retained for the replay). */
  connection: Connection | undefined;
  metrics: Metrics;
  log: Logger;
  now(): number;
  lowWaterInputMs: number;
  send(message: ServerMessage): void;
  /** Output was written: apply the send-buffer policy. */
  sent(): void;
  drained(): void;
  fail(code: ErrorCode, message: string): void;
  /** The engine's input queue is below the low-water mark: reading may resume. */
  inputLow(): void;
}

export function applyEngineEvent(event: EngineEvent, stream: SessionStream, fx: EngineEventEffects): void {
  if (event.type === 'failed') {
    fx.fail(event.code, event.message);
    return;
  }
  stream.ledger.update(event.progress);
  switch (event.type) {
    case 'output': {
      const out = stream.deliver(event.output, fx.connection, fx.now);
      if (!fx.connection) break;
      for (const s of out.streams) fx.metrics.outputFrames.inc({ kind: s.kind });
      fx.sent();
      break;
    }
    case 'flushed':
      fx.send({ type: 'flushed', sampleOffset: event.sampleOffset });
      break;
    case 'drained':
      fx.drained();
      return;
    case 'input-dropped': {
      // A client that cannot be slowed down (RTP) and an engine that fell behind: it caught up; say what was lost.
      const { samples, inputSampleOffset } = event;
      fx.metrics.inputAdjustedSamples.inc({ reason: 'dropped-overrun' }, samples);
      fx.send({ type: 'input-dropped', reason: 'engine-behind', samples, inputSampleOffset, totalSamples: stream.ledger.adjustments.inputDroppedSamples });
      fx.log.warn('input dropped: engine behind a client without backpressure', { samples });
      break;
    }
    case 'input-low-water':
      break;
  }
  // Every event carries fresh progress: the ledger may show the engine caught up even without a low-water event.
  if (stream.ledger.bufferedInputMs < fx.lowWaterInputMs) fx.inputLow();
}
