/**
 * Runs one load step: N sessions with staggered starts, each streaming the song in real time with its own frame
 * size, pinging for RTT, then `end` → `done`. One scheduler drives every session's sends, so pacing costs one timer
 * rather than N, and each frame's actual send time (not its due time) is what latency is measured from: a late
 * generator can make figures pessimistic, never optimistic. Its own lag is reported alongside.
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { OutputFraming, OutputKind, SampleFormat } from '../client-sdk/src/protocol/index.ts';
import type { ClientAuth, Clock, Connector, LoadSession, TransportKind } from './clients/types.ts';
import { LoadClientError } from './clients/types.ts';
import { MetricsScraper } from './metrics/scraper.ts';
import { SessionTracker } from './session-tracker.ts';
import { SongCursor, type Song } from './song.ts';
import { aggregateStep, type SessionOutcome, type StepResult } from './step-result.ts';
import { percentileSorted, SampleBuffer, sortedCopy } from './stats/percentiles.ts';

export interface StepOptions {
  url: string;
  streams: number;
  /** How many of `streams` use WebRTC; the rest use WebSocket. */
  webrtcStreams: number;
  durationS: number;
  /**
   * Streams this many model hops per session instead of `durationS` (the soak), for sessions whose `ready` states
   * the hop (WebSocket); WebRTC sessions still stream `durationS`.
   */
  hopsPerStream?: number;
  song: Song;
  /** The song at 48 kHz stereo for WebRTC sessions (Opus runs at 48 kHz, 20 ms packets). */
  webrtcSong?: Song;
  frameSizesMs: number[];
  /** Session starts are spread evenly over this window. */
  staggerMs: number;
  format: SampleFormat;
  outputs?: OutputKind[];
  outputFraming?: OutputFraming;
  model?: string;
  lateThresholdMs: number;
  /** Per-hop server-added latency budget: the step then counts missed deadlines (`StepResult.deadlines`). */
  budgetMs?: number;
  metricsUrl: string | null;
  /**
   * The server's API key (`LIVESTEM_API_KEY` on the server), sent as `Authorization: Bearer` by every session and
   * every scrape; undefined for an open server. An option, not read from the environment here, so that only the CLI
   * decides where secrets come from.
   */
  apiKey?: string;
  pingIntervalMs: number;
  doneTimeoutMs: number;
  connectors: Record<TransportKind, Connector | null>;
  onProgress?: (p: StepProgress) => void;
  progressIntervalMs?: number;
}

export interface StepProgress {
  streams: number;
  elapsedS: number;
  active: number;
  failed: number;
  framesReceived: number;
  gaps: number;
  recentP99Ms: number;
}

interface Stream {
  session: LoadSession;
  tracker: SessionTracker;
  cursor: SongCursor;
  samplesPerFrame: number;
  frameMs: number;
  startMs: number;
  framesSent: number;
  totalFrames: number;
  nextPingMs: number;
  finished: () => void;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));

