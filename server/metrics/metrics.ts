/**
 * Every metric livestem exports, defined in one place on a private prom-client Registry (so several servers can
 * live in one process, as in tests). Default process metrics are included, minus the three
 * `nodejs_active_*_total` gauges whose names make `promtool check metrics` fail (counter suffix on a gauge).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { logBucketsMs } from './latency-histogram.ts';
import { LatencyWindow } from './latency-window.ts';

/** How far back admission looks at hop latency: long enough for a p99 of a few hundred hops, short enough to react. */
export const RECENT_HOP_LATENCY_WINDOW_MS = 2000;

export class Metrics {
  readonly registry = new Registry();

  readonly sessionsActive = new Gauge({
    name: 'livestem_sessions_active',
    help: 'Sessions currently admitted (streaming, draining or detached awaiting resume)',
    registers: [this.registry],
  });
  readonly sessionsStarted = new Counter({ name: 'livestem_sessions_started_total', help: 'Sessions admitted', registers: [this.registry] });
  readonly sessionsRejected = new Counter({
    name: 'livestem_sessions_rejected_total',
    help: 'Session starts refused, by reason (error code)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly sessionsEnded = new Counter({
    name: 'livestem_sessions_ended_total',
    help: 'Sessions ended, by outcome (done, shutdown, abandoned, or an error code)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly resumes = new Counter({ name: 'livestem_resumes_total', help: 'Successful session resumes', registers: [this.registry] });
  readonly inputMessages = new Counter({ name: 'livestem_input_frames_total', help: 'Binary audio messages received', registers: [this.registry] });
  readonly inputSeconds = new Counter({ name: 'livestem_input_audio_seconds_total', help: 'Seconds of audio received', registers: [this.registry] });
  readonly inputAdjustedSamples = new Counter({
    name: 'livestem_input_adjusted_samples_total',
    help:
      'Input samples (per channel, client rate) not processed as sent, by reason: clamped (f32 beyond the documented range), ' +
      'dropped-overrun (oldest input dropped on a transport that cannot be slowed down), ignored-after-shutdown ' +
      '(arrived after the server flushed the session for shutdown)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly rateLimited = new Counter({
    name: 'livestem_rate_limited_total',
    help: 'Connections failed for exceeding a per-connection message rate, by message class (control, audio)',
    labelNames: ['class'] as const,
    registers: [this.registry],
  });
  readonly outputNonFiniteSamples = new Counter({
    name: 'livestem_output_nonfinite_samples_total',
    help: 'Output samples that came out of the engine non-finite and were sent as 0 (should stay 0: a model bug)',
    registers: [this.registry],
  });
  readonly outputFrames = new Counter({
    name: 'livestem_output_frames_total',
    help: 'Binary output frames sent, by kind',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly modelFrames = new Counter({ name: 'livestem_model_frames_total', help: 'STFT frames stepped through a model', registers: [this.registry] });
  readonly lateFrames = new Counter({
    name: 'livestem_late_frames_total',
    help: 'Hops whose output left later than the late-frame budget after their input was due (still sent)',
    registers: [this.registry],
  });
  readonly batchSize = new Histogram({
    name: 'livestem_batch_size',
    help: 'Streams stepped per model call',
    labelNames: ['model'] as const,
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
    registers: [this.registry],
  });
  readonly inferenceSeconds = new Histogram({
    name: 'livestem_inference_seconds',
    help: 'Duration of one batched model call',
    labelNames: ['model'] as const,
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1],
    registers: [this.registry],
  });
  readonly batchWaitSeconds = new Histogram({
    name: 'livestem_batch_wait_seconds',
    help: 'Longest time a frame of the batch waited in the queue before its model call',
    labelNames: ['model'] as const,
    buckets: [0.0001, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05],
    registers: [this.registry],
  });
  readonly hopLatencySeconds = new Histogram({
    name: 'livestem_hop_processing_seconds',
    help: 'Per hop: from when its input was due (arrived and real time reached it) to when its output was sent',
    buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.04, 0.08, 0.16, 0.5, 1],
    registers: [this.registry],
  });
  /** Buckets resolve 0.5–50 ms: the range a real-time budget (`--latency-budget-ms`, 10 ms) is set in. */
  readonly hopServerAddedSeconds = new Histogram({
    name: 'livestem_hop_server_added_seconds',
    help: 'Per hop: from the arrival of the input message that completed it to when its output was written to the transport',
    buckets: [0.0005, 0.001, 0.0015, 0.002, 0.003, 0.004, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });
  /**
   * Per hop, server-added latency split at the engine's stamps (session/hop-stages.ts): the stages of one hop sum to
   * its `livestem_hop_server_added_seconds` observation. Buckets start at 50 µs: most stages are far below a hop.
   */
  readonly hopStageSeconds = new Histogram({
    name: 'livestem_hop_stage_seconds',
    help: 'Per hop: server-added latency by stage (to_engine, engine, to_io, write); the stages of a hop sum to its server-added latency',
    labelNames: ['stage'] as const,
    buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0015, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });
  readonly admissionHeadroomSeconds = new Gauge({
    name: 'livestem_admission_headroom_seconds',
    help: 'Latency budget minus the per-hop latency predicted with one more session; at or below 0 new sessions are refused',
    registers: [this.registry],
  });
  /**
   * Not exported: per-hop processing latency of the last 2 s, all sessions, which admission reads its p99 from
   * (the exported histograms are cumulative, so they cannot answer "recently").
   */
  readonly recentHopLatency = new LatencyWindow({ windowMs: RECENT_HOP_LATENCY_WINDOW_MS, slices: 8, boundsMs: logBucketsMs(0.1, 10_000, 20) });
  readonly queueDepth = new Gauge({
    name: 'livestem_batch_queue_depth',
    help: 'Frames waiting for a model call, by model',
    labelNames: ['model'] as const,
    registers: [this.registry],
  });
  readonly bufferedInputSeconds = new Gauge({
    name: 'livestem_buffered_input_seconds',
    help: 'Audio received but not yet processed, summed over sessions',
    registers: [this.registry],
  });
  readonly engineLoad = new Gauge({
    name: 'livestem_engine_load',
    help: 'Admission load estimate (max of event-loop utilisation and model busy fraction), 0..1',
    registers: [this.registry],
  });
  readonly sessionErrors = new Counter({
    name: 'livestem_session_errors_total',
    help: 'Errors sent to clients, by code',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 10 });
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
      this.registry.removeSingleMetric(name);
    }
  }

  /** Values that are sampled rather than counted are refreshed by the owner right before a scrape. */
  setCollector(collect: () => void): void {
    this.collect = collect;
  }
  private collect: (() => void) | undefined;

  async render(): Promise<{ contentType: string; body: string }> {
    this.collect?.();
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
