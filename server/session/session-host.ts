/**
 * The contracts around a session: its timers, its settings, the engine its stream runs on, and what it asks of the
 * registry that hosts it (admission, resume, release).
 */
import type { Engine } from '../engine/engine.ts';
import type { LivestemError } from '../errors.ts';
import type { ModelManifest } from '../inference/model-manifest.ts';
import type { Logger } from '../log.ts';
import type { LogThrottle } from '../log-throttle.ts';
import type { Metrics } from '../metrics/metrics.ts';
import type { ResumeMessage, SessionLimits } from '../../client-sdk/src/protocol/index.ts';
import type { Session } from './session.ts';

export interface SessionTimers {
  now(): number;
  setTimeout(fn: () => void, ms: number): { cancel(): void };
}

export interface SessionSettings {
  limits: SessionLimits;
  lateFrameMs: number;
  /** Output above this many samples is sent without waiting for the processing loop to run dry. */
  maxFrameSamples: number;
}

/** What a session asks of its registry. */
export interface SessionHost {
  readonly settings: SessionSettings;
  readonly metrics: Metrics;
  readonly log: Logger;
  /** Lines a client can trigger at will (its own errors) go through this, keyed by remote host. */
  readonly logThrottle: LogThrottle;
  readonly timers: SessionTimers;
  /** Where session streams are processed (worker threads, or in-thread). */
  readonly engine: Engine;
  /** Resolves a model name (undefined = default) to the manifest of a model the engine serves. */
  model(name: string | undefined): ModelManifest | undefined;
  /** Admission decision for a new session; undefined when admitted. */
  admissionError(): LivestemError | undefined;
  admitted(session: Session): void;
  released(session: Session): void;
  /** Resume: moves this placeholder's connection to the named detached session, or fails the placeholder. */
  resume(placeholder: Session, message: ResumeMessage): void;
}