export async function runStep(opts: StepOptions): Promise<StepResult> {
  const clock: Clock = () => performance.now();
  const loopDelay = monitorEventLoopDelay({ resolution: 5 });
  loopDelay.enable();
  const auth: ClientAuth = opts.apiKey !== undefined ? { apiKey: opts.apiKey } : {};
  const scraper = opts.metricsUrl ? new MetricsScraper(opts.metricsUrl, clock, auth) : null;
  if (scraper) await scraper.start(2000);

  const active = new Set<Stream>();
  const sendLag = new SampleBuffer(4096);
  const recent = new SampleBuffer(4096);
  const trackers: Array<SessionTracker | undefined> = [];
  let receivedFrames = 0;
  let gapsSoFar = 0;
  let failedSoFar = 0;
  let longestStreamMs = 0;
  const stepStartMs = clock();

  // ---- the shared pacer ----
  let running = true;
  let wake: (() => void) | null = null;
  let pacerError: unknown = null;
  const pacer = (async () => {
    while (running) {
      const now = clock();
      let nextDue = now + 50;
      for (const s of active) {
        while (s.framesSent < s.totalFrames) {
          const due = s.startMs + s.framesSent * s.frameMs;
          if (due > now) {
            nextDue = Math.min(nextDue, due);
            break;
          }
          const sentAt = s.session.sendAudio(s.cursor.next(s.samplesPerFrame));
          if (sentAt === null) {
            s.totalFrames = s.framesSent; // transport closed; the session's own promise records why
            break;
          }
          s.tracker.noteInputSent(s.samplesPerFrame, sentAt);
          sendLag.push(sentAt - due);
          s.framesSent += 1;
        }
        if (s.framesSent >= s.totalFrames) {
          active.delete(s);
          s.finished();
          continue;
        }
        if (now >= s.nextPingMs) {
          s.session.ping();
          s.nextPingMs = now + opts.pingIntervalMs;
        }
        nextDue = Math.min(nextDue, s.nextPingMs);
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, Math.max(1, nextDue - clock()));
      });
      wake = null;
    }
  })().catch((err: unknown) => {
    // a client that throws while sending is a bug: release every waiting session, then fail the step with it
    pacerError = err;
    running = false;
    for (const s of active) s.finished();
    active.clear();
  });

  const progressTimer = opts.onProgress
    ? setInterval(() => {
        const recentView = sortedCopy(recent.view());
        recent.clear();
        opts.onProgress!({
          streams: opts.streams,
          elapsedS: (clock() - stepStartMs) / 1000,
          active: active.size,
          failed: failedSoFar,
          framesReceived: receivedFrames,
          gaps: gapsSoFar,
          recentP99Ms: percentileSorted(recentView, 99),
        });
      }, opts.progressIntervalMs ?? 1000)
    : null;

  const runSession = async (index: number): Promise<SessionOutcome> => {
    const transport: TransportKind = index < opts.streams - opts.webrtcStreams ? 'websocket' : 'webrtc';
    const song = transport === 'webrtc' ? opts.webrtcSong : opts.song;
    if (!song) throw new Error('WebRTC sessions need opts.webrtcSong (48 kHz stereo)');
    const rate = song.sampleRateHz;
    const channels = song.channels.length as 1 | 2;
    const frameMs = transport === 'webrtc' ? 20 : opts.frameSizesMs[index % opts.frameSizesMs.length]!;
    const outcome: SessionOutcome = { index, transport, frameMs, measurement: null, done: null, algorithmicLatencyMs: null, modelName: null, error: null };
    await sleep(stepStartMs + (index * opts.staggerMs) / opts.streams - clock());
    const connector = opts.connectors[transport];
    if (!connector) throw new Error(`no ${transport} client available`);
    let tracker: SessionTracker | null = null;
    let session: LoadSession | null = null;
    try {
      session = await connector(
        opts.url,
        {
          sampleRateHz: rate,
          channels,
          format: opts.format,
          ...(opts.outputs ? { outputs: opts.outputs } : {}),
          ...(opts.outputFraming ? { outputFraming: opts.outputFraming } : {}),
          ...(opts.model ? { model: opts.model } : {}),
          vad: true,
          streamId: `loadtest-${index}`,
        },
        {
          onOutputFrame: (frame, recvMs) => {
            if (!tracker) return;
            const before = tracker.e2eMs.length;
            const gapsBefore = tracker.gapCount;
            tracker.noteOutputFrame(frame, recvMs);
            receivedFrames += 1;
            gapsSoFar += tracker.gapCount - gapsBefore;
            if (tracker.e2eMs.length > before) recent.push(tracker.e2eMs.view()[before]!);
          },
          onPong: (rttMs) => tracker?.notePong(rttMs),
        },
        clock,
        auth,
      );
      outcome.algorithmicLatencyMs = session.ready.algorithmicLatencyMs;
      outcome.modelName = session.ready.modelName;
      tracker = new SessionTracker({
        inputSampleRateHz: rate,
        algorithmicLatencyMs: session.ready.algorithmicLatencyMs,
        lateThresholdMs: opts.lateThresholdMs,
        outputHopSamples: session.ready.outputHopSamples,
        // frames of one span go out in `outputs` order: the last kind's frame completes the hop
        ...(session.ready.outputHopSamples !== null ? { timedKind: session.ready.outputs.at(-1)! } : {}),
      });
      const samplesPerFrame = Math.round((rate * frameMs) / 1000);
      const hop = session.ready.outputHopSamples;
      const streamMs =
        opts.hopsPerStream !== undefined && hop !== null ? (opts.hopsPerStream * hop * 1000) / session.ready.outputSampleRateHz : opts.durationS * 1000;
      longestStreamMs = Math.max(longestStreamMs, streamMs);
      let finished: () => void = () => undefined;
      const allSent = new Promise<void>((r) => (finished = r));
      const startMs = clock();
      if (pacerError !== null) throw new LoadClientError('LOADTEST_PACER_FAILED', `pacer stopped: ${(pacerError as Error).message}`);
      active.add({
        session,
        tracker,
        cursor: new SongCursor(song, Math.round(index * 7.3 * rate)),
        samplesPerFrame,
        frameMs,
        startMs,
        framesSent: 0,
        totalFrames: Math.ceil(streamMs / frameMs),
        nextPingMs: startMs,
        finished,
      });
      wake?.();
      const died = session.closed.then((err) => err ?? new LoadClientError('LOADTEST_CONNECTION_CLOSED', 'closed before end'));
      const first = await Promise.race([allSent.then(() => null), died]);
      if (first !== null) throw first;
      tracker.noteEndSent(clock());
      const done = await session.end(opts.doneTimeoutMs);
      outcome.done = done;
      // WebRTC output is paced on the server's clock and its tail is cut at hang-up: only WebSocket promises
      // output length == input length
      if (transport === 'websocket') tracker.noteDone(done.outputSamples, session.ready.outputs);
    } catch (err) {
      failedSoFar += 1;
      outcome.error = err instanceof LoadClientError ? err.code : 'LOADTEST_UNEXPECTED';
      outcome.errorMessage = (err as Error).message;
      for (const s of active) if (s.session === session) active.delete(s);
    } finally {
      session?.close();
      if (tracker) outcome.measurement = tracker.finish();
      if (tracker) trackers[index] = tracker;
    }
    return outcome;
  };

  const outcomes = await Promise.all(Array.from({ length: opts.streams }, (_, i) => runSession(i)));
  running = false;
  (wake as (() => void) | null)?.();
  await pacer;
  if (progressTimer) clearInterval(progressTimer);
  if (pacerError !== null) throw pacerError;
  loopDelay.disable();
  const server = scraper ? await scraper.stop() : null;

  const e2e = new SampleBuffer(1 << 16);
  const serverAdded = new SampleBuffer(1 << 16);
  const e2eByTransport: Record<TransportKind, SampleBuffer> = { websocket: new SampleBuffer(), webrtc: new SampleBuffer() };
  for (const [index, tracker] of trackers.entries()) {
    if (!tracker) continue;
    e2e.pushAll(tracker.e2eMs);
    serverAdded.pushAll(tracker.serverMs);
    e2eByTransport[outcomes[index]!.transport].pushAll(tracker.e2eMs);
  }
  const lag = sortedCopy(sendLag.view());
  return aggregateStep({
    outcomes,
    e2e,
    serverAdded,
    e2eByTransport,
    audioSeconds: opts.hopsPerStream !== undefined ? longestStreamMs / 1000 : opts.durationS,
    wallSeconds: (clock() - stepStartMs) / 1000,
    lateThresholdMs: opts.lateThresholdMs,
    ...(opts.budgetMs !== undefined ? { budgetMs: opts.budgetMs } : {}),
    generator: {
      eventLoopDelayP99Ms: loopDelay.percentile(99) / 1e6,
      eventLoopDelayMaxMs: loopDelay.max / 1e6,
      sendLagP99Ms: percentileSorted(lag, 99),
      sendLagMaxMs: lag.length > 0 ? lag[lag.length - 1]! : Number.NaN,
    },
    server,
  });
}
