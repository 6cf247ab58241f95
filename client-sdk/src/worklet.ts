/**
 * Browser helper for apps that want PCM rather than MediaStreams: an AudioWorklet captures any AudioNode, the audio
 * goes over the WebSocket protocol (`connect`), and each output kind comes back both as PCM events on the session and
 * through a small AudioWorklet player node you can connect to the speakers or to further processing.
 *
 * The player keeps a bounded ring (`maxBufferedMs`): audio arriving when it is full is dropped and counted, and a
 * player that runs dry plays silence and counts the underrun, so the playback delay can never grow without bound.
 */
import { connect, type ConnectOptions, type LivestemSession } from './session.ts';
import type { OutputKind } from './protocol/index.ts';

export interface WorkletStreamOptions extends Omit<ConnectOptions, 'sampleRate' | 'channels'> {
  /** Samples per channel per WebSocket message. Default 960 (20 ms at 48 kHz). */
  chunkSamples?: number;
  /** Output kinds to create player nodes for. Default: every requested output. */
  play?: OutputKind[];
  maxBufferedMs?: number;
}

export interface WorkletStream {
  session: LivestemSession;
  /** One player node per played kind (stereo out); connect it to `context.destination` to hear it. */
  players: Map<OutputKind, AudioWorkletNode>;
  stop(): Promise<void>;
}

const WORKLET_SOURCE = `
class Capture extends AudioWorkletProcessor {
  constructor(options) {
    super();
    this.chunk = options.processorOptions.chunkSamples;
    this.l = new Float32Array(this.chunk); this.r = new Float32Array(this.chunk); this.n = 0;
  }
  process(inputs) {
    const input = inputs[0];
    if (!input || input.length === 0) return true;
    const l = input[0], r = input[1] || input[0];
    for (let i = 0; i < l.length; i++) {
      this.l[this.n] = l[i]; this.r[this.n] = r[i];
      if (++this.n === this.chunk) {
        this.port.postMessage([this.l, this.r], [this.l.buffer, this.r.buffer]);
        this.l = new Float32Array(this.chunk); this.r = new Float32Array(this.chunk); this.n = 0;
      }
    }
    return true;
  }
}
class Player extends AudioWorkletProcessor {
  constructor(options) {
    super();
    this.size = options.processorOptions.capacity;
    this.l = new Float32Array(this.size); this.r = new Float32Array(this.size);
    this.read = 0; this.fill = 0; this.dropped = 0; this.underruns = 0;
    this.port.onmessage = (ev) => {
      const [l, r] = ev.data;
      for (let i = 0; i < l.length; i++) {
        if (this.fill === this.size) { this.dropped += l.length - i; break; }
        const w = (this.read + this.fill) % this.size;
        this.l[w] = l[i]; this.r[w] = (r || l)[i]; this.fill++;
      }
    };
  }
  process(_inputs, outputs) {
    const out = outputs[0];
    const n = out[0].length;
    if (this.fill < n) { this.underruns++; if (this.underruns % 50 === 1) this.port.postMessage({ underruns: this.underruns, dropped: this.dropped }); return true; }
    for (let i = 0; i < n; i++) {
      out[0][i] = this.l[this.read]; if (out[1]) out[1][i] = this.r[this.read];
      this.read = (this.read + 1) % this.size; this.fill--;
    }
    return true;
  }
}
registerProcessor('livestem-capture', Capture);
registerProcessor('livestem-player', Player);
`;

const registered = new WeakMap<BaseAudioContext, Promise<void>>();

function registerWorklets(context: BaseAudioContext): Promise<void> {
  let done = registered.get(context);
  if (done === undefined) {
    const url = URL.createObjectURL(new Blob([WORKLET_SOURCE], { type: 'text/javascript' }));
    done = context.audioWorklet.addModule(url).finally(() => URL.revokeObjectURL(url));
    registered.set(context, done);
  }
  return done;
}

/** Streams `source` (any AudioNode) to livestem over WebSocket at the context's sample rate, stereo. */
export async function streamAudioNode(context: AudioContext, source: AudioNode, opts: WorkletStreamOptions): Promise<WorkletStream> {
  await registerWorklets(context);
  const session = await connect({ ...opts, sampleRate: context.sampleRate, channels: 2 });
  const chunkSamples = opts.chunkSamples ?? Math.round(context.sampleRate / 50);
  const capacity = Math.round((context.sampleRate * (opts.maxBufferedMs ?? 500)) / 1000);
  const players = new Map<OutputKind, AudioWorkletNode>();
  for (const kind of opts.play ?? session.ready.output.outputs) {
    const node = new AudioWorkletNode(context, 'livestem-player', { numberOfInputs: 0, outputChannelCount: [2], processorOptions: { capacity } });
    session.on(kind, (chunk) => node.port.postMessage(chunk.samples));
    players.set(kind, node);
  }
  const capture = new AudioWorkletNode(context, 'livestem-capture', { numberOfOutputs: 0, processorOptions: { chunkSamples } });
  // Writes are chained so backpressure from the socket delays the next chunk instead of reordering them.
  let writing: Promise<void> = Promise.resolve();
  capture.port.onmessage = (ev: MessageEvent<Float32Array[]>) => {
    // While reconnecting the session buffers writes and resends them after the resume: keep feeding it.
    if (session.state !== 'open' && session.state !== 'reconnecting') return;
    writing = writing.then(() => session.write(ev.data));
  };
  source.connect(capture);
  return {
    session,
    players,
    async stop(): Promise<void> {
      source.disconnect(capture);
      capture.port.onmessage = null;
      await writing;
      if (session.state === 'open' || session.state === 'reconnecting') await session.end();
      await session.closed;
      for (const node of players.values()) node.disconnect();
    },
  };
}
