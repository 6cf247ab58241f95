/** `LoadSession` through the project's client SDK (`@livestem/client` in client-sdk/): what an application would use. */
import { connect, LivestemClientError, type LivestemSession } from '../../client-sdk/src/index.ts';
import { LoadClientError, type Connector, type LoadSession, type SessionDone, type SessionReady } from './types.ts';

function toLoadError(err: unknown): LoadClientError {
  if (err instanceof LivestemClientError) return new LoadClientError(err.code, err.message, { cause: err });
  return new LoadClientError('LOADTEST_UNEXPECTED', (err as Error).message, { cause: err });
}

class SdkLoadSession implements LoadSession {
  readonly transport = 'websocket' as const;
  readonly closed: Promise<LoadClientError | null>;
  private writeFailure: LoadClientError | null = null;

  constructor(
    private readonly session: LivestemSession,
    readonly ready: SessionReady,
    private readonly clock: () => number,
    private readonly onPong: (rttMs: number) => void,
  ) {
    this.closed = session.closed.then((ev) => (ev.error ? toLoadError(ev.error) : this.writeFailure));
  }

  sendAudio(planar: Float32Array[]): number | null {
    if (this.session.state !== 'open') return null;
    const t = this.clock();
    // write() sends synchronously and then waits for the socket to drain below its high-water mark; the pacer does
    // not wait (real time does not), but a failed write fails the session
    this.session.write(planar).catch((err: unknown) => {
      this.writeFailure ??= toLoadError(err);
      this.session.close();
    });
    return t;
  }

  ping(): void {
    if (this.session.state !== 'open') return;
    this.session.ping().then(this.onPong, (err: unknown) => {
      this.writeFailure ??= toLoadError(err);
    });
  }

  async end(timeoutMs: number): Promise<SessionDone> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new LoadClientError('LOADTEST_DONE_TIMEOUT', `no done within ${timeoutMs} ms of end`)), timeoutMs);
    });
    try {
      return await Promise.race([this.session.end(), timeout]);
    } catch (err) {
      throw err instanceof LoadClientError ? err : toLoadError(err);
    } finally {
      clearTimeout(timer);
    }
  }

  close(): void {
    this.session.close();
  }
}

export const connectSdk: Connector = async (url, start, handlers, clock, auth) => {
  let session: LivestemSession;
  try {
    session = await connect({
      url,
      // in Node the SDK sends this as `Authorization: Bearer`, never in the URL (which takes only minted tokens)
      ...(auth.apiKey !== undefined ? { token: auth.apiKey } : {}),
      sampleRate: start.sampleRateHz,
      channels: start.channels,
      format: start.format,
      ...(start.outputs ? { outputs: start.outputs } : {}),
      ...(start.model ? { model: start.model } : {}),
      ...(start.vad !== undefined ? { vad: start.vad } : {}),
      ...(start.outputFraming ? { outputFraming: start.outputFraming } : {}),
      ...(start.streamId ? { streamId: start.streamId } : {}),
    });
  } catch (err) {
    throw toLoadError(err);
  }
  session.on('output', (chunk) => {
    handlers.onOutputFrame(
      { kind: chunk.kind, sequence: chunk.sequence, sampleOffset: chunk.sampleOffset, sampleCount: chunk.samples[0]?.length ?? 0, sampleRateHz: chunk.sampleRateHz },
      clock(),
    );
  });
  const r = session.ready;
  const ready: SessionReady = {
    sessionId: r.sessionId,
    modelName: r.model.name,
    algorithmicLatencyMs: r.latency.ms,
    outputSampleRateHz: r.output.sampleRateHz,
    outputHopSamples: r.vadHopSamples,
    outputs: r.output.outputs,
  };
  return new SdkLoadSession(session, ready, clock, handlers.onPong);
};
